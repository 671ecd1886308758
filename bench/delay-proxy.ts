/**
 * A TCP proxy that adds latency: every chunk is held RTT/2 in each direction, in order, and with `rate`
 * (bytes per second) a direction also serializes its bytes at that rate, like a link of that bandwidth.
 * The proxy accepts the client's connection at once, so TCP's own handshake is not delayed: measure on
 * an already-connected session.
 *
 * Run alone: `node delay-proxy.js <targetPort> <rttMs> [bytesPerSecond]` prints `{"port":N}` and, when
 * forked, sends `{ type: 'ready', port }`.
 */
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface DelayProxyOptions {
  targetPort: number;
  targetHost?: string;
  rttMs: number;
  /** Bytes per second in each direction; unlimited when left out. */
  rate?: number;
}

/** One direction of a connection: chunks leave in arrival order, each `delayMs` after it could be sent. */
class DelayedPipe {
  private readonly queue: { chunk: Buffer; due: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the link finishes serializing what it already holds (rate limit). */
  private linkFree = 0;
  private ended = false;

  constructor(
    private readonly to: net.Socket,
    private readonly delayMs: number,
    private readonly rate: number | undefined,
  ) {}

  push(chunk: Buffer): void {
    const now = performance.now();
    let sent = now;
    if (this.rate) {
      this.linkFree = Math.max(this.linkFree, now) + (chunk.length * 1000) / this.rate;
      sent = this.linkFree;
    }
    this.queue.push({ chunk, due: sent + this.delayMs });
    this.schedule();
  }

  end(): void {
    this.ended = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    if (this.queue.length === 0) {
      if (this.ended) this.to.end();
      return;
    }
    const wait = Math.max(0, this.queue[0].due - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    // setTimeout has millisecond granularity and may fire up to ~1 ms early: allow half a millisecond.
    const now = performance.now() + 0.5;
    while (this.queue.length > 0 && this.queue[0].due <= now) {
      const { chunk } = this.queue.shift()!;
      if (!this.to.destroyed) this.to.write(chunk);
    }
    this.schedule();
  }
}

export function startDelayProxy(options: DelayProxyOptions): Promise<net.Server> {
  const server = net.createServer({ noDelay: true }, (client) => {
    const upstream = net.connect({ port: options.targetPort, host: options.targetHost ?? '127.0.0.1', noDelay: true });
    const half = options.rttMs / 2;
    const toServer = new DelayedPipe(upstream, half, options.rate);
    const toClient = new DelayedPipe(client, half, options.rate);
    client.on('data', (chunk) => toServer.push(chunk));
    upstream.on('data', (chunk) => toClient.push(chunk));
    client.on('end', () => toServer.end());
    upstream.on('end', () => toClient.end());
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// Also imported by the browser test, which jest runs as an ES module (no `require`).
if (typeof require !== 'undefined' && require.main === module) {
  const [targetPort, rttMs, rate] = process.argv.slice(2).map(Number);
  if (!targetPort || Number.isNaN(rttMs)) {
    console.error('usage: node delay-proxy.js <targetPort> <rttMs> [bytesPerSecond]');
    process.exit(1);
  }
  process.on('disconnect', () => process.exit(0));
  void startDelayProxy({ targetPort, rttMs, rate: rate || undefined }).then((server) => {
    const { port } = server.address() as net.AddressInfo;
    if (process.send) process.send({ type: 'ready', port });
    else console.log(JSON.stringify({ port }));
  });
}
