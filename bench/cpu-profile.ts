/**
 * Part 5: where the push server's time goes, and where a pushed page costs more than a fetched one.
 * `--cpu-prof` on the Nest + PushModule server under the push load, then on a fresh one under the fetch
 * load (push refused, 103, GETs), and the app without the module under the fetch load; per page, and the
 * differences push − fetch by group, and push − fetch without the module by function.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SHAPE_LABELS, type Shape } from './assets';
import type { DriverConfig } from './load-driver';
import { drive, fmt, log, startServer, stopServer, table, target } from './measure';
import { summariseProfile, type FunctionTime, type ProfileSummary } from './profile';
import { CONNECTIONS, STREAMS } from './push-vs-fetch';

const PROFILE_DIR = join(__dirname, '..', 'profiles');

export interface ProfileSettings {
  shape: Shape;
  durationMs: number;
  nodeVersion: string;
}

interface Profiled {
  summary: ProfileSummary;
  pages: number;
  pagesPerSec: number;
}

async function profile(shape: Shape, mode: DriverConfig['mode'], durationMs: number, push = true, handPush = false): Promise<Profiled | undefined> {
  const dir = join(PROFILE_DIR, handPush ? 'push-by-hand' : push ? mode : `${mode}-no-module`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const server = await startServer({ app: 'nest', shape, push, handPush }, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  let result;
  let from = 0;
  let to = 0;
  try {
    await drive({ ...target(server), mode, connections: CONNECTIONS, streams: STREAMS, durationMs: 1000 }); // warm-up
    const now = async () => (await server.child.request<{ us: number }>({ type: 'now' }, 'now', 10_000)).us;
    from = await now();
    result = await drive({ ...target(server), mode, connections: CONNECTIONS, streams: STREAMS, durationMs });
    to = await now();
  } finally {
    await stopServer(server);
  }
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) return undefined;
  return { summary: summariseProfile(join(dir, file), 25, { from, to }), pages: result.pages, pagesPerSec: result.pages / (result.elapsedMs / 1000) };
}

const keyOf = (f: FunctionTime) => `${f.name} ${f.location}`;

export async function profileSection(settings: ProfileSettings): Promise<string> {
  log(`5. CPU profiles: push, fetch, fetch without the module, push by hand, ${settings.durationMs / 1000} s each`);
  const push = await profile(settings.shape, 'push', settings.durationMs);
  const fetch = await profile(settings.shape, 'fetch', settings.durationMs);
  const plain = await profile(settings.shape, 'fetch', settings.durationMs, false);
  const hand = await profile(settings.shape, 'push', settings.durationMs, false, true);
  if (!push || !fetch || !plain || !hand) return '### 5. Profile\n\nNo .cpuprofile was written.';
  const perPage = (p: Profiled, ms: number) => (ms * 1000) / p.pages;
  const us = (value: number) => fmt(value, 1);
  const groupNames = [...new Set([...push.summary.groups, ...fetch.summary.groups, ...plain.summary.groups].map((g) => g.group))];
  const groupMs = (p: Profiled, name: string) => p.summary.groups.find((g) => g.group === name)?.ms ?? 0;
  const groupRows = groupNames
    .map((name) => ({ name, push: perPage(push, groupMs(push, name)), fetch: perPage(fetch, groupMs(fetch, name)), plain: perPage(plain, groupMs(plain, name)) }))
    .sort((a, b) => b.push - b.plain - (a.push - a.plain))
    .map((g) => [g.name, us(g.push), us(g.fetch), us(g.plain), us(g.push - g.plain), us(g.push - g.fetch)]);
  const busy = (p: Profiled) => perPage(p, p.summary.busyMs);
  groupRows.push(['**busy, total**', us(busy(push)), us(busy(fetch)), us(busy(plain)), us(busy(push) - busy(plain)), us(busy(push) - busy(fetch))]);

  /** Self time per page by function, `a` against `b`, the 25 where `a` spends the most more. */
  const diffRows = (a: Profiled, b: Profiled) => {
    const aByKey = new Map(a.summary.functions.map((f) => [keyOf(f), f]));
    const bByKey = new Map(b.summary.functions.map((f) => [keyOf(f), f]));
    return [...new Set([...aByKey.keys(), ...bByKey.keys()])].map((key) => {
      const f = aByKey.get(key) ?? bByKey.get(key)!;
      const x = perPage(a, aByKey.get(key)?.ms ?? 0);
      const y = perPage(b, bByKey.get(key)?.ms ?? 0);
      return { f, x, y, d: x - y };
    }).sort((p, q) => q.d - p.d).slice(0, 25).map(({ f, x, y, d }) => [`\`${f.name}\``, f.location, f.group, us(x), us(y), us(d)]);
  };
  const share = (ms: number) => `${((ms / push.summary.busyMs) * 100).toFixed(1)} %`;
  const window = (p: Profiled) => (p.summary.windowed ? 'windowed' : 'whole profile (window not matched)');
  return [
    `### 5. Where the time goes: push vs. fetch, profiled — Node ${settings.nodeVersion}`,
    '',
    `\`node --cpu-prof\` on the Nest + PushModule server of shape ${SHAPE_LABELS[settings.shape]}, h2c: 1 s warm-up, then ` +
      `${settings.durationMs / 1000} s of the push load (${fmt(push.pagesPerSec)} pages/s while profiled, ${window(push)}), then a fresh ` +
      `server under the fetch load, push refused (${fmt(fetch.pagesPerSec)} pages/s, ${window(fetch)}), then the app without the module ` +
      `under the same fetch load (${fmt(plain.pagesPerSec)} pages/s, ${window(plain)}). Only the samples of the measured ` +
      'window count. Self time (in the function itself, not its callees) per complete page, in µs. The profiler samples the main ' +
      'thread\'s wall time: native calls are counted in the group of the JavaScript that called them, and on 2 busy cores a sample ' +
      'may include time the thread spent preempted, so these are shares, not CPU time (part 1 has that). Profile files: ' +
      '`dist-bench/profiles/`.',
    '',
    table(['group', 'push µs/page', 'fetch µs/page', 'fetch, no module µs/page', 'push − fetch, no module', 'push − fetch'], groupRows),
    '',
    'Functions where a pushed page spends the most more than a page whose client fetches its assets from the app without the ' +
      'module (the headline\'s comparison; self time per page):',
    '',
    table(['function', 'where', 'group', 'push µs/page', 'fetch, no module µs/page', 'push − fetch, no module'], diffRows(push, plain)),
    '',
    `The module's own work: where its pushed page spends more than the app without the module whose page pushes by hand ` +
      `(\`pushStream\`, the promised request to Fastify's router, nothing else; ${fmt(hand.pagesPerSec)} pages/s while profiled, ` +
      `${window(hand)}; busy ${us(busy(push))} against ${us(busy(hand))} µs per page):`,
    '',
    table(['function', 'where', 'group', 'push µs/page', 'push by hand µs/page', 'push − by hand'], diffRows(push, hand)),
    '',
    'Our module\'s functions under the push load, by inclusive time (their synchronous callees included). `dispatch` holds the ' +
      'part of the pushed request\'s Fastify/Nest pipeline that runs before its first `await`:',
    '',
    table(['function', 'where', 'self µs/page', 'inclusive µs/page', 'inclusive share'], push.summary.ours.map((f) => [
      `\`${f.name}\``, f.location, us(perPage(push, f.selfMs ?? 0)), us(perPage(push, f.ms)), share(f.ms),
    ])),
  ].join('\n');
}
