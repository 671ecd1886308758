/**
 * The load driver, in its own process (h2load cannot take pushes: it sends SETTINGS_ENABLE_PUSH=0).
 * Opens `connections` HTTP/2 sessions (h2c, or TLS when `ca` is given) with `streams` page fetches in
 * flight on each, closed loop, for `durationMs` (or until `maxPages` pages), reads every byte of every
 * response and pushed response and checks each body's length. A page counts when it and its three assets
 * are complete:
 *
 * - `push`:  SETTINGS_ENABLE_PUSH=1; GET the page; its three assets arrive as pushed streams (matched to
 *            their page by the `user-agent` the promised request inherits);
 * - `fetch`: SETTINGS_ENABLE_PUSH=0, as browsers send; GET the page, then, once its body is in, GET the
 *            three assets (always after the body, also when a 103 Early Hints named them earlier: the same
 *            client work whether the server sends hints or not);
 * - `page`:  SETTINGS_ENABLE_PUSH=0; GET the page only.
 *
 * `hold: true` (memory measurement): streams get a flow-control window of 0, so nothing but headers and
 * promises can be sent; once every page has its response headers (with `push`, its three promises; with
 * `fetch`, the page and the three assets are requested at once and all four answered) the driver reports
 * `holding` and keeps it all open until `release`.
 */
import * as http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { BODY_LENGTHS, PAGE_PATH } from './assets';
import { reportErrors } from './ipc';

reportErrors();

export type DriverMode = 'push' | 'fetch' | 'page';

export interface DriverConfig {
  /** `http://127.0.0.1:PORT` (h2c, prior knowledge) or `https://...` (TLS, ALPN h2). */
  url: string;
  /** The certificate to trust for `https:` (PEM). */
  ca?: string;
  /** The page's three assets. */
  assets: readonly string[];
  mode: DriverMode;
  connections: number;
  streams: number;
  durationMs?: number;
  /**
   * Unmeasured load before `durationMs`, on the same connections: the driver sends `{ type: 'mark' }` when
   * it ends (the orchestrator reads the server's CPU then) and counts only what completes after it. It
   * undoes what an idle pause did to the server (code flushed or deoptimized, cold caches).
   */
  warmupMs?: number;
  maxPages?: number;
  /**
   * Open loop: start this many pages per second (round-robin over the connections, at most `streams` in
   * flight on each; a page due while all are busy is not started and counted in `late`), instead of a
   * closed loop. Every variant then serves the same load, below what the slowest can do.
   */
  ratePerSec?: number;
  hold?: boolean;
  holdTimeoutMs?: number;
  /** Stay up for the next `run` message (measure.ts `startDriver`): one warmed-up client for every run. */
  persistent?: boolean;
}

export interface DriverResult {
  type: 'result';
  pages: number;
  pushes: number;
  assets: number;
  bytes: number;
  /** Informational (1xx) responses received, e.g. 103 Early Hints. */
  informational: number;
  errors: number;
  firstError?: string;
  /** With `ratePerSec`: pages that were due while every slot was busy (the server could not keep up). */
  late: number;
  elapsedMs: number;
  cpuMs: number;
}

const counts = { pages: 0, pushes: 0, assets: 0, bytes: 0, informational: 0, late: 0, errors: 0, firstError: undefined as string | undefined };

function fail(message: string): void {
  counts.errors++;
  counts.firstError ??= message;
}

/** One page fetch waiting for its pushed assets, by the user-agent its promises carry. */
interface PendingPage {
  pushesLeft: number;
  pageDone: boolean;
  promises: number;
  done: () => void;
  /** For the report on pages still incomplete at the end: pushed paths promised, and those complete. */
  promised?: string[];
  completed?: string[];
}

/** After the run's duration, how long in-flight pages may take to finish before they count as stuck. */
const DRAIN_MS = 5000;

function connect(url: string, config: DriverConfig): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, {
      ca: config.ca,
      // nghttp2 refuses promises beyond 200 reserved (promised, headers not yet sent) streams by default.
      maxReservedRemoteStreams: 10_000,
      settings: {
        enablePush: config.mode === 'push',
        initialWindowSize: config.hold ? 0 : 1 << 20,
        maxConcurrentStreams: 1000,
      },
    });
    session.once('connect', () => {
      if (!config.hold) session.setLocalWindowSize(8 << 20);
      resolve(session);
    });
    session.once('error', reject);
  });
}

/** Reads a response to its end; resolves with its status and checks the length. */
function readBody(stream: http2.ClientHttp2Stream, path: string, onHeaders?: () => void): Promise<void> {
  return new Promise((resolve) => {
    let status = 0;
    let bytes = 0;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      resolve();
    };
    const headers = (h: http2.IncomingHttpHeaders) => {
      status = Number(h[':status']);
      onHeaders?.();
    };
    stream.once('response', headers);
    // 1xx before the response (103 Early Hints, when the server sends them).
    stream.on('headers', () => counts.informational++);
    stream.once('push', headers);
    stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    stream.once('end', () => {
      counts.bytes += bytes;
      if (status !== 200) fail(`${path}: status ${status}`);
      else if (bytes !== BODY_LENGTHS[path]) fail(`${path}: ${bytes} bytes, expected ${BODY_LENGTHS[path]}`);
      settle();
    });
    stream.once('error', (error) => {
      fail(`${path}: ${error.message}`);
      settle();
    });
    stream.once('close', settle);
  });
}

let sequence = 0;

async function main(config: DriverConfig): Promise<void> {
  Object.assign(counts, { pages: 0, pushes: 0, assets: 0, bytes: 0, informational: 0, late: 0, errors: 0, firstError: undefined });
  let started = performance.now();
  let cpuStart = process.cpuUsage();
  const warmupMs = config.warmupMs ?? 0;
  const deadline = config.durationMs === undefined ? Infinity : started + warmupMs + config.durationMs;
  let issued = 0;
  const more = () => performance.now() < deadline && (config.maxPages === undefined || issued < config.maxPages);

  const sessions = await Promise.all(Array.from({ length: config.connections }, () => connect(config.url, config)));
  const pending = new Map<string, PendingPage>();
  for (const session of sessions) {
    session.on('error', (error) => fail(`session: ${error.message}`));
    session.on('stream', (stream: http2.ClientHttp2Stream, requestHeaders: http2.IncomingHttpHeaders) => {
      const path = String(requestHeaders[':path']);
      const page = pending.get(String(requestHeaders['user-agent']));
      if (!page) {
        fail(`push ${path} for no page`);
        stream.close(http2.constants.NGHTTP2_CANCEL);
        return;
      }
      page.promises++;
      (page.promised ??= []).push(path);
      if (config.hold) return;
      void readBody(stream, path).then(() => {
        (page.completed ??= []).push(path);
        counts.pushes++;
        if (--page.pushesLeft === 0 && page.pageDone) page.done();
      });
    });
  }

  /** One page and its assets, fetched the way `mode` says. */
  const fetchPage = (session: http2.ClientHttp2Session): Promise<void> => new Promise((resolve) => {
    issued++;
    const agent = `bench-${++sequence}`;
    const page: PendingPage = { pushesLeft: config.assets.length, pageDone: false, promises: 0, done: () => {
      pending.delete(agent);
      counts.pages++;
      resolve();
    } };
    if (config.mode === 'push') pending.set(agent, page);
    const request = session.request({ ':path': PAGE_PATH, 'user-agent': agent, accept: 'text/html' });
    void readBody(request, PAGE_PATH).then(async () => {
      if (config.mode === 'fetch') {
        await Promise.all(config.assets.map((path) =>
          readBody(session.request({ ':path': path, 'user-agent': agent, accept: '*/*' }), path).then(() => counts.assets++)));
      }
      page.pageDone = true;
      if (config.mode === 'push' && page.promises < config.assets.length) {
        // Promises come before the page's HEADERS: by the end of its body, all of them are in.
        fail(`page got ${page.promises} push promises, expected ${config.assets.length}: the server did not push them all`);
        page.done();
        return;
      }
      if (config.mode !== 'push' || page.pushesLeft === 0) page.done();
    });
  });

  if (config.hold) {
    await hold(sessions, config, pending);
    return;
  }

  const markTimer = warmupMs > 0 ? setTimeout(() => {
    // From here on the run is measured: counts restart, and so do the clock and the driver's CPU.
    Object.assign(counts, { pages: 0, pushes: 0, assets: 0, bytes: 0, informational: 0, late: 0 });
    started = performance.now();
    cpuStart = process.cpuUsage();
    process.send!({ type: 'mark' });
  }, Math.max(0, started + warmupMs - performance.now())) : undefined;
  const slots = config.ratePerSec ? openLoop(sessions, config, more, fetchPage) : Promise.all(sessions.flatMap((session) =>
    Array.from({ length: config.streams }, async () => {
      while (more()) await fetchPage(session);
    })));
  const endBy = warmupMs + (config.durationMs === undefined ? 60_000 : config.durationMs) + DRAIN_MS;
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    slots.then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, started + endBy - performance.now())))),
  ]);
  clearTimeout(timer);
  clearTimeout(markTimer);
  if (!drained) {
    for (const [agent, page] of pending) {
      fail(`page ${agent} incomplete ${DRAIN_MS} ms after the end: page body ${page.pageDone ? 'complete' : 'not complete'}, ` +
        `pushes promised [${page.promised?.join(', ') ?? ''}], complete [${page.completed?.join(', ') ?? ''}]`);
    }
    if (pending.size === 0) fail(`${config.mode}: requests still open ${DRAIN_MS} ms after the end`);
  }
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  for (const session of sessions) session.destroy();
  const result: DriverResult = {
    type: 'result',
    pages: counts.pages,
    pushes: counts.pushes,
    assets: counts.assets,
    bytes: counts.bytes,
    informational: counts.informational,
    errors: counts.errors,
    firstError: counts.firstError,
    late: counts.late,
    elapsedMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
  process.send!(result, () => {
    if (!config.persistent) process.exit(0);
  });
}

/** `ratePerSec` pages a second, each due time caught up at once after a late timer; resolves when the last page is done. */
async function openLoop(
  sessions: http2.ClientHttp2Session[], config: DriverConfig, more: () => boolean, fetchPage: (session: http2.ClientHttp2Session) => Promise<void>,
): Promise<void> {
  const interval = 1000 / config.ratePerSec!;
  const inFlight = sessions.map(() => 0);
  let next = performance.now();
  let turn = 0;
  let open = 0;
  let allDone: () => void = () => undefined;
  while (more()) {
    for (let now = performance.now(); next <= now; next += interval) {
      const i = turn++ % sessions.length;
      if (inFlight[i] >= config.streams) {
        counts.late++;
        continue;
      }
      inFlight[i]++;
      open++;
      void fetchPage(sessions[i]).then(() => {
        inFlight[i]--;
        if (--open === 0) allDone();
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, next - performance.now())));
  }
  if (open > 0) await new Promise<void>((resolve) => (allDone = resolve));
}

/**
 * Opens `maxPages` page requests (with `fetch`, each with its three asset requests) whose bodies cannot
 * flow, waits for their response headers and promises, holds.
 */
async function hold(sessions: http2.ClientHttp2Session[], config: DriverConfig, pending: Map<string, PendingPage>): Promise<void> {
  const expectedPromises = config.mode === 'push' ? config.assets.length : 0;
  const paths = config.mode === 'fetch' ? [PAGE_PATH, ...config.assets] : [PAGE_PATH];
  const total = (config.maxPages ?? 0) * paths.length;
  let answered = 0;
  const pages: PendingPage[] = [];
  for (let i = 0; i < (config.maxPages ?? 0); i++) {
    const session = sessions[i % sessions.length];
    const agent = `bench-${++sequence}`;
    const page: PendingPage = { pushesLeft: config.assets.length, pageDone: false, promises: 0, done: () => undefined };
    pending.set(agent, page);
    pages.push(page);
    for (const path of paths) {
      const request = session.request({ ':path': path, 'user-agent': agent, accept: path === PAGE_PATH ? 'text/html' : '*/*' });
      request.once('response', () => answered++);
      request.on('error', (error) => fail(`held ${path}: ${error.message}`));
    }
  }
  const until = performance.now() + (config.holdTimeoutMs ?? 20_000);
  while (answered < total || pages.some((p) => p.promises < expectedPromises)) {
    if (performance.now() > until) throw new Error(`hold: only ${answered}/${total} requests answered, ${pages.reduce((s, p) => s + p.promises, 0)} promises`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const promises = pages.reduce((sum, p) => sum + p.promises, 0);
  process.send!({ type: 'holding', pages: pages.length, requests: answered, promises, errors: counts.errors, firstError: counts.firstError });
  process.once('message', (message: { type: string }) => {
    if (message.type !== 'release') return;
    for (const session of sessions) session.destroy();
    process.send!({ type: 'released' }, () => process.exit(0));
  });
}

// A hard bound on any run: 2 minutes, or longer when the run is meant to be longer (part 6, a server under valgrind).
let bound = setTimeout(() => process.exit(2), 120_000).unref();
process.on('message', (message: DriverConfig & { type: string }) => {
  const runMs = (message.warmupMs ?? 0) + (message.durationMs ?? 60_000) + DRAIN_MS + 10_000;
  clearTimeout(bound);
  bound = setTimeout(() => process.exit(2), Math.max(120_000, runMs)).unref();
  if (message.type === 'run') void main(message).catch((error) => {
    process.send!({ type: 'error', error: String(error?.stack ?? error) }, () => process.exit(1));
  });
});
