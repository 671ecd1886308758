/**
 * Part 1: server CPU per page, push vs. client fetch, for each page shape over each transport, every variant
 * under the same load (DEFAULT_RATE pages a second; `--closed-loop`: each as fast as it can). Six variants
 * per shape and transport (`--variants` picks some), alternated round by round with the order rotated:
 *
 * - `push`:          Nest + PushModule, `@Push` of the three assets, the client accepts push;
 * - `fetch-module`:  the same app (in a server process of its own), the client sends SETTINGS_ENABLE_PUSH=0
 *                    (as browsers do), gets the module's 103 Early Hints and GETs the three assets after the
 *                    page body;
 * - `fetch-plain`:   the same controllers without PushModule and without `@Push` (the app before adopting
 *                    the library), the client GETs the assets after the page body;
 * - `hand-push`:     diagnostic: the app without PushModule whose page pushes by hand (`pushStream`, then
 *                    the promised request to Fastify's router): what re-dispatching costs without the module;
 * - `raw-push`, `raw-fetch`: the node:http2 floor, pushing or serving the same bodies from memory.
 */
import type { Child } from './ipc';
import type { DriverConfig } from './load-driver';
import type { ServerSpec } from './server';
import { BODY_LENGTHS, PAGE_PATH, SHAPE_ASSETS, SHAPE_LABELS, type Shape } from './assets';
import {
  TRANSPORT_LABELS, cpuMs, drive, fmt, log, machineBusyPct, machineTicks, median, medianAndRange, startDriver, startServer, stopDriver,
  stopServer, table,
  target, type Server, type Transport,
} from './measure';

export const CONNECTIONS = 4;
export const STREAMS = 8;
/**
 * Pages a second every variant serves (open loop), below what the slowest variant can do on 2 shared cores:
 * every variant then does the same work at the same pace, and a server's CPU per page does not depend on how
 * much it gets to batch when saturated (`--closed-loop`, the bench before issue 23: bench/CHANGES.md).
 */
export const DEFAULT_RATE = 1000;
/** The bar of issue 10: client fetch / push in server CPU per page, median of the rounds. */
const BAR = 1.0;
const STRETCH = 1.1;

export interface PushVsFetchSettings {
  rounds: number;
  runMs: number;
  warmupMs: number;
  /** `--variants`: a subset, to compare two or three variants over more rounds (ratios of absent ones are left out). */
  variants: readonly VariantKey[];
  /** `--rate`: open loop at this many pages a second (load-driver.ts `ratePerSec`). */
  ratePerSec?: number;
  nodeVersion: string;
}

export const VARIANT_KEYS = ['push', 'fetch-module', 'fetch-plain', 'hand-push', 'raw-push', 'raw-fetch'] as const;
export type VariantKey = (typeof VARIANT_KEYS)[number];

interface Variant {
  key: VariantKey;
  label: string;
  server: Server;
  mode: DriverConfig['mode'];
}

interface RunSample {
  pagesPerSec: number;
  serverUsPerPage: number;
  clientUsPerPage: number;
  serverCpuPct: number;
  clientCpuPct: number;
  informationalPerPage: number;
  /** Pages due while every slot of a connection was busy (open loop only): the server fell behind the rate. */
  late: number;
  /** Machine CPU used by neither the server nor the driver: kernel network work and any other process. */
  otherCpuPct: number;
}

export interface GroupResult {
  shape: Shape;
  transport: Transport;
  text: string;
  /** Per-round ratios, for the summary table. */
  ratios: Record<'fetchModule' | 'fetchPlain' | 'moduleVsHand' | 'moduleVsRaw' | 'rawFetch', number[]>;
}

/** Unmeasured load at the start of every measured run, on the same connections (see DriverConfig.warmupMs). */
const RUN_WARMUP_MS = 300;

async function runVariant(variant: Variant, durationMs: number, driver: Child, ratePerSec?: number): Promise<RunSample> {
  let before = 0;
  let machineBefore: ReturnType<typeof machineTicks>;
  const result = await drive(
    { ...target(variant.server), mode: variant.mode, connections: CONNECTIONS, streams: STREAMS, durationMs, warmupMs: RUN_WARMUP_MS, ratePerSec },
    async () => {
      before = await cpuMs(variant.server);
      machineBefore = machineTicks();
    },
    driver,
  );
  const machineAfter = machineTicks();
  const serverMs = (await cpuMs(variant.server)) - before;
  const assets = SHAPE_ASSETS[variant.server.spec.shape].length;
  // The driver fails a page that misses a promise or a body byte; these check its totals once more (pages in
  // flight at the mark may have had some of their assets before it).
  const counted = (result.pages - CONNECTIONS * STREAMS) * assets;
  if (variant.mode === 'push' && result.pushes < counted) throw new Error(`${variant.key}: ${result.pushes} pushes for ${result.pages} pages`);
  if (variant.mode === 'fetch' && result.assets < counted) throw new Error(`${variant.key}: ${result.assets} assets for ${result.pages} pages`);
  const serverCpuPct = (serverMs / result.elapsedMs) * 100;
  const clientCpuPct = (result.cpuMs / result.elapsedMs) * 100;
  return {
    pagesPerSec: result.pages / (result.elapsedMs / 1000),
    serverUsPerPage: (serverMs * 1000) / result.pages,
    clientUsPerPage: (result.cpuMs * 1000) / result.pages,
    serverCpuPct,
    clientCpuPct,
    informationalPerPage: result.informational / result.pages,
    late: result.late,
    // The driver's start-up is in the machine's window but not in its elapsed time: a small overestimate.
    otherCpuPct: machineBusyPct(machineBefore, machineAfter) - serverCpuPct - clientCpuPct,
  };
}

/** Every variant of one shape over one transport, alternated for `rounds` rounds. */
export async function pushVsFetch(shape: Shape, transport: Transport, settings: PushVsFetchSettings): Promise<GroupResult> {
  log(`1. push vs. fetch, shape ${shape}, ${transport}: starting servers`);
  const tls = transport === 'tls';
  // One server process per variant, the same app where two variants share it: the garbage one variant's
  // run leaves is then collected in its own later runs, never in another variant's (pushing and fetching
  // differ most in what survives to the old generation).
  const all: (Omit<Variant, 'server'> & { spec: ServerSpec })[] = [
    { key: 'push', label: 'push: PushModule, `@Push` of the 3 assets, client accepts push', spec: { app: 'nest', shape, push: true, tls }, mode: 'push' },
    { key: 'fetch-module', label: 'fetch, module loaded: same app, client sends ENABLE_PUSH=0, gets the 103, GETs the 3 assets after the page body', spec: { app: 'nest', shape, push: true, tls }, mode: 'fetch' },
    { key: 'fetch-plain', label: 'fetch, no module: same controllers without PushModule and `@Push`, client GETs the 3 assets after the page body', spec: { app: 'nest', shape, tls }, mode: 'fetch' },
    { key: 'hand-push', label: 'diagnostic: push by hand, no module: the app without PushModule whose page `pushStream`s the 3 assets and hands each promised request to Fastify\'s router', spec: { app: 'nest', shape, tls, handPush: true }, mode: 'push' },
    { key: 'raw-push', label: 'raw `node:http2`, push (floor)', spec: { app: 'raw', shape, tls }, mode: 'push' },
    { key: 'raw-fetch', label: 'raw `node:http2`, client GETs after the page body (floor)', spec: { app: 'raw', shape, tls }, mode: 'fetch' },
  ];
  const variants: Variant[] = [];
  for (const v of all) if (settings.variants.includes(v.key)) variants.push({ ...v, server: await startServer(v.spec) });
  const samples = new Map<VariantKey, RunSample[]>(variants.map((v) => [v.key, []]));
  const driver = startDriver();
  try {
    for (const variant of variants) await runVariant(variant, settings.warmupMs, driver, settings.ratePerSec); // warm-up, discarded
    for (let round = 0; round < settings.rounds; round++) {
      // Rotate the order each round: no variant always runs first or after the same neighbour.
      const order = variants.map((_, i) => variants[(i + round) % variants.length]);
      for (const variant of order) samples.get(variant.key)!.push(await runVariant(variant, settings.runMs, driver, settings.ratePerSec));
      log(`   round ${round + 1}/${settings.rounds}: ${variants.map((v) => `${v.key} ${fmt(samples.get(v.key)!.at(-1)!.serverUsPerPage)} µs/page`).join(', ')}`);
    }
  } finally {
    await Promise.all([stopDriver(driver), ...variants.map((v) => stopServer(v.server))]);
  }

  const med = (key: VariantKey, field: keyof RunSample) => median(samples.get(key)!.map((s) => s[field]));
  const perRound = (x: VariantKey, y: VariantKey, field: keyof RunSample = 'serverUsPerPage') =>
    samples.has(x) && samples.has(y) ? samples.get(x)!.map((s, i) => s[field] / samples.get(y)![i][field]) : [];
  const ratios = {
    fetchModule: perRound('fetch-module', 'push'),
    fetchPlain: perRound('fetch-plain', 'push'),
    moduleVsHand: perRound('push', 'hand-push'),
    moduleVsRaw: perRound('push', 'raw-push'),
    rawFetch: perRound('raw-fetch', 'raw-push'),
  };
  const verdict = (values: number[]) => {
    if (values.length === 0) return '';
    const m = median(values);
    return m >= STRETCH ? `≥ ${STRETCH}: **met, stretch too**` : m >= BAR ? `≥ ${BAR}: **met**` : `≥ ${BAR}: **not met**`;
  };
  const rows = variants.map((v) => [
    v.label,
    fmt(med(v.key, 'serverUsPerPage')),
    fmt(med(v.key, 'pagesPerSec')),
    `${fmt(med(v.key, 'serverCpuPct'))} %`,
    `${fmt(med(v.key, 'clientCpuPct'))} %`,
    fmt(med(v.key, 'clientUsPerPage')),
    `${fmt(Math.max(0, med(v.key, 'otherCpuPct')))} %`,
    med(v.key, 'informationalPerPage').toFixed(2),
    ...(settings.ratePerSec ? [fmt(samples.get(v.key)!.reduce((sum, s) => sum + s.late, 0))] : []),
  ]);
  const assets = SHAPE_ASSETS[shape];
  const text = [
    `#### ${SHAPE_LABELS[shape]} — ${TRANSPORT_LABELS[transport]} — Node ${settings.nodeVersion}`,
    '',
    `Page \`${PAGE_PATH}\` (${BODY_LENGTHS[PAGE_PATH]} B) + ${assets.map((p) => `\`${p}\` (${BODY_LENGTHS[p]} B)`).join(', ')}. ` +
      `${settings.rounds} rounds of ${settings.runMs / 1000} s per variant (each after ${RUN_WARMUP_MS} ms of unmeasured load on the same ` +
      `connections), order rotated each round, after a ${settings.warmupMs / 1000} s warm-up run of each variant.`,
    '',
    table(['variant', 'server CPU/page (µs)', 'pages/s', 'server CPU', 'client CPU', 'client CPU/page (µs)', 'rest of machine', '103s/page',
      ...(settings.ratePerSec ? ['pages late'] : [])], rows),
    '',
    table(['server CPU per page, ratio', 'median of rounds (range)', 'bar'], ([
      ['**headline:** fetch, no module / push', medianAndRange(ratios.fetchPlain), verdict(ratios.fetchPlain)],
      ['fetch, module loaded (103 and `Link` paid) / push', medianAndRange(ratios.fetchModule), verdict(ratios.fetchModule)],
      ['fetch, no module / push by hand (no module)', medianAndRange(perRound('fetch-plain', 'hand-push')), 'what re-dispatching alone leaves'],
      ['module push / push by hand', medianAndRange(ratios.moduleVsHand), 'the module\'s own work'],
      ['module push / raw push', medianAndRange(ratios.moduleVsRaw), 'as small as the pipeline allows'],
      ['raw fetch / raw push (protocol alone)', medianAndRange(ratios.rawFetch), ''],
      ['pages/s, push / fetch with module loaded', settings.ratePerSec ? 'n/a' : medianAndRange(perRound('push', 'fetch-module', 'pagesPerSec')), ''],
    ] as string[][]).filter((row) => !row[1].startsWith('n/a'))),
  ].join('\n');
  return { shape, transport, text, ratios };
}

/** The section: what was measured, one line per shape and transport, then each group's tables. */
export function pushVsFetchSection(groups: GroupResult[], settings: PushVsFetchSettings): string {
  const summary = groups.map((g) => [
    SHAPE_LABELS[g.shape],
    g.transport,
    medianAndRange(g.ratios.fetchPlain),
    medianAndRange(g.ratios.fetchModule),
    medianAndRange(g.ratios.moduleVsHand),
    medianAndRange(g.ratios.moduleVsRaw),
    medianAndRange(g.ratios.rawFetch),
  ]);
  return [
    `### 1. Server CPU per page, push vs. client fetch — Node ${settings.nodeVersion}`,
    '',
    'The bar (issue 23), the headline: **fetch from the app without the module / push ≥ 1.0** in server CPU per page (user + ' +
      `system time of the server process, thread pool included, divided by complete pages), median of per-round ratios; stretch ≥ ${STRETCH}. ` +
      'Fetch, no module: the same controllers without PushModule and `@Push`, whose client GETs the assets. The second column ' +
      '(issue 10\'s bar) compares with the same app whose client refuses push, which also pays for a 103 and `Link` headers. ' +
      'The apps with PushModule use `forRoot({ diarySize: 0, connectionPushBudget: false })`, so that every page of a persistent connection pushes. ' +
      (settings.ratePerSec
        ? `Load driver (node:http2, own process): **${fmt(settings.ratePerSec)} pages a second for every variant** (open loop), round-robin ` +
          `over ${CONNECTIONS} connections, at most ${STREAMS} pages in flight on each ("pages late": due while all ${STREAMS} were busy, ` +
          'over all rounds: the server fell behind the rate); '
        : `Load driver (node:http2, own process): ${CONNECTIONS} connections × ${STREAMS} pages in flight each, closed loop (\`--closed-loop\`); `) +
      'a page counts once it and its 3 assets are complete (pushed or fetched), and every body\'s length is checked. ' +
      'The fetching client always GETs the assets **after the page body**, whether or not a 103 named them first. ' +
      'CPU columns are in % of one core (2 cores = 200 %); "rest of machine" is what neither process used (kernel network ' +
      'work, other processes). Server CPU/page is the bar, not pages/s.',
    '',
    table(['shape', 'transport', '**fetch (no module) / push**', 'fetch (module loaded) / push', 'module push / push by hand', 'module push / raw push', 'raw fetch / raw push'], summary),
    '',
    ...groups.flatMap((g) => [g.text, '']),
  ].join('\n').trimEnd();
}
