/**
 * The soak: a Nest + Fastify HTTP/2 (h2c) server with PushModule in a child process, many node:http2
 * clients with random faults in this one, then the server's push counters, memory after GC and open
 * handles before and after, and a verdict. `runSoak()` is shared by `npm run soak` (soak/run.ts) and the
 * short version in `npm test` (test/soak.e2e-spec.ts). No __dirname here: jest runs this file as ESM.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { PushStats } from '../src';
import { DESTROY_MOMENTS, DESTROY_WAYS, runDestroyers, type DestroyersReport } from './destroyers';
import { drive, newDriverStats, type DriveEnd, type DriverStats } from './driver';
import type { FromServer, ServerSnapshot, ToServer } from './protocol';

export interface SoakOptions {
  /** The compiled server entry (dist-soak/soak/server.js). */
  serverEntry: string;
  /** Page requests of the measured run. */
  requests: number;
  /** Connections open at once. */
  connections: number;
  /** Page requests before the "before" measurement (JIT, lazy initialisation, caches). Default requests/20, 500 to 5000. */
  warmupRequests?: number;
  /** Page loads per connection, uniform in 1..max. Default 20. */
  maxPagesPerConnection?: number;
  /**
   * Pages of each of the two long connections that reset pushes for the whole measured run (one every push,
   * one a push in ten), out of `requests`. Default requests/50, at most 2,000.
   */
  longConnectionPages?: number;
  seed?: number;
  /** The whole soak, start to report; past it the run is cut short and fails. */
  maxDurationMs: number;
  /**
   * Pass bound on heapUsed growth, both measured after GC once every closed session was collected, the
   * "before" after the warm-up. Default 16 MiB: what legitimately stays is compiled code and inline caches
   * (under 1 MiB in a heap snapshot diff), while over 100,000 pages a leak of 168 B per page, 64 B per push
   * or 1.5 KiB per connection (a held session with its socket is about 2.7 KiB) goes over it. Any held
   * session, whatever its size, also fails the "closed sessions garbage-collected" check.
   */
  maxHeapGrowthBytes?: number;
  /** A page (with its pushes) not over after this long counts as an unexpected error. Default 15 s. */
  pageTimeoutMs?: number;
  /** How long to wait, after the clients closed, for the server's sessions and pushes to end. Default 15 s. */
  settleTimeoutMs?: number;
  /**
   * The server's Fastify `http2SessionTimeout` (Fastify's default is 72 s). On Node 20 a closed session
   * stays in memory until this idle timer fires (its destroy does not clear it), so the memory measurements
   * wait for that: with 72 s the soak would wait 72 s twice. Default 5 s.
   */
  sessionTimeoutMs?: number;
  /**
   * Connections besides the drive's, during the measured run, that each break themselves at one moment of a
   * page in one way (soak/destroyers.ts), 16 at a time, and reset storms. Default requests/20, at most 5,000;
   * 0: none.
   */
  destroyers?: number;
  /** Called every `progressIntervalMs` (default 10 s) with a one-line progress report. */
  onProgress?: (line: string) => void;
  progressIntervalMs?: number;
  /** Also write V8 heap snapshots of the server, before and after, into this directory (to chase a leak). */
  heapSnapshotDir?: string;
}

export interface SoakCheck {
  name: string;
  pass: boolean;
  detail: string;
}

export interface SoakReport {
  startedAt: string;
  seed: number;
  requests: number;
  connections: number;
  warmupRequests: number;
  durationMs: number;
  /** The measured drive only. */
  driveMs: number;
  /** Why the run ended early, if it did. */
  aborted?: string;
  client: DriverStats;
  /** The destroyers of the measured run, if any ran. */
  destroyers?: DestroyersReport;
  /** Page handlers run by the server during the measured run. */
  served: number;
  pushes: { before: PushStats; after: PushStats; run: PushStats; completedByStatus: Record<string, number> };
  before?: ServerSnapshot;
  /** Right after the clients closed and the pushes ended, after GC: closed sessions still held by their idle timers. */
  afterClose?: ServerSnapshot;
  /** Once the closed sessions were released (after GC): the "after" of the pass criteria. */
  after?: ServerSnapshot;
  sessionTimeoutMs: number;
  /** Every closed session was garbage-collected within sessionTimeoutMs + 5 s. */
  released: boolean;
  /** Highest RSS seen in progress snapshots (no GC). */
  peakRss: number;
  heapGrowth?: number;
  rssGrowth?: number;
  maxHeapGrowthBytes: number;
  settled: boolean;
  child: { crashed: boolean; exit?: { code: number | null; signal: string | null }; stderrTail: string };
  checks: SoakCheck[];
  pass: boolean;
}

const MiB = 1024 * 1024;

/** The forked server, with request/answer snapshots over IPC. */
export class ServerChild {
  exit?: { code: number | null; signal: string | null };
  stopping = false;
  stderrTail = '';
  private nextId = 0;
  private readonly waiting = new Map<number, (snapshot: ServerSnapshot) => void>();

  private constructor(private readonly child: ChildProcess) {
    const keep = (chunk: Buffer) => (this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000));
    child.stderr?.on('data', keep);
    child.stdout?.on('data', keep);
    child.on('message', (message: FromServer) => {
      if (message.type === 'snapshot') this.waiting.get(message.id)?.(message.snapshot);
    });
    child.on('exit', (code, signal) => (this.exit = { code, signal }));
  }

  get crashed(): boolean {
    return this.exit !== undefined && !this.stopping;
  }

  static start(entry: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ server: ServerChild; port: number }> {
    // NODE_OPTIONS of the caller (jest's --experimental-vm-modules) are not the server's business.
    const child = fork(entry, [], {
      execArgv: ['--expose-gc'],
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const server = new ServerChild(child);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`soak server did not start: ${why}\n${server.stderrTail}`));
      };
      const timer = setTimeout(() => fail(`no 'ready' after ${timeoutMs} ms`), timeoutMs);
      child.on('message', (message: FromServer) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve({ server, port: message.port });
        } else if (message.type === 'fatal') fail(message.error);
      });
      child.once('exit', (code, signal) => fail(`exited (${code ?? signal})`));
      child.once('error', (error) => fail(error.message));
    });
  }

  snapshot(gc: boolean, timeoutMs = 10_000, heapSnapshotFile?: string): Promise<ServerSnapshot> {
    if (this.exit) return Promise.reject(new Error('the server exited'));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no snapshot from the server after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (snapshot) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(snapshot);
      });
      this.child.send((heapSnapshotFile ? { type: 'heap-snapshot', id, file: heapSnapshotFile } : { type: 'snapshot', id, gc }) satisfies ToServer);
    });
  }

  /** Asks the server to close and exit; kills it if it has not after `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.exit) return;
    this.stopping = true;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'stop' } satisfies ToServer);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

/** Small seeded PRNG (mulberry32): a run can be repeated with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ended = (s: PushStats) => s.completed + s.cancelled + s.failed;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function diffStats(after: PushStats, before: PushStats): PushStats {
  const refused = { ...after.refused };
  for (const reason of Object.keys(refused) as (keyof PushStats['refused'])[]) refused[reason] -= before.refused[reason] ?? 0;
  return {
    promised: after.promised - before.promised,
    completed: after.completed - before.completed,
    cancelled: after.cancelled - before.cancelled,
    failed: after.failed - before.failed,
    hinted: after.hinted - before.hinted,
    bytes: after.bytes - before.bytes,
    refused,
  };
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const startedAt = new Date();
  const start = Date.now();
  const deadline = start + options.maxDurationMs;
  const seed = options.seed ?? (Date.now() % 2 ** 31);
  const random = seededRandom(seed);
  const warmupRequests = options.warmupRequests ?? Math.min(5000, Math.max(500, Math.round(options.requests / 20)));
  const maxHeapGrowthBytes = options.maxHeapGrowthBytes ?? 16 * MiB;
  const settleTimeoutMs = options.settleTimeoutMs ?? 15_000;
  const pageTimeoutMs = options.pageTimeoutMs ?? 15_000;
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 5000;
  const client = newDriverStats();
  const warmupStats = newDriverStats();
  let aborted: string | undefined;
  let before: ServerSnapshot | undefined;
  let afterClose: ServerSnapshot | undefined;
  let after: ServerSnapshot | undefined;
  let released = false;
  let last: ServerSnapshot | undefined;
  let peakRss = 0;
  let driveMs = 0;
  let settled = false;
  let destroyers: DestroyersReport | undefined;

  const { server, port } = await ServerChild.start(options.serverEntry, { SOAK_SESSION_TIMEOUT_MS: String(sessionTimeoutMs) }, 30_000);
  const snapshot = async (gc: boolean, heapSnapshotFile?: string) => {
    const s = await server.snapshot(gc, heapSnapshotFile ? 120_000 : 10_000, heapSnapshotFile);
    last = s;
    peakRss = Math.max(peakRss, s.memory.rss);
    return s;
  };
  /** After the clients closed: sessions gone and every promised push ended (completed, cancelled or failed). */
  const settle = async (): Promise<boolean> => {
    const until = Date.now() + settleTimeoutMs;
    for (;;) {
      const s = await snapshot(false);
      if (s.openSessions === 0 && s.slowPending === 0 && s.stats.promised === ended(s.stats)) return true;
      if (Date.now() >= until || server.exit) return false;
      await sleep(100);
    }
  };
  /** Waits (GC, then look) until no closed session is reachable any more: their idle timers fired. */
  const release = async (): Promise<{ snapshot: ServerSnapshot; released: boolean }> => {
    const until = Date.now() + sessionTimeoutMs + 5000;
    for (;;) {
      const s = await snapshot(true);
      if (s.closedSessionsReachable === 0) return { snapshot: s, released: true };
      if (Date.now() >= until || server.exit) return { snapshot: s, released: false };
      await sleep(500);
    }
  };
  const longConnectionPages = options.longConnectionPages ?? Math.min(2000, Math.round(options.requests / 50));
  const driveWith = (requests: number, stats: DriverStats, longPages = 0): Promise<DriveEnd> =>
    drive({
      port, requests, stats, random, deadline, pageTimeoutMs, longConnectionPages: longPages,
      connections: options.connections,
      maxPagesPerConnection: options.maxPagesPerConnection ?? 20,
      shouldStop: () => server.exit !== undefined,
    });

  let progress: NodeJS.Timeout | undefined;
  try {
    const warmup = await driveWith(warmupRequests, warmupStats);
    if (warmup !== 'done') throw new Error(warmup === 'deadline' ? 'time limit reached during the warm-up' : 'the server exited during the warm-up');
    if (!(await settle())) throw new Error('the server did not settle after the warm-up');
    if (!(await release()).released) throw new Error('closed sessions of the warm-up still reachable');
    before = await snapshot(true, options.heapSnapshotDir && join(options.heapSnapshotDir, 'soak-before.heapsnapshot'));

    const driveStart = Date.now();
    if (options.onProgress) {
      let busy = false;
      progress = setInterval(() => {
        if (busy) return;
        busy = true;
        snapshot(false)
          .then((s) => {
            const seconds = (Date.now() - driveStart) / 1000;
            options.onProgress!(
              `${seconds.toFixed(0).padStart(4)} s  pages ${client.pagesSent}/${options.requests} ` +
                `(${Math.round(client.pagesSent / seconds)}/s)  promised ${s.stats.promised - before!.stats.promised}  ` +
                `sessions ${s.openSessions}  rss ${(s.memory.rss / MiB).toFixed(0)} MiB  heap ${(s.memory.heapUsed / MiB).toFixed(0)} MiB`,
            );
          })
          .catch(() => undefined)
          .finally(() => (busy = false));
      }, options.progressIntervalMs ?? 10_000);
    }
    const destroyerCount = options.destroyers ?? Math.min(5000, Math.round(options.requests / 20));
    const breaking = destroyerCount > 0
      ? runDestroyers({ port, connections: destroyerCount, concurrency: 16, random, resetStorms: 2 }).then((r) => (destroyers = r))
      : undefined;
    const end = await driveWith(options.requests, client, longConnectionPages);
    await breaking;
    driveMs = Date.now() - driveStart;
    clearInterval(progress);
    if (end === 'deadline') aborted = `time limit (${options.maxDurationMs} ms) reached after ${client.pagesSent} page requests`;
    if (end === 'stopped') aborted = 'the server process exited';
    settled = await settle();
    afterClose = await snapshot(true);
    released = (await release()).released;
    after = await snapshot(true, options.heapSnapshotDir && join(options.heapSnapshotDir, 'soak-after.heapsnapshot'));
  } catch (error) {
    aborted ??= (error as Error).message;
  } finally {
    clearInterval(progress);
    await server.stop();
  }

  after ??= last;
  const zero: PushStats = { promised: 0, completed: 0, cancelled: 0, failed: 0, hinted: 0, bytes: 0, refused: { http1: 0, disabled: 0, limit: 0, duplicate: 0, nested: 0, closed: 0, cached: 0, unwanted: 0, budget: 0 } };
  const pushesBefore = before?.stats ?? zero;
  const pushesAfter = after?.stats ?? zero;
  const heapGrowth = before && after?.gc ? after.memory.heapUsed - before.memory.heapUsed : undefined;
  const rssGrowth = before && after?.gc ? after.memory.rss - before.memory.rss : undefined;

  const checks: SoakCheck[] = [];
  const check = (name: string, pass: boolean, detail: string) => checks.push({ name, pass, detail });
  check('run completed within the time limit', !aborted && client.pagesSent === options.requests,
    aborted ?? `${client.pagesSent} page requests in ${(driveMs / 1000).toFixed(1)} s`);
  check('server did not crash', !server.crashed && server.exit?.code === 0,
    server.crashed ? `exited with ${server.exit?.code ?? server.exit?.signal}` : `exit code ${server.exit?.code ?? server.exit?.signal} after stop`);
  check('no uncaught exceptions in the server', !!after && after.uncaughtExceptions.length === 0,
    after ? `${after.uncaughtExceptions.length}${after.uncaughtExceptions.length ? `: ${after.uncaughtExceptions.slice(0, 3).join(' | ')}` : ''}` : 'no snapshot');
  check('no unhandled rejections in the server', !!after && after.unhandledRejections.length === 0,
    after ? `${after.unhandledRejections.length}${after.unhandledRejections.length ? `: ${after.unhandledRejections.slice(0, 3).join(' | ')}` : ''}` : 'no snapshot');
  check('no listener-leak warnings', !!after && !after.warnings.MaxListenersExceededWarning,
    after ? JSON.stringify(after.warnings) : 'no snapshot');
  check('every promised push ended', settled && pushesAfter.promised === ended(pushesAfter),
    `promised ${pushesAfter.promised} = completed ${pushesAfter.completed} + cancelled ${pushesAfter.cancelled} + failed ${pushesAfter.failed}` +
      (settled ? '' : ` (not settled after ${settleTimeoutMs} ms)`));
  check(`heap growth after GC < ${(maxHeapGrowthBytes / MiB).toFixed(0)} MiB`, heapGrowth !== undefined && heapGrowth < maxHeapGrowthBytes,
    heapGrowth === undefined ? 'not measured' : `${(heapGrowth / 1024).toFixed(0)} KiB (${(heapGrowth / Math.max(1, client.pagesSent)).toFixed(2)} B per page request)`);
  const leftOver = before && after
    ? Object.entries(after.resources).filter(([kind, n]) => n > (before!.resources[kind] ?? 0)).map(([kind, n]) => `${kind} ${before!.resources[kind] ?? 0} → ${n}`)
    : ['not measured'];
  check('no sessions or handles left in the server', !!after && after.openSessions === 0 && leftOver.length === 0,
    after ? `open sessions ${after.openSessions}; ${leftOver.length ? leftOver.join(', ') : 'active resources as before the run'}` : 'no snapshot');
  check('closed sessions garbage-collected', released && after?.closedSessionsReachable === 0,
    after
      ? `${after.closedSessionsReachable} of ${after.sessions} still reachable once their ${sessionTimeoutMs} ms idle timers fired` +
          ` (${afterClose?.closedSessionsReachable ?? '?'} right after the clients closed)`
      : 'no snapshot');
  const long = Object.entries(client.long);
  check('clients resetting pushes kept their connection', long.length > 0 && long.every(([, l]) => l.lost === undefined && l.pagesOk === l.pages),
    long.length === 0
      ? 'no long connection ran'
      : long.map(([kind, l]) => `${kind}: ${l.pagesOk}/${l.pages} pages on one connection, ${l.pushesReset} of ${l.pushesPromised} pushes reset` +
          (l.lost ? ` (lost: ${l.lost})` : '')).join('; '));
  const pairs = DESTROY_MOMENTS.length * DESTROY_WAYS.length;
  check('destroyers broke connections at every moment of a page, in every way', destroyers === undefined || (Object.keys(destroyers.broken).length === pairs && destroyers.notConnected === 0),
    destroyers === undefined
      ? 'none ran'
      : `${Object.keys(destroyers.broken).length} of ${pairs} moment × way pairs; ${destroyers.notConnected} not connected; reset storms ended by the server ${destroyers.stormsEnded} of 2`);
  const unexpected = Object.values(client.unexpectedErrors).reduce((a, b) => a + b, 0);
  check('well-behaved clients saw no errors', unexpected === 0 && client.cleanPagesOk === client.cleanPages,
    `${client.cleanPagesOk}/${client.cleanPages} clean pages 200 and complete; ${unexpected} unexpected errors` +
      (client.unexpectedSamples.length ? `: ${client.unexpectedSamples.slice(0, 3).join(' | ')}` : ''));

  return {
    startedAt: startedAt.toISOString(),
    seed,
    requests: options.requests,
    connections: options.connections,
    warmupRequests,
    durationMs: Date.now() - start,
    driveMs,
    aborted,
    client,
    destroyers,
    served: (after?.pages ?? 0) - (before?.pages ?? 0),
    pushes: { before: pushesBefore, after: pushesAfter, run: diffStats(pushesAfter, pushesBefore), completedByStatus: after?.completedByStatus ?? {} },
    before,
    afterClose,
    after,
    sessionTimeoutMs,
    released,
    peakRss,
    heapGrowth,
    rssGrowth,
    maxHeapGrowthBytes,
    settled,
    child: { crashed: server.crashed, exit: server.exit, stderrTail: server.stderrTail },
    checks,
    pass: checks.every((c) => c.pass),
  };
}
