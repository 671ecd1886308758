/**
 * What every part of the bench shares: starting and stopping server processes, reading their CPU and
 * memory, running the load driver, the machine's load, statistics and table formatting.
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { forkChild, type Child } from './ipc';
import type { DriverConfig, DriverResult } from './load-driver';
import type { ServerSpec } from './server';
import { SHAPE_ASSETS } from './assets';

export type Transport = 'h2c' | 'tls';
export const TRANSPORTS: readonly Transport[] = ['h2c', 'tls'];
export const TRANSPORT_LABELS: Record<Transport, string> = { h2c: 'h2c (cleartext, prior knowledge)', tls: 'TLS (ALPN h2)' };

export const log = (text: string) => process.stderr.write(`${text}\n`);

// ------------------------------------------------------------------------------------------ servers

/** The self-signed certificate TLS servers use and drivers trust; set once by the orchestrator. */
let certificate: { key: string; cert: string } | undefined;
export function useCertificate(pems: { key: string; cert: string }): void {
  certificate = pems;
}

export interface Server {
  spec: ServerSpec;
  child: Child;
  port: number;
  url: string;
  /** The certificate a client must trust (TLS servers). */
  ca?: string;
}

/** `launcher`: see forkChild (part 6 runs the server under valgrind: a minute to start, many on a busy machine). */
export async function startServer(spec: ServerSpec, execArgv: string[] = [], launcher: string[] = []): Promise<Server> {
  if (spec.tls && !certificate) throw new Error('no certificate for a TLS server');
  const env = spec.tls ? { BENCH_TLS_KEY: certificate!.key, BENCH_TLS_CERT: certificate!.cert } : undefined;
  const child = forkChild('server', [JSON.stringify(spec)], ['--expose-gc', ...execArgv], env, launcher);
  const { port } = await child.next<{ port: number }>('ready', launcher.length ? 1_800_000 : 30_000);
  return { spec, child, port, url: `${spec.tls ? 'https' : 'http'}://127.0.0.1:${port}`, ca: spec.tls ? certificate!.cert : undefined };
}

export async function stopServer(server: Server): Promise<void> {
  server.child.send({ type: 'stop' });
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
  if ((await Promise.race([server.child.exited, timeout])) === 'timeout') server.child.process.kill('SIGKILL');
}

export async function cpuMs(server: Server): Promise<number> {
  const { usage } = await server.child.request<{ usage: NodeJS.CpuUsage }>({ type: 'cpu' }, 'cpu', 10_000);
  return (usage.user + usage.system) / 1000;
}

export async function memory(server: Server): Promise<NodeJS.MemoryUsage> {
  const { usage } = await server.child.request<{ usage: NodeJS.MemoryUsage }>({ type: 'mem' }, 'mem', 10_000);
  return usage;
}

/** The driver's settings for `server`: its URL, certificate and the page's assets. */
export function target(server: Server): Pick<DriverConfig, 'url' | 'ca' | 'assets'> {
  return { url: server.url, ca: server.ca, assets: SHAPE_ASSETS[server.spec.shape] };
}

/**
 * One load-driver run; fails on any error the driver saw. With `config.warmupMs`, `onMark` runs when the
 * unmeasured start ends (read the server's CPU there). The run gets a process of its own unless `driver`
 * (startDriver) is given: a driver that already ran is a warmed-up client, so every run of a comparison
 * loads its server the same way, not the first ones with a client still compiling its code.
 */
export async function drive(config: DriverConfig, onMark?: () => Promise<void>, driver?: Child): Promise<DriverResult> {
  const own = driver ?? forkChild('load-driver');
  const timeoutMs = (config.warmupMs ?? 0) + (config.durationMs ?? 60_000) + 30_000;
  try {
    const marked = config.warmupMs ? own.next('mark', timeoutMs).then(onMark) : Promise.resolve();
    marked.catch(() => undefined); // awaited below; a driver that fails first reports through `result`
    const result = await own.request<DriverResult>({ type: 'run', ...config, persistent: driver !== undefined }, 'result', timeoutMs);
    await marked;
    if (result.errors > 0) throw new Error(`${result.errors} errors in ${config.mode} run on ${config.url}, first: ${result.firstError}`);
    return result;
  } catch (error) {
    if (driver) await stopDriver(driver);
    throw error;
  } finally {
    if (!driver) await stopDriver(own);
  }
}

/** A load driver that stays up for several `drive()` runs; end it with stopDriver. */
export function startDriver(): Child {
  return forkChild('load-driver');
}

/** Ends a driver (one that failed or timed out may still be running), then waits for it. */
export async function stopDriver(driver: Child): Promise<void> {
  if (driver.process.exitCode === null) setTimeout(() => driver.process.kill('SIGKILL'), 5000).unref();
  // A persistent driver exits when its channel closes (ipc.ts reportErrors).
  if (driver.process.connected) driver.process.disconnect();
  await driver.exited;
}

// ------------------------------------------------------------------------------------ machine load

/** Busy and total CPU time of the whole machine (Linux /proc/stat, in ticks); undefined elsewhere. */
export function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - fields[3] - fields[4], total };
  } catch {
    return undefined;
  }
}

/** Machine-wide busy CPU between two readings, in % of one core (so 2 busy cores = 200 %). */
export function machineBusyPct(from: ReturnType<typeof machineTicks>, to: ReturnType<typeof machineTicks>): number {
  if (!from || !to || to.total === from.total) return NaN;
  return ((to.busy - from.busy) / (to.total - from.total)) * os.cpus().length * 100;
}

// ---------------------------------------------------------------------------------- stats and tables

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
export const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
export const fmt = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const pct = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(1)} %`;
export const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
export const table = (head: string[], rows: (string | number)[][]) => [
  `| ${head.join(' | ')} |`,
  `|${head.map(() => '---').join('|')}|`,
  ...rows.map((row) => `| ${row.join(' | ')} |`),
].join('\n');

/** "median (min–max)" of per-round values. */
export const medianAndRange = (values: number[], digits = 2) =>
  values.length === 0 ? 'n/a' : `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
