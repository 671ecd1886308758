/**
 * Part 2: what the module costs on a route that pushes nothing (h2load against the same app with and
 * without PushModule, plus diagnostic apps), and 2b, what each route of each page shape costs alone.
 */
import { spawn, spawnSync } from 'node:child_process';
import { BODY_LENGTHS, PAGE_PATH, PLAIN_PATH, SHAPE_ASSETS, SHAPE_LABELS, type Shape } from './assets';
import { onLoadCore } from './cpu-pinning';
import { findCommand } from './find-command';
import { cpuMs, fmt, log, median, pct, startServer, stopServer, table, type Server } from './measure';

export interface OverheadSettings {
  rounds: number;
  /** Seconds per measured h2load run (`-D`): bounded whatever the machine's load. */
  seconds: number;
  warmupSeconds: number;
  routeSeconds: number;
  shapes: readonly Shape[];
  nodeVersion: string;
}

/** h2load from the PATH (Debian package nghttp2-client). */
export const findH2load = () => findCommand('h2load');

interface H2loadResult {
  reqPerSec: number;
  serverUsPerReq: number;
}

/** One timed h2load run (`-D seconds`; HTTP/1.1 for an Express server); the server's CPU is read around it. */
async function h2load(bin: string, server: Server, seconds: number, path = PLAIN_PATH): Promise<H2loadResult> {
  const before = await cpuMs(server);
  const { reqPerSec, served } = await runH2load(bin, server, ['-D', String(seconds), '-c', '8', '-m', '10'], path, seconds * 1000 + 30_000);
  const serverMs = (await cpuMs(server)) - before;
  return { reqPerSec, serverUsPerReq: (serverMs * 1000) / served };
}

/**
 * h2load with `load` (`-D 3 -c 8 -m 10`, `-n 3000 -c 4 -m 10`, …) on `path`, killed after `timeoutMs`; fails
 * on any failed or non-2xx response. `served`: every 2xx response, also those after a timed window.
 */
export async function runH2load(bin: string, server: Server, load: string[], path: string, timeoutMs: number): Promise<{ reqPerSec: number; served: number }> {
  const h1 = server.spec.app === 'nest' && server.spec.express ? ['--h1'] : [];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(...onLoadCore(bin, [...h1, ...load, `${server.url}${path}`]), { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.stderr.on('data', (chunk) => (text += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`h2load exited ${code}: ${text}`));
    });
  });
  const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(output);
  const done = /requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored/.exec(output);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(output);
  if (!rate || !done || !codes) throw new Error(`cannot read h2load output:\n${output}`);
  if (Number(done[1]) + Number(done[2]) + Number(codes[2]) + Number(codes[3]) + Number(codes[4]) > 0) throw new Error(`h2load: failed or non-2xx responses:\n${output}`);
  return { reqPerSec: Number(rate[1]), served: Number(codes[1]) };
}

interface App {
  server: Server;
  label: string;
}

/** Warm-up, then `settings.rounds` rounds over `apps`, the order rotated each round. */
async function alternate(bin: string, apps: App[], settings: OverheadSettings): Promise<Map<Server, H2loadResult[]>> {
  for (const { server } of apps) await h2load(bin, server, settings.warmupSeconds); // warm-up
  const runs = new Map<Server, H2loadResult[]>(apps.map(({ server }) => [server, []]));
  for (let round = 0; round < settings.rounds; round++) {
    const order = apps.map((_, i) => apps[(i + round) % apps.length]);
    for (const { server } of order) runs.get(server)!.push(await h2load(bin, server, settings.seconds));
    log(`   round ${round + 1}/${settings.rounds}: ${apps.map(({ server }) => fmt(runs.get(server)!.at(-1)!.reqPerSec)).join(', ')} req/s`);
  }
  return runs;
}

/**
 * One row per app: its runs, medians, and how it compares with the first app (the one without the module):
 * the median of the per-round ratios, as in part 1. A round's apps ran back to back, so what slows the whole
 * machine for a while (another process, the load driver's own tiering) cancels out of a round's ratio; a
 * ratio of medians would take one app's slow round against another's fast one.
 */
function overheadTable(apps: App[], runs: Map<Server, H2loadResult[]>): { table: string; vs(app: number): { req: string; cpu: string } } {
  const [without] = apps.map((a) => a.server);
  const reqMed = (server: Server) => median(runs.get(server)!.map((r) => r.reqPerSec));
  const cpuMed = (server: Server) => median(runs.get(server)!.map((r) => r.serverUsPerReq));
  const change = (server: Server, of: (r: H2loadResult) => number) => {
    const base = runs.get(without)!;
    const ratios = runs.get(server)!.map((r, round) => of(r) / of(base[round]));
    return `${pct((median(ratios) - 1) * 100)} (${pct((Math.min(...ratios) - 1) * 100)} to ${pct((Math.max(...ratios) - 1) * 100)})`;
  };
  const reqChange = (server: Server) => change(server, (r) => r.reqPerSec);
  const cpuChange = (server: Server) => change(server, (r) => r.serverUsPerReq);
  const rows = apps.map(({ server, label }) => [
    label,
    runs.get(server)!.map((r) => fmt(r.reqPerSec)).join(', '),
    fmt(reqMed(server)),
    server === without ? '' : reqChange(server),
    cpuMed(server).toFixed(1),
    server === without ? '' : cpuChange(server),
  ]);
  return {
    table: table(['app', 'req/s per run', 'median req/s', 'vs. without, per round (range)', 'server CPU/req (µs), median', 'vs. without, per round (range)'], rows),
    vs: (app) => ({ req: reqChange(apps[app].server), cpu: cpuChange(apps[app].server) }),
  };
}

export async function overheadSection(settings: OverheadSettings): Promise<string> {
  const bin = findH2load();
  if (!bin) return '### 2. Overhead on routes that push nothing\n\nSkipped: `h2load` not found (Debian package `nghttp2-client`).';
  log('2. overhead on a route without @Push (h2load)');
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const shape: Shape = 'mixed';
  const apps: App[] = [];
  const add = async (label: string, spec: Parameters<typeof startServer>[0]) => apps.push({ server: await startServer(spec), label });
  try {
    await add('without PushModule', { app: 'nest', shape });
    await add('with `PushModule.forRoot({ diarySize: 0, connectionPushBudget: false })` (and `@Push` on the page)', { app: 'nest', shape, push: true });
    await add('with `PushModule.forRoot({ diarySize: 0, connectionPushBudget: false, learnedHints: true })`', { app: 'nest', shape, push: true, learnedHints: true });
    await add('diagnostic: without PushModule + two no-op Fastify hooks (onRequest, preHandler)', { app: 'nest', shape, hooks: true });
    await add('diagnostic: without PushModule + the same two hooks entering an AsyncLocalStorage', { app: 'nest', shape, als: true });
    await add('diagnostic: without PushModule + a no-op global interceptor (APP_INTERCEPTOR)', { app: 'nest', shape, interceptor: true });
    await add('diagnostic: without PushModule + both (AsyncLocalStorage hooks and no-op global interceptor)', { app: 'nest', shape, als: true, interceptor: true });
    const fastify = overheadTable(apps, await alternate(bin, apps, settings));
    return [
      `### 2. Overhead on routes that push nothing — Node ${settings.nodeVersion}`,
      '',
      `\`h2load -D ${settings.seconds} -c 8 -m 10 http://127.0.0.1:PORT${PLAIN_PATH}\` (${version}, h2c prior knowledge) on a route ` +
        'without `@Push`, the same Nest app (shape (iii)) with and without PushModule, plus diagnostic apps without the module ' +
        `that each add a generic mechanism the module once put on every request. ${settings.rounds} timed runs each, alternated (order rotated), ` +
        `after a ${settings.warmupSeconds} s warm-up run each. Server CPU per request = the server's CPU time around the run / the ` +
        '2xx responses h2load received in it (req/s is h2load\'s, over its timed window). "vs. without" is the median, over the ' +
        'rounds, of the app\'s figure divided by the figure of the app without PushModule in the same round (range in brackets).',
      '',
      fastify.table,
      '',
      `With PushModule: **${fastify.vs(1).req} req/s**, ${fastify.vs(1).cpu} server CPU per request on a route that pushes nothing (target: no more than 3 % slower). ` +
        `With \`learnedHints\` (each Nest GET route looks its page up before it runs, and finds nothing for this route): **${fastify.vs(2).req} req/s**, ${fastify.vs(2).cpu} server CPU per request.`,
      '',
      await expressOverhead(bin, version, settings),
      '',
      await routeCosts(bin, settings),
    ].join('\n');
  } finally {
    await Promise.all(apps.map(({ server }) => stopServer(server)));
  }
}

/** 2c: the same on Express (HTTP/1.1, hints mode), with its own baseline. */
async function expressOverhead(bin: string, version: string, settings: OverheadSettings): Promise<string> {
  log('   on Express (h2load --h1)');
  const shape: Shape = 'mixed';
  const apps: App[] = [];
  const add = async (label: string, spec: Parameters<typeof startServer>[0]) => apps.push({ server: await startServer(spec), label });
  try {
    await add('Express, without PushModule', { app: 'nest', express: true, shape });
    await add('Express, with `PushModule.forRoot({ diarySize: 0 })` (and `@Push` on the page)', { app: 'nest', express: true, shape, push: true });
    await add('diagnostic: Express, with the module and `requestContext: true` (its AsyncLocalStorage middleware on every request)', {
      app: 'nest', express: true, shape, push: true, requestContext: true,
    });
    const express = overheadTable(apps, await alternate(bin, apps, settings));
    return [
      '#### 2c. The same on Express',
      '',
      `\`h2load --h1 -D ${settings.seconds} -c 8 -m 10 http://127.0.0.1:PORT${PLAIN_PATH}\` (${version}, HTTP/1.1) against the same app on ` +
        '`@nestjs/platform-express`, where the module runs in hints mode, with and without PushModule; alternated as above.',
      '',
      express.table,
      '',
      `On Express, with PushModule: **${express.vs(1).req} req/s**, ${express.vs(1).cpu} server CPU per request on a route that pushes nothing; ` +
        `with its request-context middleware: ${express.vs(2).req} req/s, ${express.vs(2).cpu} server CPU per request.`,
    ].join('\n');
  } finally {
    await Promise.all(apps.map(({ server }) => stopServer(server)));
  }
}

/** What each route of each page shape costs the server on its own (app without PushModule): explains part 1's totals. */
async function routeCosts(bin: string, settings: OverheadSettings): Promise<string> {
  log('   cost of each route alone');
  const rows: string[][] = [];
  for (const shape of settings.shapes) {
    const server = await startServer({ app: 'nest', shape });
    try {
      for (const path of [PAGE_PATH, ...SHAPE_ASSETS[shape]]) {
        await h2load(bin, server, 1, path); // warm-up
        const result = await h2load(bin, server, settings.routeSeconds, path);
        rows.push([SHAPE_LABELS[shape], `\`${path}\``, String(BODY_LENGTHS[path]), fmt(result.reqPerSec), result.serverUsPerReq.toFixed(1)]);
      }
    } finally {
      await stopServer(server);
    }
  }
  return [
    '#### 2b. Cost of each route alone',
    '',
    `The same h2load command, ${settings.routeSeconds} s per route after a 1 s warm-up, one run, on each shape's app without PushModule.`,
    '',
    table(['shape', 'route', 'body bytes', 'req/s', 'server CPU/req (µs)'], rows),
  ].join('\n');
}
