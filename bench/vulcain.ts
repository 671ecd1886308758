/**
 * Vulcain at a 50 ms round trip (issue 22): the time to fetch a list of 10 books and its relations (depth 1:
 * their authors; depth 2: the authors' addresses), and the server CPU it costs, three ways:
 * - push: `Preload` on an HTTP/2 connection that accepts pushes; everything arrives with the page;
 * - links: the same `Preload` from a client that disabled push: it fetches the `Link: rel=preload` URLs of each
 *   response (and asks each author for `Preload: "/address"`);
 * - waterfall: no Vulcain: the client reads each JSON document and then fetches what it links.
 * The server (a Nest + Fastify h2c app with `@Vulcain()`) runs in a child process; each page load is on its
 * own connection, opened before the clock starts. `npm run bench:vulcain [-- --iterations=N --rtt=MS]`.
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { PushModule, Vulcain } from '../src';
import { startDelayProxy } from './delay-proxy';

const BOOKS = Array.from({ length: 10 }, (_, i) => ({ id: i + 1, title: `Book ${i + 1}`, author: `/authors/${i + 1}` }));

@Controller()
@Vulcain()
class ApiController {
  @Get('/books')
  books() {
    return { books: BOOKS };
  }

  @Get('/authors/:id')
  author(@Param('id') id: string) {
    return { id, name: `Author ${id}`, address: `/addresses/${id}` };
  }

  @Get('/addresses/:id')
  address(@Param('id') id: string) {
    return { id, city: `City ${id}` };
  }
}

/** 20 pushes a page at depth 2: room for them all. */
@Module({ imports: [PushModule.forRoot({ maxPushesPerRequest: 32 })], controllers: [ApiController] })
class BenchModule {}

async function serve(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(BenchModule, new FastifyAdapter({ http2: true }), { logger: false });
  await app.listen(0, '127.0.0.1');
  process.on('message', (message: string) => {
    if (message === 'cpu') process.send!({ cpu: process.cpuUsage() });
    else if (message === 'stop') void app.close().then(() => process.exit(0));
  });
  process.send!({ port: (app.getHttpServer().address() as AddressInfo).port });
}

type Variant = 'push' | 'links' | 'waterfall';
interface Response {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

function get(session: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const request = session.request({ ':path': path, ...headers });
    let status = 0;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let body = '';
    request.setEncoding('utf8');
    request.on('response', (h) => ((status = Number(h[':status'])), (responseHeaders = h)));
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve({ status, headers: responseHeaders, body }));
    request.on('error', reject);
  });
}

const linksOf = (response: Response) => [...String(response.headers.link ?? '').matchAll(/<([^>]+)>/g)].map((m) => m[1]);

/** One page load with its relations; resolves when every resource needed arrived in full. */
async function load(session: http2.ClientHttp2Session, variant: Variant, depth: 1 | 2): Promise<number> {
  const preload = depth === 1 ? '"/books/*/author"' : '"/books/*/author/address"';
  if (variant === 'push') {
    const pushes: Promise<void>[] = [];
    session.on('stream', (stream) => {
      pushes.push(new Promise((done) => stream.on('close', () => done())));
      stream.resume();
    });
    await get(session, '/books', { preload });
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all(pushes);
    return pushes.length;
  }
  if (variant === 'links') {
    const page = await get(session, '/books', { preload });
    const authors = await Promise.all(linksOf(page).map((url) => get(session, url, depth === 2 ? { preload: '"/address"' } : {})));
    if (depth === 1) return authors.length;
    const addresses = await Promise.all(authors.flatMap(linksOf).map((url) => get(session, url)));
    return authors.length + addresses.length;
  }
  const page = await get(session, '/books');
  const authorUrls = (JSON.parse(page.body) as { books: { author: string }[] }).books.map((book) => book.author);
  const authors = await Promise.all(authorUrls.map((url) => get(session, url)));
  if (depth === 1) return authors.length;
  const addresses = await Promise.all(authors.map((author) => get(session, (JSON.parse(author.body) as { address: string }).address)));
  return authors.length + addresses.length;
}

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (answer) => resolve(answer as T));
    child.send(message);
  });
}

async function main(): Promise<void> {
  const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
  const iterations = arg('iterations', 30);
  const rttMs = arg('rtt', 50);
  const child = fork(__filename, ['serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', (m) => resolve(m as { port: number })));
  const proxy = await startDelayProxy({ targetPort: port, rttMs });
  const proxyPort = (proxy.address() as AddressInfo).port;
  const cases = ([1, 2] as const).flatMap((depth) => (['push', 'links', 'waterfall'] as const).map((variant) => ({ depth, variant, times: [] as number[], resources: 0, cpuMicros: 0 })));
  // Interleaved, a load of each case in turn: the server's JIT and the machine's drift weigh on every case alike.
  for (let i = -3; i < iterations; i++) {
    for (const c of cases) {
      const session = http2.connect(`http://127.0.0.1:${proxyPort}`, { settings: { enablePush: c.variant === 'push' } });
      await new Promise((resolve) => session.once('remoteSettings', resolve));
      const before = await ask<{ cpu: NodeJS.CpuUsage }>(child, 'cpu');
      const start = performance.now();
      c.resources = await load(session, c.variant, c.depth);
      const elapsed = performance.now() - start;
      await new Promise((resolve) => setTimeout(resolve, rttMs)); // the server's last writes and closes
      const after = await ask<{ cpu: NodeJS.CpuUsage }>(child, 'cpu');
      session.close();
      if (i < 0) continue; // warm-up
      c.times.push(elapsed);
      c.cpuMicros += after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
    }
  }
  const rows = cases.map((c) => {
    const median = [...c.times].sort((a, b) => a - b)[Math.floor(c.times.length / 2)];
    return [String(c.depth), c.variant, String(c.resources), median.toFixed(0), (median / rttMs).toFixed(1), (c.cpuMicros / iterations / 1000).toFixed(2)];
  });
  child.send('stop');
  proxy.close();
  const header = ['depth', 'variant', 'relations', `median ms (RTT ${rttMs} ms)`, 'RTTs', 'server CPU ms / load'];
  console.log(`Vulcain, ${iterations} loads per row, Node ${process.versions.node}\n`);
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  process.exit(0);
}

if (process.argv[2] === 'serve') void serve();
else void main();
