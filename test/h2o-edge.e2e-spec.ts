/**
 * The sample behind a real HTTP/2 edge: Debian's h2o as a TLS reverse proxy. h2o speaks HTTP/1.1 to its
 * upstream, so the module cannot push there; it sends `Link: rel=preload` headers instead (fallback), and
 * h2o turns them into PUSH_PROMISEs to its own HTTP/2 clients (`http2-push-preload`, ON by default).
 * Upstream: the sample over TLS with `allowHTTP1` (h2o with `proxy.ssl.verify-peer: OFF`), unchanged.
 * A missing h2o binary fails these tests (install the Debian package `h2o`).
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PushService } from '../src';
import { HOME_PAGE } from '../sample/app.controller';
import { createSampleApp } from '../sample/main';
import { connect, fetchWithPushes, pushedPaths } from './support/h2-client';
import { h2oVersion, startH2o, type H2oEdge } from './support/h2o';
import { testCertificate } from './support/tls';

interface UpstreamRequest {
  url: string;
  httpVersion: string;
  host?: string;
  /** The `Link` header of the response the upstream sent for it. */
  link?: string;
}

const asset = (name: string) => readFileSync(join(process.cwd(), 'sample', 'public', name), 'utf8');

/** A route whose own Link header names style.css `nopush` and app.js plain: h2o must push only app.js. */
const NOPUSH_LINK = '</static/style.css>; rel=preload; as=style; nopush, </static/app.js>; rel=preload; as=script';

let app: NestFastifyApplication;
let upstreamUrl: string;
let upstreamPort: number;
let edge: H2oEdge;
const seen: UpstreamRequest[] = [];

beforeAll(async () => {
  expect(await h2oVersion()).toMatch(/^h2o version \d/);
  const tls = await testCertificate();
  ({ app, url: upstreamUrl } = await createSampleApp({
    port: 0,
    logger: false,
    ...tls,
    configure: (nest) => {
      const fastify = nest.getHttpAdapter().getInstance();
      // onResponse: after every onSend hook (the module's fallback included) and the write.
      fastify.addHook('onResponse', async (request, reply) => {
        const link = reply.getHeader('link') ?? reply.raw.getHeader('link');
        seen.push({
          url: request.url,
          httpVersion: request.raw.httpVersion,
          host: request.headers.host,
          link: link === undefined ? undefined : String(link),
        });
      });
      fastify.get('/edge/nopush', (_request, reply) => {
        reply.header('link', NOPUSH_LINK).type('text/html; charset=utf-8').send('<p>nopush</p>');
      });
    },
  }));
  upstreamPort = Number(new URL(upstreamUrl).port);
  edge = await startH2o(upstreamUrl, tls);
}, 30_000);

afterAll(async () => {
  await edge?.stop();
  await app?.close();
});

beforeEach(() => {
  seen.length = 0;
});

describe('the sample behind h2o (TLS, HTTP/2 to clients, HTTP/1.1 to the sample)', () => {
  it('the @Push resources of / reach the client as PUSH_PROMISEs that h2o made from the module\'s Link header', async () => {
    const pushes = app.get(PushService);
    const before = pushes.stats();
    const client = await connect(edge.url);
    try {
      const page = await fetchWithPushes(client, '/');
      expect(page.status).toBe(200);
      expect(page.body).toBe(HOME_PAGE);
      expect(pushedPaths(page)).toEqual(['/static/style.css', '/static/app.js']);
      expect(page.pushes.map((p) => p.status)).toEqual([200, 200]);
      expect(page.pushes.map((p) => p.body)).toEqual([asset('style.css'), asset('app.js')]);
    } finally {
      client.close();
    }
    // The module itself pushed nothing (its client, h2o, speaks HTTP/1.1); it hinted both resources.
    const after = pushes.stats();
    expect(after.promised - before.promised).toBe(0);
    expect(after.refused.http1 - before.refused.http1).toBe(2);
    expect(after.hinted - before.hinted).toBe(2);
    // The page went upstream over HTTP/1.1 and its response carried the preload links h2o acted on;
    // then h2o fetched the pushed resources through the proxy itself.
    const pageRequest = seen.find((r) => r.url === '/');
    expect(pageRequest).toMatchObject({ httpVersion: '1.1' });
    expect(pageRequest?.link).toBe('</static/style.css>; rel=preload; as=style, </static/app.js>; rel=preload; as=script');
    expect(seen.map((r) => r.url).sort()).toEqual(['/', '/static/app.js', '/static/style.css']);
  });

  it('a Link marked nopush is not pushed by h2o; the others are', async () => {
    const client = await connect(edge.url);
    try {
      const page = await fetchWithPushes(client, '/edge/nopush');
      expect(page.status).toBe(200);
      expect(pushedPaths(page)).toEqual(['/static/app.js']);
      expect(page.pushes[0].status).toBe(200);
      // h2o passes the header on to the client unchanged.
      expect(page.headers.link).toBe(NOPUSH_LINK);
    } finally {
      client.close();
    }
    expect(seen.map((r) => r.url).sort()).toEqual(['/edge/nopush', '/static/app.js']);
  });

  it('a client that disables push gets the Link header and no PUSH_PROMISE', async () => {
    const client = await connect(edge.url, { enablePush: false });
    try {
      const page = await fetchWithPushes(client, '/');
      expect(page.status).toBe(200);
      expect(page.pushes).toEqual([]);
      expect(page.headers.link).toContain('</static/style.css>; rel=preload; as=style');
    } finally {
      client.close();
    }
  });
});

describe('trusting the edge: hints and pushes name the public origin, never the upstream', () => {
  it('the Link headers h2o receives hold only relative paths, no upstream host or port', async () => {
    const client = await connect(edge.url);
    try {
      await fetchWithPushes(client, '/');
    } finally {
      client.close();
    }
    const links = seen.filter((r) => r.link !== undefined).map((r) => r.link as string);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      expect(link).not.toContain(String(upstreamPort));
      expect(link).not.toContain('://');
      for (const target of link.matchAll(/<([^>]*)>/g)) expect(target[1]).toMatch(/^\/[^/]/);
    }
    // The upstream did see its own address as Host (h2o's default, proxy.preserve-host OFF): had the module
    // built absolute URLs from it, they would have leaked the upstream.
    expect(seen.find((r) => r.url === '/')?.host).toBe(`127.0.0.1:${upstreamPort}`);
  });

  it('the pushes the client gets carry h2o\'s scheme and :authority, not the upstream\'s', async () => {
    const client = await connect(edge.url);
    try {
      const page = await fetchWithPushes(client, '/');
      expect(page.pushes).toHaveLength(2);
      for (const push of page.pushes) {
        expect(push.request[':scheme']).toBe('https');
        expect(push.request[':authority']).toBe(`127.0.0.1:${edge.port}`);
        expect(String(push.request[':authority'])).not.toContain(String(upstreamPort));
      }
    } finally {
      client.close();
    }
  });
});
