/**
 * `npm run bench`: push throughput, the module's overhead on routes that push nothing, latency under a
 * 50 ms RTT, memory, and a CPU profile of the pushing server. Loopback only; every server, the load
 * driver and the proxies run in their own processes. Prints the tables and writes bench/RESULTS.md.
 *
 * Flags: --quick (fewer, shorter rounds), --no-profile, --rounds=N, --duration=MS (per run, part 1),
 * --only=1,2,3,4,5 (some parts only).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import type * as http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { BODY_LENGTHS, ASSET_PATHS, PAGE_PATH, PLAIN_PATH } from './assets';
import { forkChild, killChildren, type Child } from './ipc';
import { bareRequest, connectVia, pageThenAssets, pageWithEarlyHints, pageWithPushes } from './latency';
import type { DriverConfig, DriverResult } from './load-driver';
import { summariseProfile, type ProfileSummary } from './profile';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const given = argv.find((a) => a.startsWith(`--${name}=`));
  return given ? Number(given.slice(name.length + 3)) : fallback;
};
const QUICK = flag('quick');
/** `--only=1,5`: run only these parts (1 throughput, 2 overhead, 3 latency, 4 memory, 5 profile). */
const ONLY = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',').map(Number);
const part = (n: number) => !ONLY || ONLY.includes(n);
const PROFILE = !flag('no-profile');
const ROUNDS = option('rounds', QUICK ? 2 : 5);
const RUN_MS = option('duration', QUICK ? 1000 : 2500);
const CONNECTIONS = 4;
const STREAMS = 8;
const H2LOAD_ROUNDS = QUICK ? 1 : 3;
const H2LOAD_REQUESTS = QUICK ? 20_000 : 100_000;
const H2LOAD_WARMUP = 20_000;
const ROUTE_REQUESTS = QUICK ? 10_000 : 30_000;
const RTT_MS = 50;
const RATE = 1_000_000; // bytes/s (8 Mbit/s) for the bandwidth-limited latency rows
const LATENCY_SAMPLES = QUICK ? 8 : 20;
const PUSH_TOTAL = 10_000;
const HELD_PAGES = 1000;
/** 10 pages × 3 pushes stay under the module's default limit of 32 open pushes per connection. */
const HELD_PAGES_PER_CONNECTION = 10;
const PROFILE_MS = 4000;
/** Before starting, wait at most this long for other processes to leave the CPUs alone. */
const IDLE_WAIT_MS = 30_000;
/** The whole run is bounded (it takes about 2.5 minutes): past this, every child is killed and the run fails. */
const WATCHDOG_MS = 4.5 * 60_000;

const BENCH_DIR = join(__dirname, '..', '..', 'bench');
const PROFILE_DIR = join(__dirname, '..', 'profiles');

// ---------------------------------------------------------------------------------------------- helpers

/** Busy and total CPU time of the whole machine (Linux /proc/stat, in ticks); undefined elsewhere. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - fields[3] - fields[4], total };
  } catch {
    return undefined;
  }
}

/** Machine-wide busy CPU between two readings, in % of one core (so 2 busy cores = 200 %). */
function machineBusyPct(from: ReturnType<typeof machineTicks>, to: ReturnType<typeof machineTicks>): number {
  if (!from || !to || to.total === from.total) return NaN;
  return ((to.busy - from.busy) / (to.total - from.total)) * os.cpus().length * 100;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const fmt = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(1)} %`;
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
const table = (head: string[], rows: (string | number)[][]) => [
  `| ${head.join(' | ')} |`,
  `|${head.map(() => '---').join('|')}|`,
  ...rows.map((row) => `| ${row.join(' | ')} |`),
].join('\n');
const log = (text: string) => process.stderr.write(`${text}\n`);

interface Server {
  kind: string;
  child: Child;
  port: number;
  url: string;
}

async function startServer(kind: 'push' | 'nopush' | 'raw' | 'als' | 'hooks' | 'interceptor' | 'als-interceptor', execArgv: string[] = []): Promise<Server> {
  const child = forkChild('server', [kind], ['--expose-gc', ...execArgv]);
  const { port } = await child.next<{ port: number }>('ready', 30_000);
  return { kind, child, port, url: `http://127.0.0.1:${port}` };
}

async function stopServer(server: Server): Promise<void> {
  server.child.send({ type: 'stop' });
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
  if ((await Promise.race([server.child.exited, timeout])) === 'timeout') server.child.process.kill('SIGKILL');
}

async function cpuMs(server: Server): Promise<number> {
  const { usage } = await server.child.request<{ usage: NodeJS.CpuUsage }>({ type: 'cpu' }, 'cpu', 10_000);
  return (usage.user + usage.system) / 1000;
}

async function memory(server: Server): Promise<NodeJS.MemoryUsage> {
  const { usage } = await server.child.request<{ usage: NodeJS.MemoryUsage }>({ type: 'mem' }, 'mem', 10_000);
  return usage;
}

async function drive(config: DriverConfig): Promise<DriverResult> {
  const driver = forkChild('load-driver');
  try {
    const result = await driver.request<DriverResult>({ type: 'run', ...config }, 'result', (config.durationMs ?? 60_000) + 30_000);
    if (result.errors > 0) throw new Error(`${result.errors} errors in ${config.mode} run, first: ${result.firstError}`);
    return result;
  } finally {
    // A driver that failed or timed out may still be running: end it, then wait for it.
    if (driver.process.exitCode === null) setTimeout(() => driver.process.kill('SIGKILL'), 5000).unref();
    await driver.exited;
  }
}

// ------------------------------------------------------------------------------------ 1. push throughput

interface Variant {
  key: 'a' | 'b' | 'c' | 'd' | 'e';
  label: string;
  server: Server;
  mode: DriverConfig['mode'];
}

interface RunSample {
  pagesPerSec: number;
  pushesPerSec: number;
  assetsPerSec: number;
  serverCpuPct: number;
  clientCpuPct: number;
  serverUsPerPage: number;
  informationalPerPage: number;
  /** Machine CPU used by neither the server nor the driver: kernel network work and any other process. */
  otherCpuPct: number;
}

async function runVariant(variant: Variant, durationMs: number): Promise<RunSample> {
  const before = await cpuMs(variant.server);
  const machineBefore = machineTicks();
  const result = await drive({ url: variant.server.url, mode: variant.mode, connections: CONNECTIONS, streams: STREAMS, durationMs });
  const machineAfter = machineTicks();
  const serverMs = (await cpuMs(variant.server)) - before;
  const seconds = result.elapsedMs / 1000;
  const expected = variant.mode === 'push' ? result.pages * 3 : 0;
  if (result.pushes < expected) throw new Error(`${variant.key}: ${result.pushes} pushes for ${result.pages} pages`);
  return {
    pagesPerSec: result.pages / seconds,
    pushesPerSec: result.pushes / seconds,
    assetsPerSec: result.assets / seconds,
    serverCpuPct: (serverMs / result.elapsedMs) * 100,
    clientCpuPct: (result.cpuMs / result.elapsedMs) * 100,
    serverUsPerPage: (serverMs * 1000) / result.pages,
    informationalPerPage: result.informational / result.pages,
    // The driver's start-up is in the machine's window but not in its elapsed time: a small overestimate.
    otherCpuPct: machineBusyPct(machineBefore, machineAfter) - (serverMs / result.elapsedMs) * 100 - (result.cpuMs / result.elapsedMs) * 100,
  };
}

async function pushThroughput(): Promise<string> {
  log('1. push throughput: starting servers');
  const [push, raw, nopush] = [await startServer('push'), await startServer('raw'), await startServer('nopush')];
  const variants: Variant[] = [
    { key: 'a', label: 'Nest + PushModule, 3 assets pushed (`@Push`)', server: push, mode: 'push' },
    { key: 'b', label: 'raw `node:http2`, 3 assets pushed (floor)', server: raw, mode: 'push' },
    { key: 'c', label: 'Nest, no push: page, then 3 GETs by the client', server: nopush, mode: 'fetch' },
    { key: 'd', label: 'Nest, the page alone', server: nopush, mode: 'page' },
    { key: 'e', label: 'Nest + PushModule, client disables push: page, then 3 GETs', server: push, mode: 'fetch' },
  ];
  for (const variant of variants) await runVariant(variant, 1000); // warm-up, discarded
  const samples = new Map<string, RunSample[]>(variants.map((v) => [v.key, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round: no variant always runs first or after the same neighbour.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]);
    for (const variant of order) samples.get(variant.key)!.push(await runVariant(variant, RUN_MS));
    log(`   round ${round + 1}/${ROUNDS}: ${order.map((v) => `${v.key} ${fmt(samples.get(v.key)!.at(-1)!.pagesPerSec)} pages/s`).join(', ')}`);
  }
  await Promise.all([push, raw, nopush].map(stopServer));

  const med = (key: string, field: keyof RunSample) => median(samples.get(key)!.map((s) => s[field]));
  const ratio = (x: string, y: string, field: keyof RunSample) => median(samples.get(x)!.map((s, i) => s[field] / samples.get(y)![i][field]));
  const rows = variants.map((v) => [
    `(${v.key}) ${v.label}`,
    fmt(med(v.key, 'pagesPerSec')),
    v.mode === 'push' ? fmt(med(v.key, 'pushesPerSec')) : '–',
    v.mode === 'fetch' ? fmt(med(v.key, 'assetsPerSec')) : '–',
    fmt(med(v.key, 'serverUsPerPage')),
    `${fmt(med(v.key, 'serverCpuPct'))} %`,
    `${fmt(med(v.key, 'clientCpuPct'))} %`,
    `${fmt(Math.max(0, med(v.key, 'otherCpuPct')))} %`,
  ]);
  const range = (key: string) => {
    const values = samples.get(key)!.map((s) => s.pagesPerSec);
    return `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;
  };
  return [
    `### 1. Push throughput`,
    '',
    `Page (${BODY_LENGTHS[PAGE_PATH]} B) + 3 assets (${ASSET_PATHS.map((p) => `\`${p}\` ${BODY_LENGTHS[p]} B`).join(', ')}; ` +
      '`/static/app.css` is served by @fastify/static from a file, the others by Nest handlers). ' +
      'The apps with PushModule use `forRoot({ diarySize: 0 })`: by default the module pushes a resource only once per ' +
      'connection, and every page of this load must push. ' +
      `Load driver (node:http2, own process): ${CONNECTIONS} connections × ${STREAMS} pages in flight each, closed loop, ` +
      `every body read and its length checked; a page counts once it and its 3 assets are complete. ` +
      `${ROUNDS} rounds of ${RUN_MS / 1000} s per variant, variants alternated (order rotated each round) after a 1 s warm-up each; medians. ` +
      '"server CPU/page" is the server process\'s user+system CPU time divided by pages served: the cost that does not ' +
      'depend on which process is the bottleneck on 2 cores. CPU columns are in % of one core (2 cores = 200 %); ' +
      '"rest of machine" is what neither process used: kernel network work, thread-pool start-up, other processes.',
    '',
    table(['variant', 'pages/s', 'pushed streams/s', 'client GETs of assets/s', 'server CPU/page (µs)', 'server CPU', 'client CPU', 'rest of machine'], rows),
    '',
    `pages/s per round: ${variants.map((v) => `(${v.key}) ${range(v.key)}`).join(', ')}.`,
    '',
    table(['ratio (median of per-round ratios)', 'pages/s', 'server CPU per page', 'target'], [
      ['a/c (push vs. client fetching the assets)', ratio('a', 'c', 'pagesPerSec').toFixed(2), ratio('a', 'c', 'serverUsPerPage').toFixed(2), 'pages/s ≥ 1.1'],
      ['a/b (module vs. raw node:http2 floor)', ratio('a', 'b', 'pagesPerSec').toFixed(2), ratio('a', 'b', 'serverUsPerPage').toFixed(2), 'pages/s as high as possible'],
      ['a/e (push vs. client fetching, both with PushModule)', ratio('a', 'e', 'pagesPerSec').toFixed(2), ratio('a', 'e', 'serverUsPerPage').toFixed(2), ''],
      ['e/c (PushModule registered vs. not, no push)', ratio('e', 'c', 'pagesPerSec').toFixed(2), ratio('e', 'c', 'serverUsPerPage').toFixed(2), ''],
      ['a/d (page + 3 pushes vs. page alone)', ratio('a', 'd', 'pagesPerSec').toFixed(2), ratio('a', 'd', 'serverUsPerPage').toFixed(2), ''],
    ]),
    '',
    '(e) is not in the issue: it separates what push itself costs or saves (a/e, same server) from what registering ' +
      'PushModule costs on every request (e/c). 1xx (103 Early Hints) responses per page received by the client: ' +
      variants.map((v) => `(${v.key}) ${med(v.key, 'informationalPerPage').toFixed(2)}`).join(', ') + '.',
  ].join('\n');
}

// ------------------------------------------------------------------------- 2. overhead, routes without push

/** h2load from the PATH (Debian package nghttp2-client). */
function findH2load(): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v h2load'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() || undefined : undefined;
}

interface H2loadResult {
  reqPerSec: number;
  succeeded: number;
  serverUsPerReq: number;
}

async function h2load(bin: string, server: Server, requests: number, path = PLAIN_PATH): Promise<H2loadResult> {
  const before = await cpuMs(server);
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(bin, ['-n', String(requests), '-c', '8', '-m', '10', `${server.url}${path}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`h2load exited ${code}: ${text}`));
    });
  });
  const serverMs = (await cpuMs(server)) - before;
  const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(output);
  const done = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(output);
  const ok = /status codes: (\d+) 2xx/.exec(output);
  if (!rate || !done || !ok) throw new Error(`cannot read h2load output:\n${output}`);
  const succeeded = Number(ok[1]);
  if (succeeded !== requests) throw new Error(`h2load: ${succeeded}/${requests} 2xx responses:\n${output}`);
  return { reqPerSec: Number(rate[1]), succeeded, serverUsPerReq: (serverMs * 1000) / requests };
}

async function overhead(push: Server, nopush: Server): Promise<string> {
  const bin = findH2load();
  if (!bin) return '### 2. Overhead on routes that push nothing\n\nSkipped: `h2load` not found (Debian package `nghttp2-client`).';
  log('2. overhead on a route without @Push (h2load)');
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const hooks = await startServer('hooks');
  const als = await startServer('als');
  const interceptor = await startServer('interceptor');
  const both = await startServer('als-interceptor');
  const apps: { server: Server; label: string }[] = [
    { server: nopush, label: 'without PushModule' },
    { server: push, label: 'with `PushModule.forRoot({ diarySize: 0 })`' },
    { server: hooks, label: 'diagnostic: without PushModule + two no-op Fastify hooks (onRequest, preHandler)' },
    { server: als, label: 'diagnostic: without PushModule + the same two hooks entering an AsyncLocalStorage, as the module\'s do' },
    { server: interceptor, label: 'diagnostic: without PushModule + a no-op global interceptor (APP_INTERCEPTOR)' },
    { server: both, label: 'diagnostic: without PushModule + both (AsyncLocalStorage hooks and no-op global interceptor)' },
  ];
  for (const { server } of apps) await h2load(bin, server, H2LOAD_WARMUP); // warm-up
  const runs = new Map<Server, H2loadResult[]>(apps.map(({ server }) => [server, []]));
  for (let round = 0; round < H2LOAD_ROUNDS; round++) {
    const order = apps.map((_, i) => apps[(i + round) % apps.length]);
    for (const { server } of order) runs.get(server)!.push(await h2load(bin, server, H2LOAD_REQUESTS));
    log(`   round ${round + 1}/${H2LOAD_ROUNDS}: ${apps.map(({ server }) => `${server.kind} ${fmt(runs.get(server)!.at(-1)!.reqPerSec)}`).join(', ')} req/s`);
  }
  await Promise.all([hooks, als, interceptor, both].map(stopServer));
  const reqMed = (server: Server) => median(runs.get(server)!.map((r) => r.reqPerSec));
  const cpuMed = (server: Server) => median(runs.get(server)!.map((r) => r.serverUsPerReq));
  const base = reqMed(nopush);
  const baseCpu = cpuMed(nopush);
  const rows = apps.map(({ server, label }) => [
    label,
    runs.get(server)!.map((r) => fmt(r.reqPerSec)).join(', '),
    fmt(reqMed(server)),
    server === nopush ? '' : pct((reqMed(server) / base - 1) * 100),
    cpuMed(server).toFixed(1),
    server === nopush ? '' : pct((cpuMed(server) / baseCpu - 1) * 100),
  ]);
  return [
    '### 2. Overhead on routes that push nothing',
    '',
    `\`h2load -n ${H2LOAD_REQUESTS} -c 8 -m 10 http://127.0.0.1:PORT${PLAIN_PATH}\` (${version}, h2c prior knowledge) on a route ` +
      'without `@Push`, the same Nest app with and without `PushModule.forRoot()`, plus diagnostic apps without the module ' +
      `that each add one of the things the module adds to every request. ${H2LOAD_ROUNDS} runs each, alternated (order rotated), after a ` +
      `${fmt(H2LOAD_WARMUP)}-request warm-up run each; ${fmt(H2LOAD_REQUESTS)} requests per run because 20,000 take well under a second here.`,
    '',
    table(['app', 'req/s per run', 'median req/s', 'vs. without', 'server CPU/req (µs)', 'vs. without'], rows),
    '',
    `With PushModule: **${pct((reqMed(push) / base - 1) * 100)} req/s** on a route that pushes nothing (target: no more than 3 % slower).`,
    '',
    await routeCosts(bin, nopush),
  ].join('\n');
}

/** What each route of the page costs the server on its own (app without PushModule): explains part 1's totals. */
async function routeCosts(bin: string, nopush: Server): Promise<string> {
  log('   cost of each route alone');
  const paths = [PAGE_PATH, ...ASSET_PATHS, PLAIN_PATH];
  const rows: string[][] = [];
  for (const path of paths) {
    const result = await h2load(bin, nopush, ROUTE_REQUESTS, path);
    rows.push([`\`${path}\``, String(BODY_LENGTHS[path]), fmt(result.reqPerSec), result.serverUsPerReq.toFixed(1)]);
  }
  return [
    `#### 2b. Cost of each route alone`,
    '',
    `The same h2load command, ${fmt(ROUTE_REQUESTS)} requests per route, one run, on the app without PushModule.`,
    '',
    table(['route', 'body bytes', 'req/s', 'server CPU/req (µs)'], rows),
  ].join('\n');
}

// ------------------------------------------------------------------------------------------ 3. latency

async function startProxy(targetPort: number, rate?: number): Promise<{ child: Child; port: number }> {
  const child = forkChild('delay-proxy', [String(targetPort), String(RTT_MS), ...(rate ? [String(rate)] : [])]);
  const { port } = await child.next<{ port: number }>('ready', 10_000);
  return { child, port };
}

async function samplesOf(session: http2.ClientHttp2Session, fetch: (s: http2.ClientHttp2Session) => Promise<number>, count: number) {
  for (let i = 0; i < 3; i++) await fetch(session); // warm-up on this session
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push(await fetch(session));
  return times;
}

async function latency(push: Server, nopush: Server): Promise<string> {
  log(`3. latency through the delaying proxy (RTT ${RTT_MS} ms)`);
  const rows: string[][] = [];
  const describe = (label: string, times: number[], expectation: string) => {
    const med = median(times);
    rows.push([label, med.toFixed(1), quantile(times, 0.9).toFixed(1), (med / RTT_MS).toFixed(2), expectation]);
    return med;
  };

  // Self-check of the proxy, and the same request without it.
  const direct = await connectVia(nopush.port, false);
  describe('bare `GET /plain`, direct (no proxy)', await samplesOf(direct, bareRequest, LATENCY_SAMPLES), '≈ 0');
  direct.destroy();
  const proxies = [await startProxy(push.port), await startProxy(nopush.port), await startProxy(push.port, RATE), await startProxy(nopush.port, RATE)];
  const [pushProxy, nopushProxy, pushRated, nopushRated] = proxies;
  const bare = await connectVia(nopushProxy.port, false);
  const bareMed = describe('proxy self-check: bare `GET /plain` through the proxy', await samplesOf(bare, bareRequest, LATENCY_SAMPLES), '≈ 1 RTT');
  bare.destroy();

  const pair = async (pushPort: number, nopushPort: number, suffix: string) => {
    const withPush = await connectVia(pushPort, true);
    const without = await connectVia(nopushPort, false);
    // The PushModule server, push refused by the client: it gets a 103 naming the assets instead.
    const hinted = await connectVia(pushPort, false);
    for (let i = 0; i < 3; i++) {
      await pageWithPushes(withPush);
      await pageThenAssets(without);
      await pageWithEarlyHints(hinted);
    }
    // Alternate the three, sample by sample.
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      a.push(await pageWithPushes(withPush));
      b.push(await pageThenAssets(without));
      c.push(await pageWithEarlyHints(hinted));
    }
    withPush.destroy();
    without.destroy();
    hinted.destroy();
    const am = describe(`(a) page + 3 assets, pushed${suffix}`, a, '≈ 1 RTT + transfer');
    const bm = describe(`(b) page, then 3 GETs after its body${suffix}`, b, '≈ 2 RTT + transfer');
    describe(`(c) push refused: 103 Early Hints, 3 GETs on the 103${suffix}`, c, '≈ 2 RTT + transfer (no think time to hide it in)');
    return { am, bm };
  };
  const plain = await pair(pushProxy.port, nopushProxy.port, '');
  const rated = await pair(pushRated.port, nopushRated.port, `, ${RATE * 8 / 1e6} Mbit/s`);
  for (const proxy of proxies) {
    proxy.child.process.kill();
    await proxy.child.exited;
  }
  const bytes = BODY_LENGTHS[PAGE_PATH] + ASSET_PATHS.reduce((sum, p) => sum + BODY_LENGTHS[p], 0);
  return [
    `### 3. Latency under a ${RTT_MS} ms RTT`,
    '',
    `\`bench/delay-proxy\` holds every chunk ${RTT_MS / 2} ms in each direction (order kept). Measured on an **already-connected** ` +
      'HTTP/2 session (3 warm-up fetches on it first), so no TCP/TLS set-up is included; the proxy accepts the TCP connection ' +
      'locally, so it could not model the handshake RTT anyway (add 1 RTT for TCP, 1–2 for TLS, on a new connection). ' +
      `${LATENCY_SAMPLES} samples each, (a), (b) and (c) alternated. Bodies: ${bytes} B per page + assets. ` +
      'The page handler answers at once: early hints (c) can only win when the server thinks before answering (the Chromium ' +
      'test, test/browser.e2e-spec.ts, measures that with a 300 ms handler). ' +
      `The rate-limited rows add ${fmt(RATE)} B/s (${RATE * 8 / 1e6} Mbit/s) per direction, serialised by the proxy.`,
    '',
    table(['case', 'median ms', 'p90 ms', 'RTT multiples', 'expected'], rows),
    '',
    `Push saves ${(plain.bm - plain.am).toFixed(1)} ms (${((plain.bm - plain.am) / RTT_MS).toFixed(2)} RTT) per page at ${RTT_MS} ms RTT, ` +
      `${(rated.bm - rated.am).toFixed(1)} ms with the rate limit. Proxy self-check: ${bareMed.toFixed(1)} ms for a bare request ` +
      `(${(bareMed / RTT_MS).toFixed(2)} RTT).`,
  ].join('\n');
}

// ------------------------------------------------------------------------------------------- 4. memory

async function memorySection(nopush: Server): Promise<string> {
  log('4. memory');
  const push = await startServer('push');
  const rows: string[][] = [];
  const add = (label: string, usage: NodeJS.MemoryUsage) => rows.push([label, mb(usage.rss), mb(usage.heapUsed), mb(usage.heapTotal), mb(usage.external + usage.arrayBuffers)]);
  const pagesFor10k = Math.ceil(PUSH_TOTAL / 3);
  const start = await memory(push);
  add('push server after start', start);
  const first = await drive({ url: push.url, mode: 'push', connections: CONNECTIONS, streams: STREAMS, maxPages: pagesFor10k });
  const after1 = await memory(push);
  add(`after ${fmt(first.pushes)} pushes (${fmt(first.pages)} pages)`, after1);
  const second = await drive({ url: push.url, mode: 'push', connections: CONNECTIONS, streams: STREAMS, maxPages: pagesFor10k });
  const after2 = await memory(push);
  add(`after ${fmt(first.pushes + second.pushes)} pushes`, after2);

  // In-flight pushes: pages whose streams get a window of 0, so every pushed response stays open.
  const held = async (server: Server, mode: DriverConfig['mode']) => {
    const before = await memory(server);
    const driver = forkChild('load-driver');
    const holding = await driver.request<{ pages: number; promises: number; errors: number; firstError?: string }>(
      { type: 'run', url: server.url, mode, connections: HELD_PAGES / HELD_PAGES_PER_CONNECTION, streams: 1, maxPages: HELD_PAGES, hold: true },
      'holding', 40_000);
    if (holding.errors) throw new Error(`hold: ${holding.firstError}`);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the server finish dispatching the pushed requests
    const during = await memory(server);
    await driver.request({ type: 'release' }, 'released', 10_000);
    await driver.exited;
    return { before, during, holding };
  };
  const withPush = await held(push, 'push');
  const without = await held(nopush, 'page');
  add(`push server, ${fmt(withPush.holding.pages)} pages + ${fmt(withPush.holding.promises)} pushes held in flight`, withPush.during);
  await stopServer(push);
  type Held = typeof withPush;
  const field = (f: (u: NodeJS.MemoryUsage) => number) => (h: Held) => f(h.during) - f(h.before);
  const heap = field((u) => u.heapUsed);
  const external = field((u) => u.external + u.arrayBuffers);
  const delta = (h: Held) => heap(h) + external(h);
  const rssDelta = field((u) => u.rss);
  const pushes = withPush.holding.promises;
  const perPush = (delta(withPush) - delta(without)) / pushes;
  const perPushHeap = (heap(withPush) - heap(without)) / pushes;
  const perPushExternal = (external(withPush) - external(without)) / pushes;
  const perPushRss = (rssDelta(withPush) - rssDelta(without)) / pushes;
  const perPage = delta(without) / without.holding.pages;
  return [
    `### 4. Memory`,
    '',
    'Server process memory after a full GC (`--expose-gc`, `gc()` twice). 10,000 pushes = 3,334 pages with 3 pushes each, ' +
      `driven like part 1, then 10,000 more to see whether anything accumulates.`,
    '',
    table(['push server', 'RSS', 'heap used', 'heap total', 'external + array buffers'], rows),
    '',
    `Growth from the first to the second 10,000 pushes: heap ${pct(((after2.heapUsed - after1.heapUsed) / after1.heapUsed) * 100)} ` +
      `(${fmt((after2.heapUsed - after1.heapUsed) / 1024)} KB), RSS ${fmt((after2.rss - after1.rss) / 1024)} KB.`,
    '',
    `**In-flight push estimate**: ${fmt(HELD_PAGES)} page requests (${HELD_PAGES_PER_CONNECTION} per connection) whose streams have ` +
      'a flow-control window of 0 (headers and ' +
      'promises go out, no DATA), held open while the server is measured; the same on the app without PushModule. ' +
      `(heap + external) grew ${mb(delta(withPush))} with push (${fmt(withPush.holding.promises)} pushes) and ${mb(delta(without))} without ` +
      `(≈ ${fmt(perPage)} B per held page): **≈ ${fmt(perPush)} B per in-flight push** ` +
      `(JS heap ${fmt(perPushHeap)} B: the pushed request's Http2Stream, compat request/response, Fastify request/reply and Nest ` +
      `objects; external/array buffers ${fmt(perPushExternal)} B: buffers waiting for the window, for a body of ` +
      `${fmt(ASSET_PATHS.reduce((sum, p) => sum + BODY_LENGTHS[p], 0) / 3)} B on average; RSS ≈ ${fmt(perPushRss)} B). ` +
      'Part 1 keeps at most 24 pushes in flight per connection (8 pages × 3).',
  ].join('\n');
}

// ------------------------------------------------------------------------------------------ 5. profile

async function profileSection(): Promise<{ text: string; summary?: ProfileSummary }> {
  log(`5. CPU profile of the push server under variant (a), ${PROFILE_MS / 1000} s`);
  rmSync(PROFILE_DIR, { recursive: true, force: true });
  mkdirSync(PROFILE_DIR, { recursive: true });
  const server = await startServer('push', ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`]);
  await drive({ url: server.url, mode: 'push', connections: CONNECTIONS, streams: STREAMS, durationMs: 1000 }); // warm-up
  const now = async () => (await server.child.request<{ us: number }>({ type: 'now' }, 'now', 10_000)).us;
  const from = await now();
  const result = await drive({ url: server.url, mode: 'push', connections: CONNECTIONS, streams: STREAMS, durationMs: PROFILE_MS });
  const to = await now();
  await stopServer(server);
  const file = readdirSync(PROFILE_DIR).find((name) => name.endsWith('.cpuprofile'));
  if (!file) return { text: '### 5. Profile\n\nNo .cpuprofile was written.' };
  const summary = summariseProfile(join(PROFILE_DIR, file), 25, { from, to });
  const share = (ms: number) => `${((ms / summary.busyMs) * 100).toFixed(1)} %`;
  // @fastify/static's file I/O dominates the page; the last column shows how the rest divides.
  const STATIC_GROUPS = ['node fs', '@fastify/static (+send)'];
  const staticMs = summary.groups.filter((g) => STATIC_GROUPS.includes(g.group)).reduce((sum, g) => sum + g.ms, 0);
  return {
    summary,
    text: [
      '### 5. Where the push server\'s time goes (variant a)',
      '',
      `\`node --cpu-prof\` on the server process: 1 s warm-up, then ${PROFILE_MS / 1000} s of variant (a) ` +
        `(${fmt(result.pages / (result.elapsedMs / 1000))} pages/s while profiled; the profiler slows it). ` +
        (summary.windowed
          ? `Only the samples of those ${PROFILE_MS / 1000} s are counted (start-up, warm-up and shut-down left out): `
          : 'The whole profile is counted, start-up and shut-down included (the measured window could not be matched): ') +
        `${fmt(summary.totalMs)} ms sampled, ${fmt(summary.busyMs)} ms busy, ${fmt(summary.idleMs)} ms idle. ` +
        'Self time (time in the function itself, not its callees), in % of busy time. Profile file: `dist-bench/profiles/`.',
      '',
      table(['group', 'self ms', 'share', 'share without static-file I/O'], summary.groups.map((g) => [
        g.group,
        fmt(g.ms),
        share(g.ms),
        STATIC_GROUPS.includes(g.group) ? '' : `${((g.ms / (summary.busyMs - staticMs)) * 100).toFixed(1)} %`,
      ])),
      '',
      'Native functions (fs, http2 and stream bindings) are counted in the group of the JavaScript that called them; on 2 ' +
        'busy cores a sampled native call that wakes a thread-pool thread also collects the time the main thread then ' +
        'spends preempted, which inflates the fs rows (part 2b measures the CPU cost of each route directly).',
      '',
      `Top ${summary.top.length} functions by self time:`,
      '',
      table(['function', 'where', 'group', 'self ms', 'share'], summary.top.map((f) => [`\`${f.name}\``, f.location, f.group, fmt(f.ms, 1), share(f.ms)])),
      '',
      'Our module\'s functions by inclusive time (their synchronous callees included). `dispatch` holds the part of the pushed ' +
        'request\'s Fastify/Nest pipeline that runs before its first `await`; `enterNewContext` and `reenterContext` call ' +
        'Fastify\'s `done` inside `AsyncLocalStorage.run`, so their inclusive time is the rest of the request, not their own cost:',
      '',
      table(['function', 'where', 'self ms', 'inclusive ms', 'inclusive share'], summary.ours.map((f) => [`\`${f.name}\``, f.location, fmt(f.selfMs ?? 0, 1), fmt(f.ms, 1), share(f.ms)])),
    ].join('\n'),
  };
}

// ---------------------------------------------------------------------------------------------- main

function versionOf(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** Waits up to IDLE_WAIT_MS for a second in which the machine is nearly idle; returns the last second's load. */
async function waitForQuiet(): Promise<number> {
  const until = performance.now() + IDLE_WAIT_MS;
  let busy = NaN;
  do {
    const from = machineTicks();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    busy = machineBusyPct(from, machineTicks());
    if (!(busy > 10)) return busy;
  } while (performance.now() < until);
  log(`bench: warning: the machine is still ${busy.toFixed(0)} % busy (of one core) after ${IDLE_WAIT_MS / 1000} s; running anyway`);
  return busy;
}

async function main(): Promise<void> {
  const busyBefore = await waitForQuiet();
  const started = performance.now();
  const sections: string[] = [];
  if (part(1)) sections.push(await pushThroughput());
  if (part(2) || part(3) || part(4)) {
    const push = await startServer('push');
    const nopush = await startServer('nopush');
    if (part(2)) sections.push(await overhead(push, nopush));
    if (part(3)) sections.push(await latency(push, nopush));
    if (part(4)) sections.push(await memorySection(nopush));
    await Promise.all([stopServer(push), stopServer(nopush)]);
  }
  if (PROFILE && part(5)) sections.push((await profileSection()).text);

  const cpus = os.cpus();
  const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8', cwd: BENCH_DIR }).stdout?.trim() ?? '';
  const commit = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--', '../src') !== '';
  const command = ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' ');
  const header = [
    '# Benchmark results',
    '',
    `Generated by \`${command}\` (bench/run.ts) on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, ` +
      `in ${((performance.now() - started) / 1000).toFixed(0)} s (after the build).`,
    '',
    `Machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${fmt(os.totalmem() / 1073741824, 0)} GB RAM, ` +
      `${os.type()} ${os.release()}; Node ${process.version}; @nestjs/core ${versionOf('@nestjs/core')}, ` +
      `@nestjs/platform-fastify ${versionOf('@nestjs/platform-fastify')}, fastify ${versionOf('fastify')}, ` +
      `@fastify/static ${versionOf('@fastify/static')}. Cleartext HTTP/2 (h2c, prior knowledge) on 127.0.0.1; ` +
      'servers, load driver and proxies each in their own process.',
    '',
    `Machine load in the second before the run (after waiting up to ${IDLE_WAIT_MS / 1000} s for a quiet second): ` +
      `${Number.isNaN(busyBefore) ? 'unknown' : `${busyBefore.toFixed(0)} % of one core`}` +
      `${busyBefore > 10 ? ' — **not idle: other processes were running; compare ratios and CPU/page rather than absolute rates**' : ''}.`,
    '',
    `Library source measured: \`src/\` at commit ${commit || '?'}${dirty ? ' **plus uncommitted changes in src/**' : ''} ` +
      '(the bench compiles `src/` as it is). How to read these numbers and what to change: bench/README.md.',
  ].join('\n');
  // What was changed after profiling, with before/after figures: kept by hand, appended to every report.
  const changesFile = join(BENCH_DIR, 'CHANGES.md');
  const changes = existsSync(changesFile) ? [readFileSync(changesFile, 'utf8').trim()] : [];
  const report = [header, ...sections, ...changes].join('\n\n') + '\n';
  process.stdout.write(`\n${report}\n`);
  if (ONLY) {
    log('bench: --only given, bench/RESULTS.md left as it was');
  } else {
    writeFileSync(join(BENCH_DIR, 'RESULTS.md'), report);
    log(`bench: wrote bench/RESULTS.md in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
}

const watchdog = setTimeout(() => {
  log(`bench: still running after ${WATCHDOG_MS / 1000} s; stopping`);
  killChildren();
  process.exit(1);
}, WATCHDOG_MS);

main().then(
  () => {
    clearTimeout(watchdog);
    killChildren();
  },
  (error) => {
    log(`bench failed: ${error?.stack ?? error}`);
    killChildren();
    process.exit(1);
  },
);
process.on('SIGINT', () => {
  killChildren();
  process.exit(130);
});
