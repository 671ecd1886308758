/**
 * Part 4: memory. Whether anything accumulates over 20,000 pushes, and what one push costs while it is in
 * flight, split into what node:http2 itself holds (raw server) and what Fastify, Nest and the module add.
 */
import { forkChild } from './ipc';
import { BODY_LENGTHS, SHAPE_ASSETS, type Shape } from './assets';
import type { DriverConfig } from './load-driver';
import { drive, fmt, log, mb, memory, pct, startServer, stopServer, table, target, type Server } from './measure';
import { CONNECTIONS, STREAMS } from './push-vs-fetch';

const PUSH_TOTAL = 10_000;
const HELD_PAGES = 1000;
/** 10 pages × 3 pushes stay under the module's default limit of 32 open pushes per connection. */
const HELD_PAGES_PER_CONNECTION = 10;
/** Plain Nest handlers: no file streams in flight, so the figures are the framework's and the module's. */
const SHAPE: Shape = 'nest';

export interface MemorySettings {
  nodeVersion: string;
}

interface Held {
  before: NodeJS.MemoryUsage;
  during: NodeJS.MemoryUsage;
  pages: number;
  /** Streams held besides the pages: promised (push) or requested by the client (fetch). */
  streams: number;
}

/** Opens HELD_PAGES pages whose streams get a window of 0 (headers and promises go out, no DATA) and measures the server. */
async function held(server: Server, mode: DriverConfig['mode']): Promise<Held> {
  const before = await memory(server);
  const driver = forkChild('load-driver');
  try {
    const holding = await driver.request<{ pages: number; requests: number; promises: number; errors: number; firstError?: string }>(
      { type: 'run', ...target(server), mode, connections: HELD_PAGES / HELD_PAGES_PER_CONNECTION, streams: 1, maxPages: HELD_PAGES, hold: true },
      'holding', 40_000);
    if (holding.errors) throw new Error(`hold: ${holding.firstError}`);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the server finish dispatching the pushed requests
    const during = await memory(server);
    await driver.request({ type: 'release' }, 'released', 10_000);
    return { before, during, pages: holding.pages, streams: mode === 'push' ? holding.promises : holding.requests - holding.pages };
  } finally {
    if (driver.process.exitCode === null) driver.process.kill('SIGKILL');
    await driver.exited;
  }
}

const heap = (h: Held) => h.during.heapUsed - h.before.heapUsed;
/**
 * Memory outside the JS heap. A Buffer made in JavaScript counts in both `external` and `arrayBuffers`; the
 * buffer Node's native code allocates to write a string to a stream counts only in `arrayBuffers`. Adding
 * the two counted Buffers twice; the larger of the two counts each once for the streams measured here.
 */
const external = (h: Held) => Math.max(h.during.external - h.before.external, h.during.arrayBuffers - h.before.arrayBuffers);
const rss = (h: Held) => h.during.rss - h.before.rss;

export async function memorySection(settings: MemorySettings): Promise<string> {
  log('4. memory');
  const rows: string[][] = [];
  const add = (label: string, usage: NodeJS.MemoryUsage) => rows.push([label, mb(usage.rss), mb(usage.heapUsed), mb(usage.heapTotal), mb(Math.max(usage.external, usage.arrayBuffers))]);
  const withModule = await startServer({ app: 'nest', shape: SHAPE, push: true });
  const plain = await startServer({ app: 'nest', shape: SHAPE });
  const raw = await startServer({ app: 'raw', shape: SHAPE });
  const rawStrings = await startServer({ app: 'raw', shape: SHAPE, strings: true });
  try {
    const pagesFor10k = Math.ceil(PUSH_TOTAL / 3);
    const start = await memory(withModule);
    add('after start', start);
    const first = await drive({ ...target(withModule), mode: 'push', connections: CONNECTIONS, streams: STREAMS, maxPages: pagesFor10k });
    const after1 = await memory(withModule);
    add(`after ${fmt(first.pushes)} pushes (${fmt(first.pages)} pages)`, after1);
    const second = await drive({ ...target(withModule), mode: 'push', connections: CONNECTIONS, streams: STREAMS, maxPages: pagesFor10k });
    const after2 = await memory(withModule);
    add(`after ${fmt(first.pushes + second.pushes)} pushes`, after2);

    // Each held set against the same server's pages held alone, so only the streams beside the page count.
    const rawPage = await held(raw, 'page');
    const rawPush = await held(raw, 'push');
    const rawFetch = await held(raw, 'fetch');
    const rawStringsPage = await held(rawStrings, 'page');
    const rawStringsPush = await held(rawStrings, 'push');
    const plainPage = await held(plain, 'page');
    const plainFetch = await held(plain, 'fetch');
    const modulePage = await held(withModule, 'page');
    const modulePush = await held(withModule, 'push');
    add(`${fmt(modulePush.pages)} pages + ${fmt(modulePush.streams)} pushes held in flight`, modulePush.during);

    const perStream = (x: Held, base: Held) => {
      const n = x.streams;
      return [(heap(x) - heap(base)) / n, (external(x) - external(base)) / n, (rss(x) - rss(base)) / n];
    };
    const inflight: [string, Held, Held][] = [
      ['raw `node:http2`: pushed stream', rawPush, rawPage],
      ['raw `node:http2`: client GET', rawFetch, rawPage],
      ['raw `node:http2`: pushed stream, body written as a string (as Nest handlers return it)', rawStringsPush, rawStringsPage],
      ['Nest, no module: client GET', plainFetch, plainPage],
      ['Nest + PushModule: pushed stream (vs. the same app\'s page held alone, push refused)', modulePush, modulePage],
      ['Nest + PushModule: pushed stream (vs. the app without the module, page held alone; the ≈ 18 KB of earlier runs)', modulePush, plainPage],
    ];
    const inflightRows = inflight.map(([label, x, base]) => {
      const [h, e, r] = perStream(x, base);
      return [label, fmt(h + e), fmt(h), fmt(e), fmt(r)];
    });
    const [rawPushHeap, rawPushExt] = perStream(rawPush, rawPage);
    const [modHeap, modExt] = perStream(modulePush, modulePage);
    const [getHeap, getExt] = perStream(plainFetch, plainPage);
    const [stringHeap, stringExt] = perStream(rawStringsPush, rawStringsPage);
    const bodies = SHAPE_ASSETS[SHAPE].length;
    return [
      `### 4. Memory — Node ${settings.nodeVersion}`,
      '',
      'Server process memory after a full GC (`--expose-gc`, `gc()` twice), Nest + PushModule app of shape (i). 10,000 pushes = ' +
        '3,334 pages with 3 pushes each, driven like part 1, then 10,000 more to see whether anything accumulates.',
      '',
      table(['push server', 'RSS', 'heap used', 'heap total', 'off-heap (larger of external and array buffers)'], rows),
      '',
      `Growth from the first to the second 10,000 pushes: heap ${pct(((after2.heapUsed - after1.heapUsed) / after1.heapUsed) * 100)} ` +
        `(${fmt((after2.heapUsed - after1.heapUsed) / 1024)} KB), RSS ${fmt((after2.rss - after1.rss) / 1024)} KB.`,
      '',
      `**Per stream in flight.** ${fmt(HELD_PAGES)} page requests (${HELD_PAGES_PER_CONNECTION} per connection) whose streams have a flow-control ` +
        'window of 0, so headers and promises go out but no DATA: the response bodies wait in the server. Each set is measured against ' +
        `the same server holding the pages alone (client push off), so a row is what one more stream beside the page holds: ${bodies} per ` +
        'page, pushed by the server or requested by the client at the same time as the page. Bytes per stream:',
      '',
      table(['stream held in flight', 'heap + off-heap', 'JS heap', 'off-heap (larger of external and array buffers)', 'RSS'], inflightRows),
      '',
      `Of a module push's ${fmt(modHeap + modExt)} B, raw \`node:http2\` holds ${fmt(rawPushHeap + rawPushExt)} B for the same pushed stream ` +
        `(its bodies are shared Buffers); the rest, **${fmt(modHeap + modExt - rawPushHeap - rawPushExt)} B**, is Fastify, Nest and the module. ` +
        `A client GET of the same asset in the app without the module holds ${fmt(getHeap + getExt)} B: what the framework holds per ` +
        `request in flight, so the push-specific part is about ${fmt(modHeap + modExt - getHeap - getExt)} B. The raw server writing ` +
        `the same bodies as strings holds ${fmt(stringHeap + stringExt)} B per pushed stream (off-heap ${fmt(stringExt)} B for a body of ` +
        `${fmt(SHAPE_ASSETS[SHAPE].reduce((sum, p) => sum + BODY_LENGTHS[p], 0) / bodies)} B on average): how much of the external part a string body alone explains.`,
    ].join('\n');
  } finally {
    await Promise.all([withModule, plain, raw, rawStrings].map(stopServer));
  }
}
