/**
 * A benchmarked server in its own process: `node server.js push|nopush|raw|hooks|als|interceptor|als-interceptor`. Sends `{ type: 'ready', port }`,
 * then answers `cpu` (process.cpuUsage) and `mem` (process.memoryUsage after a full GC when run with
 * --expose-gc) until `stop`, which exits normally so that --cpu-prof can write its profile.
 */
import { reportErrors } from './ipc';
import { startNestApp, startRawServer, type RunningServer } from './apps';

reportErrors();

async function main(): Promise<void> {
  const kind = process.argv[2];
  let server: RunningServer;
  if (kind === 'push') server = await startNestApp({ push: true });
  else if (kind === 'nopush') server = await startNestApp({});
  else if (kind === 'als') server = await startNestApp({ als: true });
  else if (kind === 'hooks') server = await startNestApp({ hooks: true });
  else if (kind === 'interceptor') server = await startNestApp({ interceptor: true });
  else if (kind === 'als-interceptor') server = await startNestApp({ als: true, interceptor: true });
  else if (kind === 'raw') server = await startRawServer();
  else throw new Error(`unknown server kind ${kind}`);

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
