/**
 * Clients that break their connection at every point of a page's life (issue 25): each connection loads one
 * page that pushes (`/page`: three @Push() resources; `/service`: PushService pushes, one of them a handler
 * slower than the server's pushTimeoutMs) and breaks it once, at one moment and in one way. Every pair of
 * moment and way gets the same share of the connections, so a run covers them all.
 *
 * Moments, as the client sees them (the server is somewhere between): right after the request went out
 * (before the promise), after a random delay of up to 3 ms (anywhere: promise, dispatch, pushed handlers), at
 * the first PUSH_PROMISE (pushed handlers dispatched or about to be), at a pushed response's headers (pushed
 * handlers answering), at the page's headers, and once the page ended while a push is still open (after the
 * page, before the pushed streams closed).
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';

const { NGHTTP2_CANCEL, NGHTTP2_PROTOCOL_ERROR } = http2.constants;
const NODE_20 = process.versions.node.startsWith('20.');

export const DESTROY_MOMENTS = ['sent', 'delay', 'promise', 'pushed-response', 'page-response', 'page-end'] as const;
export const DESTROY_WAYS = ['socket-end', 'tcp-reset', 'session-destroy', 'goaway-then-close', 'page-reset-then-close'] as const;
export type DestroyMoment = (typeof DESTROY_MOMENTS)[number];
export type DestroyWay = (typeof DESTROY_WAYS)[number];
/** Moments a client that disabled push also reaches. */
const PUSHLESS_MOMENTS: ReadonlySet<DestroyMoment> = new Set(['sent', 'delay', 'page-response']);

export interface DestroyersOptions {
  port: number;
  /** Connections in all, spread evenly over every moment × way. */
  connections: number;
  /** Connections open at once. */
  concurrency: number;
  random: () => number;
  /** Connections besides, each resetting RESET_STORM of its requests (see resetStorm). */
  resetStorms?: number;
}

export interface DestroyersReport {
  /** `moment way` → connections broken that way at that moment (a moment the page never reached is not counted). */
  broken: Record<string, number>;
  /** Connections whose page ended before the chosen moment came (e.g. no push was promised). */
  missed: number;
  /** Connections that could not connect at all. */
  notConnected: number;
  /** Reset storms that made the server end their connection (GOAWAY or close) before their last reset. */
  stormsEnded: number;
}

/** Breaks `options.connections` connections; resolves when every one of them is closed. */
export async function runDestroyers(options: DestroyersOptions): Promise<DestroyersReport> {
  const report: DestroyersReport = { broken: {}, missed: 0, notConnected: 0, stormsEnded: 0 };
  const plans: { moment: DestroyMoment; way: DestroyWay; enablePush: boolean }[] = [];
  const combos = DESTROY_MOMENTS.length * DESTROY_WAYS.length;
  for (let i = 0; i < options.connections; i++) {
    const moment = DESTROY_MOMENTS[i % DESTROY_MOMENTS.length];
    // Every other round, the moments that need no push come from clients that disabled push: their pushes
    // become a 103 Early Hints, written a microtask later, when the stream may be gone.
    const enablePush = !PUSHLESS_MOMENTS.has(moment) || Math.floor(i / combos) % 2 === 0;
    plans.push({ moment, way: DESTROY_WAYS[Math.floor((i % combos) / DESTROY_MOMENTS.length)], enablePush });
  }
  let next = 0;
  let serial = 0;
  const worker = async () => {
    while (next < plans.length) {
      const plan = plans[next++];
      // /service?n=<multiple of 50> pushes the slow handler too: pushes stay open after the page.
      const path = plan.moment === 'page-end' || options.random() < 0.5 ? `/service?n=${50 * ++serial}` : '/page';
      const outcome = await breakOne(options.port, path, plan, options.random);
      if (outcome === 'broken') report.broken[`${plan.moment} ${plan.way}`] = (report.broken[`${plan.moment} ${plan.way}`] ?? 0) + 1;
      else if (outcome === 'missed') report.missed++;
      else report.notConnected++;
    }
  };
  const storms = Array.from({ length: options.resetStorms ?? 0 }, async () => {
    if (await resetStorm(options.port, options.random)) report.stormsEnded++;
  });
  await Promise.all([...Array.from({ length: options.concurrency }, worker), ...storms]);
  return report;
}

/** Requests a reset storm sends: more than the rapid-reset limit (1,000 at once, 33 more a second) lets through. */
export const RESET_STORM = 1500;

/**
 * A client resetting its requests while the server serves them (the rapid-reset attack, CVE-2023-44487): after
 * a PushService page with its pushes and 20 slow requests, up to RESET_STORM slow requests a millisecond apart,
 * each reset but one in 25, until the server ends the connection (the module's limit where it lifted the
 * transport's, else nghttp2's), which destroys the session with the requests left open still being served; the
 * socket is then destroyed at a random moment. Resolves true when the server ended the connection.
 */
export function resetStorm(port: number, random: () => number): Promise<boolean> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const ignore = () => undefined;
    session.on('error', ignore);
    let ended = false;
    session.on('goaway', () => (ended = true));
    session.once('close', () => (ended = true));
    session.on('stream', (push: http2.ClientHttp2Stream) => void push.on('error', ignore).resume());
    session.once('connect', async () => {
      const open = (path: string) => {
        const request = session.request({ ':path': path });
        request.on('error', ignore);
        request.resume();
        return request;
      };
      open('/service?n=0');
      for (let i = 0; i < 20; i++) open(`/asset/slow?storm=${i}`);
      for (let i = 0; i < RESET_STORM && !ended && !session.destroyed; i++) {
        let request: http2.ClientHttp2Stream;
        try {
          request = open(`/asset/slow?reset=${i}`);
        } catch {
          break; // the session went away between the check and the request
        }
        await new Promise((wait) => setTimeout(wait, 1)); // the server starts serving it
        // One in 25 stays open (answered after 600 ms): when the limit strikes, a score are being served.
        if (i % 25 !== 24 && !request.closed) request.close(NGHTTP2_CANCEL);
      }
      setTimeout(() => {
        session.destroy();
        resolve(ended);
      }, random() * 20);
    });
  });
}

function breakOne(
  port: number,
  path: string,
  { moment, way, enablePush }: { moment: DestroyMoment; way: DestroyWay; enablePush: boolean },
  random: () => number,
): Promise<'broken' | 'missed' | 'not connected'> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const session = http2.connect(`http://127.0.0.1:${port}`, { createConnection: () => socket, settings: { enablePush } });
    let fired = false;
    let page: http2.ClientHttp2Stream | undefined;
    // Whatever the server or the break does to this connection, it is expected: nothing here is an error.
    const ignore = () => undefined;
    session.on('error', ignore);
    socket.on('error', ignore);
    let finished = false;
    const finish = (outcome: 'broken' | 'missed' | 'not connected') => {
      if (finished) return;
      finished = true;
      clearTimeout(giveUp);
      if (!session.destroyed) session.destroy();
      resolve(outcome);
    };
    // A connection the server never ends (e.g. after our GOAWAY, pushes above its last stream id) is let go.
    const giveUp = setTimeout(() => finish(fired ? 'broken' : session.connecting ? 'not connected' : 'missed'), 5000);
    const fire = (at: DestroyMoment) => {
      if (fired || at !== moment) return;
      fired = true;
      switch (way) {
        case 'socket-end':
          socket.destroy();
          break;
        case 'tcp-reset':
          socket.resetAndDestroy();
          break;
        case 'session-destroy':
          // Node 20's client corrupts its own heap (malloc aborts) when its session is destroyed from a
          // stream's 'end' listener with pushes open; 22 and 24 do not: there, destroy at once.
          if (NODE_20) setImmediate(() => session.destroy());
          else session.destroy();
          break;
        case 'goaway-then-close':
          session.goaway(NGHTTP2_PROTOCOL_ERROR);
          setImmediate(() => socket.destroy());
          break;
        case 'page-reset-then-close':
          if (page && !page.closed) page.close(NGHTTP2_CANCEL);
          setImmediate(() => socket.destroy());
          break;
      }
    };
    session.once('close', () => finish(fired ? 'broken' : 'missed'));
    session.on('stream', (push: http2.ClientHttp2Stream) => {
      push.on('error', ignore);
      push.on('push', () => fire('pushed-response'));
      push.resume();
      fire('promise');
    });
    session.once('connect', () => {
      try {
        page = session.request({ ':path': path, 'accept-encoding': 'identity' });
      } catch {
        return finish('missed');
      }
      page.on('error', ignore);
      page.on('response', () => fire('page-response'));
      page.on('end', () => fire('page-end'));
      page.resume();
      setImmediate(() => fire('sent'));
      setTimeout(() => fire('delay'), random() * 3);
      // The page and its pushes ended before the moment came: close politely.
      page.on('close', () => setTimeout(() => !fired && finish('missed'), 1000));
    });
  });
}
