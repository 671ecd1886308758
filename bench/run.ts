/**
 * `npm run bench`: server CPU per page, push vs. client fetch (three page shapes, h2c and TLS), the
 * module's overhead on routes that push nothing, latency under a 50 ms RTT, memory, and CPU profiles of
 * push vs. fetch. Loopback only; every server, load driver and proxy runs in its own process. Prints the
 * tables; a full run writes its Node version's section of bench/RESULTS.md. `--help` lists the flags.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { selfSignedCertificate } from '../sample/main';
import { SHAPES, type Shape } from './assets';
import { killChildren } from './ipc';
import { TRANSPORTS, fmt, log, machineBusyPct, machineTicks, useCertificate, type Transport } from './measure';
import { DEFAULT_RATE, VARIANT_KEYS, pushVsFetch, pushVsFetchSection, type GroupResult, type VariantKey } from './push-vs-fetch';
import { findH2load, overheadSection } from './overhead';
import { latencySection } from './rtt';
import { memorySection } from './memory';
import { profileSection } from './cpu-profile';
import { instructionsSection, instructionsSeconds } from './instructions';
import { enablePinning, pinningNote } from './cpu-pinning';

const HELP = `npm run bench -- [flags]
  --parts=1,2,3,4,5     parts to run (1 push vs. fetch, 2 overhead, 3 latency, 4 memory, 5 profile); --only= is the same;
                        --parts=6 adds instructions under valgrind's callgrind (opt-in: not in the default set)
  --shapes=nest,static,mixed   page shapes of parts 1, 2b and 5 (5 profiles the first)
  --transports=h2c,tls  transports of part 1
  --rate=N              part 1: pages a second every variant serves (open loop; default ${DEFAULT_RATE})
  --closed-loop         part 1: each variant as fast as it can instead (4 connections × 8 pages in flight)
  --variants=push,fetch-plain,...   part 1: only these variants (push, fetch-module, fetch-plain, hand-push, raw-push, raw-fetch)
  --node=PATH           run the servers, drivers and clients under another Node binary
  --quick               fewer, shorter rounds (a smoke run, not for figures)
  --rounds=N --duration=MS   part 1: rounds, and milliseconds per variant per round; part 6: runs per variant (default 3)
  --no-profile          leave part 5 out
  --no-pin              leave processes to the scheduler (default: servers on the last core, load on core 0)
  --write               write bench/RESULTS.md even for a partial or quick run (a full run always does)`;

const argv = process.argv.slice(2);
const KNOWN = ['parts', 'only', 'shapes', 'transports', 'variants', 'rate', 'closed-loop', 'node', 'quick', 'rounds', 'duration', 'no-profile', 'no-pin', 'write', 'help'];
for (const arg of argv) {
  const name = /^--([a-z-]+)/.exec(arg)?.[1];
  if (!name || !KNOWN.includes(name)) {
    log(`bench: unknown argument ${arg}\n${HELP}`);
    process.exit(2);
  }
}
const flag = (name: string) => argv.includes(`--${name}`);
const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const list = <T extends string>(name: string, all: readonly T[]): readonly T[] => {
  const given = value(name)?.split(',');
  if (!given) return all;
  const wrong = given.filter((g) => !all.includes(g as T));
  if (wrong.length) {
    log(`bench: --${name}: unknown ${wrong.join(', ')} (one of ${all.join(', ')})`);
    process.exit(2);
  }
  return all.filter((a) => given.includes(a));
};

if (flag('help')) {
  log(HELP);
  process.exit(0);
}

// `--node=PATH`: run this very script under that binary; every child it forks then uses it too.
const NODE = value('node');
if (NODE && realpathSync(NODE) !== realpathSync(process.execPath)) {
  const result = spawnSync(NODE, [process.argv[1], ...argv], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

enablePinning(!flag('no-pin'));
const QUICK = flag('quick');
// Part 6 runs only when named (--parts=6 or --only=6): it takes about 12 minutes and needs valgrind.
const PARTS = list('parts', ['1', '2', '3', '4', '5', '6'] as const)
  .filter((p) => value('only') === undefined || value('only')!.split(',').includes(p))
  .filter((p) => p !== '6' || value('parts') !== undefined || value('only') !== undefined);
const part = (n: number) => PARTS.includes(String(n) as (typeof PARTS)[number]) && (n !== 5 || !flag('no-profile'));
const SHAPES_RUN = list<Shape>('shapes', SHAPES);
const TRANSPORTS_RUN = list<Transport>('transports', TRANSPORTS);
const NODE_VERSION = process.version;

const settings = {
  pushVsFetch: {
    rounds: Number(value('rounds') ?? (QUICK ? 2 : 7)),
    runMs: Number(value('duration') ?? (QUICK ? 1000 : 2000)),
    warmupMs: QUICK ? 500 : 4000,
    variants: list<VariantKey>('variants', VARIANT_KEYS),
    ratePerSec: flag('closed-loop') ? undefined : Number(value('rate') ?? DEFAULT_RATE),
    nodeVersion: NODE_VERSION,
  },
  overhead: {
    // Five rounds after 3 s of warm-up: with three after 1 s, Node 24's first round ran 30-60 % slower for
    // every app, and ratios of medians swung by ±30 % (bench/CHANGES.md).
    rounds: QUICK ? 1 : 5,
    seconds: QUICK ? 1 : 3,
    warmupSeconds: QUICK ? 1 : 3,
    routeSeconds: QUICK ? 1 : 2,
    shapes: SHAPES_RUN,
    nodeVersion: NODE_VERSION,
  },
  latency: { samples: QUICK ? 8 : 20, nodeVersion: NODE_VERSION },
  memory: { nodeVersion: NODE_VERSION },
  profile: { shape: SHAPES_RUN[0], durationMs: QUICK ? 2000 : 4000, nodeVersion: NODE_VERSION },
  instructions: {
    rounds: Number(value('rounds') ?? (QUICK ? 1 : 3)),
    warmupPages: QUICK ? 100 : 1000,
    pages: QUICK ? 50 : 600,
    warmupRequests: QUICK ? 200 : 1000,
    requests: QUICK ? 300 : 3000,
    nodeVersion: NODE_VERSION,
  },
};
/** Only a run of everything, at full length, replaces its Node version's section of RESULTS.md (or --write). */
const FULL = !QUICK && PARTS.join() === '1,2,3,4,5' && value('only') === undefined && !flag('no-profile') && SHAPES_RUN.length === SHAPES.length &&
  TRANSPORTS_RUN.length === TRANSPORTS.length && value('rounds') === undefined && value('duration') === undefined && value('variants') === undefined && value('rate') === undefined && !flag('closed-loop');

/** Seconds each part should take on this machine (start-ups, warm-ups, driver forks included). */
function expectedSeconds(): number {
  const p1 = settings.pushVsFetch;
  const n = p1.variants.length;
  const group = 6 + n * (p1.warmupMs / 1000 + 0.5) + p1.rounds * n * (p1.runMs / 1000 + 0.8);
  const o = settings.overhead;
  return 5 +
    (part(1) ? SHAPES_RUN.length * TRANSPORTS_RUN.length * group : 0) +
    (part(2) && findH2load() ? 10 + (7 + 3) * (o.warmupSeconds + o.rounds * o.seconds + 0.5) + SHAPES_RUN.length * (3 + 4 * (1 + o.routeSeconds + 0.5)) : 0) +
    (part(3) ? 10 + 12 * settings.latency.samples * 0.1 : 0) +
    (part(4) ? 35 : 0) +
    (part(5) ? 3 * (8 + settings.profile.durationMs / 1000) : 0) +
    (part(6) ? instructionsSeconds(settings.instructions) : 0);
}

const IDLE_WAIT_MS = 30_000;
const EXPECTED_S = expectedSeconds();
/**
 * Every child has its own hard time-out; past this, the whole run is stopped. Part 6 gets 7.5 times its
 * expected time: valgrind's pace follows the machine's load, and counting instructions is for busy machines.
 */
const WATCHDOG_MS = (2.5 * EXPECTED_S + 120 + (part(6) ? 5 * instructionsSeconds(settings.instructions) : 0)) * 1000 + IDLE_WAIT_MS;

const BENCH_DIR = join(__dirname, '..', '..', 'bench');
const RESULTS = join(BENCH_DIR, 'RESULTS.md');
/** Every run's report (and, while it runs, what it has so far). */
const LAST_RUN = join(__dirname, '..', `last-run-node${process.versions.node.split('.')[0]}.md`);

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
  log(`bench: the machine is still ${busy.toFixed(0)} % busy (of one core) after ${IDLE_WAIT_MS / 1000} s; running anyway`);
  return busy;
}

const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(', ');

/** RESULTS.md holds one section per Node major version, between these markers. */
const begin = (major: string) => `<!-- bench: node ${major} -->`;
const end = (major: string) => `<!-- bench: end node ${major} -->`;

function writeResults(section: string): void {
  const major = process.versions.node.split('.')[0];
  const sections = new Map<string, string>();
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '';
  for (const match of old.matchAll(/<!-- bench: node (\d+) -->\n([\s\S]*?)\n<!-- bench: end node \1 -->/g)) sections.set(match[1], match[2]);
  sections.set(major, section);
  const changesFile = join(BENCH_DIR, 'CHANGES.md');
  const changes = existsSync(changesFile) ? [readFileSync(changesFile, 'utf8').trim()] : [];
  const body = [...sections].sort(([a], [b]) => Number(a) - Number(b)).map(([m, text]) => `${begin(m)}\n${text}\n${end(m)}`);
  writeFileSync(RESULTS, [
    '# Benchmark results',
    'Written by `npm run bench` (bench/run.ts). Each full run replaces the section of the Node version it ran on ' +
      '(`npm run bench -- --node=PATH` runs under another binary); the sections may come from different days and loads, ' +
      'each says its own. How to read the tables: [README.md](README.md).',
    ...body,
    ...changes,
  ].join('\n\n') + '\n');
}

async function main(): Promise<void> {
  log(`bench: Node ${NODE_VERSION}, parts ${PARTS.filter((p) => part(Number(p))).join(',')}, shapes ${SHAPES_RUN.join(',')}, ` +
    `transports ${TRANSPORTS_RUN.join(',')}; expected about ${Math.ceil(EXPECTED_S / 60)} min (plus up to ${IDLE_WAIT_MS / 1000} s ` +
    `waiting for a quiet machine); watchdog at ${Math.ceil(WATCHDOG_MS / 60_000)} min`);
  const loadBefore = loadAverage();
  const busyBefore = await waitForQuiet();
  const started = performance.now();
  useCertificate(await selfSignedCertificate());
  const sections: string[] = [];
  // What is done so far goes to dist-bench/ at once: a run that fails later keeps it.
  const progress = (...more: string[]) => writeFileSync(LAST_RUN, `${[...sections, ...more].join('\n\n')}\n`);
  if (part(1)) {
    const groups: GroupResult[] = [];
    for (const shape of SHAPES_RUN) {
      for (const transport of TRANSPORTS_RUN) {
        groups.push(await pushVsFetch(shape, transport, settings.pushVsFetch));
        progress(pushVsFetchSection(groups, settings.pushVsFetch));
      }
    }
    sections.push(pushVsFetchSection(groups, settings.pushVsFetch));
  }
  const parts: [number, () => Promise<string>][] = [
    [2, () => overheadSection(settings.overhead)],
    [3, () => latencySection(settings.latency)],
    [4, () => memorySection(settings.memory)],
    [5, () => profileSection(settings.profile)],
    [6, () => instructionsSection(settings.instructions)],
  ];
  for (const [n, run] of parts) {
    if (!part(n)) continue;
    sections.push(await run());
    progress();
  }

  const seconds = (performance.now() - started) / 1000;
  const cpus = os.cpus();
  const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8', cwd: BENCH_DIR }).stdout?.trim() ?? '';
  const commit = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--', '../src') !== '';
  const command = ['npm run bench', ...(argv.length ? ['--', ...argv.map((a) => (a.startsWith('--node=') ? '--node=PATH' : a))] : [])].join(' ');
  const header = [
    `## Node ${NODE_VERSION}`,
    '',
    `Generated by \`${command}\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, in ${fmt(seconds / 60, 1)} min (after the build).`,
    '',
    `Machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${fmt(os.totalmem() / 1073741824, 0)} GB RAM, ` +
      `${os.type()} ${os.release()}; Node ${NODE_VERSION}; @nestjs/core ${versionOf('@nestjs/core')}, ` +
      `@nestjs/platform-fastify ${versionOf('@nestjs/platform-fastify')}, fastify ${versionOf('fastify')}, ` +
      `@fastify/static ${versionOf('@fastify/static')}. Servers, load drivers and proxies each in their own process, on 127.0.0.1. ` +
      pinningNote(),
    '',
    `**Machine load.** Load average (1, 5, 15 min) ${loadBefore} before the run, ${loadAverage()} after it (the bench itself keeps ` +
      `about 2 cores busy). Busy CPU in the last second before it started (after waiting up to ${IDLE_WAIT_MS / 1000} s for a quiet second): ` +
      `${Number.isNaN(busyBefore) ? 'unknown' : `${busyBefore.toFixed(0)} % of one core`}` +
      `${busyBefore > 10 ? ' — **not idle: other processes were running; compare ratios inside a round, not absolute rates**' : ''}. ` +
      'Part 1\'s "rest of machine" column shows what other processes took during each variant.',
    '',
    `Library source measured: \`src/\` at commit ${commit || '?'}${dirty ? ' **plus uncommitted changes in src/**' : ''} ` +
      '(the bench compiles `src/` as it is).',
  ].join('\n');
  const report = [header, ...sections].join('\n\n');
  process.stdout.write(`\n${report}\n`);
  writeFileSync(LAST_RUN, `${report}\n`);
  if (FULL || flag('write')) {
    writeResults(report);
    log(`bench: wrote the Node ${NODE_VERSION} section of bench/RESULTS.md; ${fmt(seconds / 60, 1)} min`);
  } else {
    log(`bench: partial or quick run (${fmt(seconds / 60, 1)} min): bench/RESULTS.md left as it was (--write to write it); report in dist-bench/`);
  }
}

const watchdog = setTimeout(() => {
  log(`bench: still running after ${Math.round(WATCHDOG_MS / 1000)} s; stopping`);
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
