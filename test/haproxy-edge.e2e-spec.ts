/**
 * The sample behind Debian's HAProxy (2.6 in Debian 12), on each adapter: HAProxy terminates TLS and speaks
 * HTTP/2 or HTTP/1.1 to clients (ALPN `h2,http/1.1`) and HTTP/1.1 to the sample (TLS, certificate not
 * verified), so the module hints instead of pushing. HAProxy forwards the sample's 103 Early Hints to its
 * clients, over HTTP/2 too, as soon as they arrive; it never pushes. The page handler thinks 300 ms:
 * the hints must reach the client, and Chromium must fetch the hinted files, while it does (server clock).
 *
 * A missing haproxy or Chromium fails these tests (Debian packages `haproxy`, `chromium`; `.ci/run`
 * installs them). Chromium goes through a loopback proxy adding a 40 ms round trip (see
 * test/browser.e2e-spec.ts for why a 103 on bare loopback can be too fast for it).
 */
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { execFile } from 'node:child_process';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { promisify } from 'node:util';
import { startDelayProxy } from '../bench/delay-proxy';
import { HOME_PAGE } from '../sample/app.controller';
import { createSampleApp, type SampleAdapter } from '../sample/main';
import { PushService, type PushStats } from '../src';
import { chromiumArgs, visitWithChromium } from './support/chromium';
import type { Edge } from './support/edge-process';
import { connect, h2Exchange } from './support/h2-client';
import { haproxyVersion, startHaproxy } from './support/haproxy';
import { testCertificate } from './support/tls';

const run = promisify(execFile);
const PAGE_DELAY_MS = 300;
const ASSETS = ['/static/style.css', '/static/app.js'];
const LINKS = ['</static/style.css>; rel=preload; as=style', '</static/app.js>; rel=preload; as=script'];
const linksOf = (value: unknown) => String(value).split(', ');

/** What the origin saw, on this process's clock (`performance.now()`, the clients' clock too). */
interface OriginTrace {
  requests: { url: string; at: number; httpVersion: string; host?: string }[];
  /** When the `GET /` handler had finished: its response headers are being written. */
  pageHandledAt?: number;
}

type RawRequest = { url?: string; httpVersion: string; headers: { host?: string } };
type RawResponse = { writeHead(...args: unknown[]): unknown };

/** Records a request, and for the page the moment its headers are written (the handler is done then). */
function traceRequest(trace: OriginTrace, request: RawRequest, response: RawResponse): void {
  const url = request.url ?? '';
  trace.requests.push({ url, at: performance.now(), httpVersion: request.httpVersion, host: request.headers.host });
  if (url !== '/') return;
  const writeHead = response.writeHead;
  response.writeHead = function (this: RawResponse, ...args: unknown[]) {
    trace.pageHandledAt = performance.now();
    return writeHead.apply(this, args);
  };
}

async function startOrigin(adapter: SampleAdapter, tls: { key: string; cert: string }, trace: OriginTrace) {
  const options = { port: 0, logger: false as const, ...tls, pageDelayMs: PAGE_DELAY_MS };
  if (adapter === 'express') {
    return createSampleApp({
      ...options,
      adapter,
      configure: (app: NestExpressApplication) =>
        app.use((request: RawRequest, response: RawResponse, next: () => void) => {
          traceRequest(trace, request, response);
          next();
        }),
    });
  }
  return createSampleApp({
    ...options,
    configure: (app: NestFastifyApplication) =>
      app.getHttpAdapter().getInstance().addHook('onRequest', async (request, reply) => traceRequest(trace, request.raw, reply.raw)),
  });
}

describe.each(['express', 'fastify'] as const)('the sample on %s behind HAProxy', (adapter) => {
  const trace: OriginTrace = { requests: [] };
  let app: INestApplication;
  let originPort: number;
  let edge: Edge;
  let browserProxy: NetServer;
  let version: string;

  const stats = (): PushStats => app.get(PushService).stats();
  const reset = () => {
    trace.requests = [];
    trace.pageHandledAt = undefined;
  };
  const page = () => {
    const request = trace.requests.find((r) => r.url === '/');
    if (!request || trace.pageHandledAt === undefined) throw new Error('the origin saw no GET /');
    return { arrivedAt: request.at, handledAt: trace.pageHandledAt };
  };

  beforeAll(async () => {
    version = await haproxyVersion();
    expect(version).toMatch(/^HAProxy version \d/);
    const tls = await testCertificate();
    const origin = await startOrigin(adapter, tls, trace);
    app = origin.app;
    originPort = Number(new URL(origin.url).port);
    edge = await startHaproxy(origin.url, tls);
    browserProxy = await startDelayProxy({ targetPort: edge.port, rttMs: 40 });
  }, 30_000);

  afterAll(async () => {
    await new Promise((resolve) => (browserProxy ? browserProxy.close(resolve) : resolve(undefined)));
    await edge?.stop();
    await app?.close();
  });

  beforeEach(reset);

  it('an HTTP/2 client that refuses push gets the 103 while the 300 ms handler runs, then the page with the same links', async () => {
    const before = stats();
    const session = await connect(edge.url, { enablePush: false });
    try {
      const exchange = await h2Exchange(session, '/');
      expect(exchange.events).toEqual(['103', '200']);
      expect(linksOf(exchange.interim[0].link)).toEqual(LINKS);
      expect(linksOf(exchange.final.link)).toEqual(LINKS);
      expect(exchange.body).toBe(HOME_PAGE);
      // The client's and the origin's clocks are this process's: the hints arrived before the handler ended.
      const { arrivedAt, handledAt } = page();
      expect(handledAt - arrivedAt).toBeGreaterThanOrEqual(PAGE_DELAY_MS - 5);
      expect(exchange.at.interim[0]).toBeLessThan(handledAt);
      expect(exchange.at.response).toBeGreaterThan(handledAt);
      console.log(
        `${version.split(' - ')[0]}, ${adapter} origin: 103 at ${(exchange.at.interim[0] - exchange.at.sent).toFixed(1)} ms, ` +
          `final response at ${(exchange.at.response - exchange.at.sent).toFixed(1)} ms after the request (handler ${(handledAt - arrivedAt).toFixed(0)} ms)`,
      );
    } finally {
      session.close();
    }
    // The module talked HTTP/1.1 to HAProxy: nothing pushed, both resources hinted.
    const after = stats();
    expect(after.promised - before.promised).toBe(0);
    expect(after.refused.http1 - before.refused.http1).toBe(2);
    expect(after.hinted - before.hinted).toBe(2);
  });

  it('a client that allows push gets no PUSH_PROMISE from HAProxy, the same 103 and Link', async () => {
    const session = await connect(edge.url);
    const promised: string[] = [];
    session.on('stream', (_stream, headers) => promised.push(String(headers[':path'])));
    try {
      const exchange = await h2Exchange(session, '/');
      expect(exchange.events).toEqual(['103', '200']);
      expect(linksOf(exchange.final.link)).toEqual(LINKS);
      expect(promised).toEqual([]);
    } finally {
      session.close();
    }
  });

  it('curl --http1.1 through HAProxy: one 103 Early Hints, then the page', async () => {
    const { stderr } = await run('curl', ['-sSvk', '--http1.1', `${edge.url}/`]);
    const statuses = [...stderr.matchAll(/^< HTTP\/1\.1 (\d+)/gm)].map((m) => m[1]);
    expect(statuses).toEqual(['103', '200']);
    const interim = stderr.slice(stderr.indexOf('< HTTP/1.1 103'), stderr.indexOf('< HTTP/1.1 200'));
    expect(interim).toContain('</static/style.css>; rel=preload; as=style, </static/app.js>; rel=preload; as=script');
  });

  it('the origin gets HTTP/1.1 with HAProxy\'s public authority as Host; the links it sends are relative anyway', async () => {
    const session = await connect(edge.url, { enablePush: false });
    try {
      await h2Exchange(session, '/');
    } finally {
      session.close();
    }
    const request = trace.requests.find((r) => r.url === '/');
    expect(request).toMatchObject({ httpVersion: '1.1', host: `127.0.0.1:${edge.port}` });
    expect(request?.host).not.toContain(String(originPort));
  });

  it('Chromium through HAProxy fetches the hinted files while the handler runs (server clock)', async () => {
    const before = stats();
    const visit = await visitWithChromium(`https://127.0.0.1:${(browserProxy.address() as AddressInfo).port}/`, chromiumArgs((await testCertificate()).cert));
    expect(visit.status).toBe(200);
    expect(visit.timing.firstInterimResponseStart).toBeGreaterThan(0);
    expect(visit.initiators).toMatchObject({ '/static/style.css': 'early-hints', '/static/app.js': 'early-hints' });
    const { arrivedAt, handledAt } = page();
    for (const path of ASSETS) {
      const asked = trace.requests.find((r) => r.url === path)?.at;
      expect(asked).toBeGreaterThan(arrivedAt);
      expect(asked).toBeLessThan(handledAt);
    }
    expect(visit.timing.status).toMatch(/^app\.js ran/);
    const after = stats();
    expect(after.hinted - before.hinted).toBe(2);
    console.log(
      `${visit.browser} through ${version.split(' - ')[0]}, ${adapter} origin: style.css asked ` +
        `${((trace.requests.find((r) => r.url === ASSETS[0])?.at ?? NaN) - arrivedAt).toFixed(0)} ms after GET / arrived, handler done at ${(handledAt - arrivedAt).toFixed(0)} ms`,
    );
  }, 30_000);
});
