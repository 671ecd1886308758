/**
 * A benchmarked server in its own process: `node server.js '<ServerSpec as JSON>'`, with the TLS key and
 * certificate (when `tls`) in BENCH_TLS_KEY and BENCH_TLS_CERT. Sends `{ type: 'ready', port }`, then
 * answers `cpu` (process.cpuUsage), `now` (monotonic clock) and `mem` (process.memoryUsage after a full GC
 * when run with --expose-gc) until `stop`, which exits normally so that --cpu-prof can write its profile.
 */
import { reportErrors } from './ipc';
import { startNestApp, startRawServer, type NestAppOptions, type RunningServer } from './apps';

reportErrors();

/** `nest`: the Nest app (`push` adds PushModule and `@Push`); `raw`: the node:http2 floor. */
export type ServerSpec = { app: 'raw'; shape: NestAppOptions['shape']; tls?: boolean; strings?: boolean } | ({ app: 'nest'; tls?: boolean } & Omit<NestAppOptions, 'tls'>);

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as ServerSpec;
  const tls = spec.tls ? { key: process.env.BENCH_TLS_KEY!, cert: process.env.BENCH_TLS_CERT! } : undefined;
  const server: RunningServer = spec.app === 'raw' ? await startRawServer(spec.shape, tls, spec.strings) : await startNestApp({ ...spec, tls });

  process.on('message', async (message: { type: string }) => {
    if (message.type === 'cpu') {
      process.send!({ type: 'cpu', usage: process.cpuUsage() });
    } else if (message.type === 'now') {
      // Monotonic microseconds, the clock of --cpu-prof's sample timestamps: marks the window to analyse.
      process.send!({ type: 'now', us: Number(process.hrtime.bigint() / 1000n) });
    } else if (message.type === 'mem') {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) {
        // Twice, with a turn of the event loop between: closed streams release what they hold late.
        gc();
        await new Promise((resolve) => setImmediate(resolve));
        gc();
      }
      process.send!({ type: 'mem', usage: process.memoryUsage(), gc: !!gc });
    } else if (message.type === 'stop') {
      await Promise.race([server.close(), new Promise((resolve) => setTimeout(resolve, 2000))]);
      process.exit(0);
    }
  });
  process.send!({ type: 'ready', port: server.port });
}

void main();
