/**
 * Part 6 (opt-in, `--parts=6`): instructions the server executes per page and per request, counted by
 * valgrind's callgrind. The server process runs under `valgrind --tool=callgrind`; after a warm-up load its
 * counters are zeroed (`callgrind_control -z`), the measured load runs, the counters are dumped
 * (`callgrind_control -d`) and the dump's total (all threads) is divided by the pages or requests. Counts
 * ignore other processes, unlike CPU time on a shared machine. A server starts in about a minute under
 * valgrind, so each app's server is started once and serves all its variants, as in part 1, each run with
 * its own warm-up.
 *
 * (a) shape (i) over h2c with part 1's driver: module push, module with the client fetching, the app
 *     without the module (fetch), raw node:http2 push and fetch;
 * (b) part 2's route without `@Push`, `h2load -n N -c 4 -m 10`: without the module, with it, with
 *     `learnedHints: true` (nothing learned).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PLAIN_PATH, SHAPE_ASSETS, SHAPE_LABELS } from './assets';
import type { DriverMode } from './load-driver';
import { drive, fmt, log, median, medianAndRange, pct, startServer, table, target, type Server } from './measure';
import { CONNECTIONS, STREAMS } from './push-vs-fetch';
import { findCommand } from './find-command';
import { runH2load } from './overhead';
import type { ServerSpec } from './server';

export interface InstructionSettings {
  rounds: number;
  warmupPages: number;
  pages: number;
  warmupRequests: number;
  requests: number;
  nodeVersion: string;
}

/** Bounds of one run under valgrind: generous, a loaded machine slows it several times. */
const MS_PER_PAGE = 1000;
const MS_PER_REQUEST = 200;
/** Where the dumps go (`<server>.<pid>.<n>`, one per run, in order): `callgrind_annotate` reads them. */
const DUMPS = join(__dirname, '..', 'callgrind');

const shape = 'nest';
const SERVERS = {
  module: { app: 'nest', shape, push: true },
  plain: { app: 'nest', shape },
  learned: { app: 'nest', shape, push: true, learnedHints: true },
  raw: { app: 'raw', shape },
} satisfies Record<string, ServerSpec>;
type ServerKey = keyof typeof SERVERS;

interface Variant {
  key: string;
  label: string;
  server: ServerKey;
  /** A page load through part 1's driver, or h2load on the route without `@Push`. */
  load: DriverMode | 'h2load';
}

const PAGE_VARIANTS: Variant[] = [
  { key: 'push', label: 'push: PushModule, `@Push` of the 3 assets, client accepts push', server: 'module', load: 'push' },
  { key: 'fetch-module', label: 'fetch, module loaded: same app, client sends ENABLE_PUSH=0, GETs the 3 assets after the page body', server: 'module', load: 'fetch' },
  { key: 'fetch-plain', label: 'fetch, no module: same controllers without PushModule and `@Push`', server: 'plain', load: 'fetch' },
  { key: 'raw-push', label: 'raw `node:http2`, push (floor)', server: 'raw', load: 'push' },
  { key: 'raw-fetch', label: 'raw `node:http2`, client GETs after the page body (floor)', server: 'raw', load: 'fetch' },
];
const ROUTE_VARIANTS: Variant[] = [
  { key: 'route-without', label: 'without PushModule', server: 'plain', load: 'h2load' },
  { key: 'route-module', label: 'with `PushModule.forRoot({ diarySize: 0, connectionPushBudget: false })`', server: 'module', load: 'h2load' },
  { key: 'route-learned', label: 'with the module and `learnedHints: true` (nothing learned)', server: 'learned', load: 'h2load' },
];

const callgrindControl = (bin: string, option: '-z' | '-d', pid: number) => execFileSync(bin, [option, String(pid)], { stdio: 'ignore', timeout: 120_000 });

/** The largest `summary:`/`totals:` count among the dumps of `prefix` that were not there `before`. */
function dumpedInstructions(prefix: string, before: Set<string>): number {
  let instructions = 0;
  for (const file of readdirSync(DUMPS).filter((f) => f.startsWith(prefix) && !before.has(f))) {
    const total = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(DUMPS, file), 'utf8'));
    if (total) instructions = Math.max(instructions, Number(total[1]));
  }
  if (!instructions) throw new Error(`no callgrind dump with a total for ${prefix}`);
  return instructions;
}

/** Drives `count` pages (or requests) against `server`; fails unless each one, with its three assets, completed. */
async function load(variant: Variant, server: Server, count: number, h2load: string): Promise<number> {
  if (variant.load === 'h2load') {
    const { served } = await runH2load(h2load, server, ['-n', String(count), '-c', '4', '-m', '10'], PLAIN_PATH, 60_000 + count * MS_PER_REQUEST);
    if (served !== count) throw new Error(`${variant.key}: ${served} of ${count} requests served`);
    return served;
  }
  const result = await drive({
    ...target(server), mode: variant.load, connections: CONNECTIONS, streams: STREAMS, maxPages: count, durationMs: 60_000 + count * MS_PER_PAGE,
  });
  const assets = variant.load === 'push' ? result.pushes : result.assets;
  if (result.pages !== count || assets !== count * SHAPE_ASSETS[shape].length) {
    throw new Error(`${variant.key}: ${result.pages} of ${count} pages, ${assets} assets`);
  }
  return result.pages;
}

/** One run on `variant`'s server: the warm-up, counters zeroed, the measured load, the dump. */
async function countRun(variant: Variant, server: Server, settings: InstructionSettings, bins: Tools): Promise<number> {
  const pages = variant.load !== 'h2load';
  await load(variant, server, pages ? settings.warmupPages : settings.warmupRequests, bins.h2load);
  const pid = server.child.process.pid!;
  callgrindControl(bins.callgrindControl, '-z', pid);
  const before = new Set(readdirSync(DUMPS));
  const count = await load(variant, server, pages ? settings.pages : settings.requests, bins.h2load);
  callgrindControl(bins.callgrindControl, '-d', pid);
  return dumpedInstructions(`${variant.server}.${pid}.`, before) / count;
}

interface Tools {
  valgrind: string;
  callgrindControl: string;
  h2load: string;
}

/** Seconds the part should take on a quiet machine (the servers' start under valgrind included). */
export function instructionsSeconds(settings: InstructionSettings): number {
  const pages = PAGE_VARIANTS.length * (settings.warmupPages + settings.pages) * 0.02;
  const requests = ROUTE_VARIANTS.length * (settings.warmupRequests + settings.requests) * 0.003;
  const firstWarmups = 3 * settings.warmupPages * 0.02 + settings.warmupRequests * 0.003;
  return 120 + firstWarmups + settings.rounds * (pages + requests);
}

export async function instructionsSection(settings: InstructionSettings): Promise<string> {
  const heading = `### 6. Instructions per page and per request (callgrind) — Node ${settings.nodeVersion}`;
  const [valgrind, callgrindControl, h2load] = ['valgrind', 'callgrind_control', 'h2load'].map(findCommand);
  if (!valgrind || !callgrindControl || !h2load) {
    const missing = [!valgrind && '`valgrind`', !callgrindControl && '`callgrind_control`', !h2load && '`h2load`'].filter(Boolean).join(', ');
    log(`6. instructions: skipped, ${missing} not found (Debian packages valgrind, nghttp2-client)`);
    return `${heading}\n\nSkipped: ${missing} not found (Debian packages \`valgrind\`, \`nghttp2-client\`).`;
  }
  const bins: Tools = { valgrind, callgrindControl, h2load };
  rmSync(DUMPS, { recursive: true, force: true });
  mkdirSync(DUMPS, { recursive: true });
  const variants = [...PAGE_VARIANTS, ...ROUTE_VARIANTS];
  const runs = new Map<string, number[]>(variants.map((v) => [v.key, []]));
  log('6. instructions: starting the servers under valgrind (about a minute)');
  const servers = new Map<ServerKey, Server>();
  try {
    await Promise.all(Object.entries(SERVERS).map(async ([key, spec]) => {
      const launcher = [valgrind, '--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${join(DUMPS, `${key}.%p`)}`, '--dump-line=no', '-q'];
      servers.set(key as ServerKey, await startServer(spec, [], launcher));
    }));
    // A fresh server's first run counted 1.5–2.5 times more (V8 still compiling, its compiler threads count too):
    // each server first takes one unmeasured warm-up load of its first variant's kind.
    for (const [key, server] of servers) {
      const first = variants.find((v) => v.server === key)!;
      await load(first, server, first.load === 'h2load' ? settings.warmupRequests : settings.warmupPages, h2load);
    }
    for (let round = 0; round < settings.rounds; round++) {
      // Rotated each round, as in the other parts (the counts should not depend on the order; this shows it).
      for (const variant of variants.map((_, i) => variants[(i + round) % variants.length])) {
        const started = Date.now();
        runs.get(variant.key)!.push(await countRun(variant, servers.get(variant.server)!, settings, bins));
        log(`6. instructions, round ${round + 1}/${settings.rounds}: ${variant.key} ${fmt(runs.get(variant.key)!.at(-1)! / 1000)}k per ` +
          `${variant.load === 'h2load' ? 'request' : 'page'} (${fmt((Date.now() - started) / 1000)} s)`);
      }
    }
  } finally {
    // No final dump needed: SIGKILL ends valgrind at once.
    for (const server of servers.values()) server.child.process.kill('SIGKILL');
    await Promise.all([...servers.values()].map((server) => server.child.exited));
  }

  const k = (value: number, digits = 0) => fmt(value / 1000, digits);
  const rows = (list: Variant[], digits: number, base?: string) => list.map((v) => {
    const values = runs.get(v.key)!;
    return [v.label, k(median(values), digits), values.map((x) => k(x, digits)).join(', '),
      ...(base ? [v.key === base ? '' : pct((median(values) / median(runs.get(base)!) - 1) * 100)] : [])];
  });
  const perRun = (x: string, y: string) => runs.get(x)!.map((value, i) => value / runs.get(y)![i]);
  const assets = SHAPE_ASSETS[shape];
  return [
    heading,
    '',
    'Each app\'s server runs under `valgrind --tool=callgrind --smc-check=all-non-file --dump-line=no` and serves all its ' +
      'variants, as in part 1 (module push, module fetch and the route without `@Push` share one process). Before each run, ' +
      'a warm-up load of the same kind; then its counters are zeroed (`callgrind_control -z`), the measured load runs, and the ' +
      'instructions it executed (all its threads; `callgrind_control -d`) are divided by the pages or requests. Instruction ' +
      'counts ignore other processes, ' +
      `so they compare builds on a busy machine; a repeated run still moves by a few % (JIT and GC timing). ${settings.rounds} ` +
      `run${settings.rounds === 1 ? '' : 's'} per variant, the order rotated each round. ` +
      'The dumps are in `dist-bench/callgrind/` (`callgrind_annotate` reads them).',
    '',
    `#### 6a. Per page: ${SHAPE_LABELS[shape]}, h2c`,
    '',
    `Part 1's driver (${CONNECTIONS} connections × ${STREAMS} pages in flight), ${fmt(settings.warmupPages)} pages of warm-up, then ` +
      `${fmt(settings.pages)} measured; page + ${assets.map((p) => `\`${p}\``).join(', ')}.`,
    '',
    table(['variant', 'k instructions/page, median', 'runs'], rows(PAGE_VARIANTS, 0)),
    '',
    table(['instructions per page, ratio', 'median of rounds (range)'], [
      ['fetch, module loaded / push', medianAndRange(perRun('fetch-module', 'push'))],
      ['fetch, no module / push', medianAndRange(perRun('fetch-plain', 'push'))],
      ['module push / raw push', medianAndRange(perRun('push', 'raw-push'))],
      ['raw fetch / raw push (protocol alone)', medianAndRange(perRun('raw-fetch', 'raw-push'))],
    ]),
    '',
    '#### 6b. Per request on a route without `@Push`',
    '',
    `\`h2load -n N -c 4 -m 10 http://127.0.0.1:PORT${PLAIN_PATH}\` (h2c): ${fmt(settings.warmupRequests)} requests of warm-up, then ` +
      `${fmt(settings.requests)} measured, on shape (i)'s app.`,
    '',
    table(['app', 'k instructions/request, median', 'runs', 'vs. without'], rows(ROUTE_VARIANTS, 1, 'route-without')),
  ].join('\n');
}
