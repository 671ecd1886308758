/**
 * The runnable sample, driven by real clients: nghttp shows the frames on the wire, node:http2 the pushed
 * responses, node:https that HTTP/1.1 clients get the same page.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { request } from 'node:https';
import { HOME_PAGE } from '../sample/app.controller';
import { createSampleApp } from '../sample/main';
import { connect, fetchWithPushes, pushedPaths } from './support/h2-client';
import { nghttp, parseFrames, type NghttpFrame } from './support/nghttp';

/** The stream nghttp requested `path` on (not always 1: nghttp opens priority streams first). */
function requestStream(frames: NghttpFrame[], path: string): number {
  const sent = frames.find((f) => f.direction === 'send' && f.type === 'HEADERS' && f.headers[':path'] === path);
  if (!sent) throw new Error(`nghttp sent no request for ${path}`);
  return sent.streamId;
}

/** Index of the final response's HEADERS on a stream: interim 1xx ones (103 Early Hints) are skipped. */
const responseHeaders = (frames: NghttpFrame[], streamId: number | undefined) =>
  frames.findIndex((f) => f.direction === 'recv' && f.type === 'HEADERS' && f.streamId === streamId && !/^1/.test(f.headers[':status'] ?? ''));

describe.each([
  { transport: 'HTTP/2 over TLS', h2c: false },
  { transport: 'h2c (prior knowledge)', h2c: true },
])('the sample over $transport', ({ h2c }) => {
  let app: NestFastifyApplication;
  let url: string;
  beforeAll(async () => ({ app, url } = await createSampleApp({ port: 0, h2c, logger: false })));
  afterAll(() => app.close());

  describe('with nghttp', () => {
    it('promises style.css and app.js before the HEADERS of the page\'s 200 response', async () => {
      const frames = parseFrames(await nghttp(['-nv', `${url}/`]));
      const page = requestStream(frames, '/');
      const promises = frames.filter((f) => f.direction === 'recv' && f.type === 'PUSH_PROMISE' && f.streamId === page);
      expect(promises.map((f) => f.headers[':path'])).toEqual(['/static/style.css', '/static/app.js']);
      const response = responseHeaders(frames, page);
      expect(frames[response]?.headers[':status']).toBe('200');
      for (const promise of promises) expect(frames.indexOf(promise)).toBeLessThan(response);
    });

    it('serves the pushed streams with 200 and a cacheable response', async () => {
      const frames = parseFrames(await nghttp(['-nv', `${url}/`]));
      const promises = frames.filter((f) => f.type === 'PUSH_PROMISE');
      expect(promises).toHaveLength(2);
      for (const { promisedStreamId } of promises) {
        const pushed = frames[responseHeaders(frames, promisedStreamId)]?.headers;
        expect(pushed?.[':status']).toBe('200');
        expect(pushed?.['cache-control']).toBe('public, max-age=60');
      }
    });

    it('promises /api/profile for /account with the credentials nghttp sent', async () => {
      const frames = parseFrames(await nghttp(['-nv', '-H', 'authorization: Bearer demo', `${url}/account`]));
      const promises = frames.filter((f) => f.type === 'PUSH_PROMISE');
      expect(promises.map((f) => f.headers)).toEqual([
        expect.objectContaining({ ':path': '/api/profile', authorization: 'Bearer demo', accept: 'application/json' }),
      ]);
      expect(frames[responseHeaders(frames, promises[0].promisedStreamId)]?.headers[':status']).toBe('200');
    });

    it('with --no-push gets the page and no PUSH_PROMISE', async () => {
      const frames = parseFrames(await nghttp(['--no-push', '-nv', `${url}/`]));
      const page = frames[responseHeaders(frames, requestStream(frames, '/'))]?.headers;
      expect(page?.[':status']).toBe('200');
      expect(page?.['content-type']).toMatch(/^text\/html/);
      expect(frames.filter((f) => f.type === 'PUSH_PROMISE')).toEqual([]);
    });
  });

  describe('with node:http2, the guarded /account', () => {
    it('pushes /api/profile, which passes the guard with the inherited authorization', async () => {
      const client = await connect(url);
      try {
        const page = await fetchWithPushes(client, '/account', { authorization: 'Bearer demo' });
        expect(page.status).toBe(200);
        expect(JSON.parse(page.body)).toEqual({ account: 'demo', profile: '/api/profile' });
        expect(pushedPaths(page)).toEqual(['/api/profile']);
        const [profile] = page.pushes;
        expect(profile.request.authorization).toBe('Bearer demo');
        expect(profile.status).toBe(200);
        expect(profile.headers?.['content-type']).toMatch(/^application\/json/);
        expect(JSON.parse(profile.body)).toEqual({ name: 'Demo User', plan: 'free' });
      } finally {
        client.close();
      }
    });

    it('pushes /api/profile for the session cookie too', async () => {
      const client = await connect(url);
      try {
        const page = await fetchWithPushes(client, '/account', { cookie: 'theme=dark; session=demo' });
        expect(page.status).toBe(200);
        expect(page.pushes.map((p) => [p.request[':path'], p.status])).toEqual([['/api/profile', 200]]);
      } finally {
        client.close();
      }
    });

    it('answers 403 without credentials and pushes nothing', async () => {
      const client = await connect(url);
      try {
        const page = await fetchWithPushes(client, '/account');
        expect(page.status).toBe(403);
        expect(page.pushes).toEqual([]);
      } finally {
        client.close();
      }
    });
  });
});

describe('the sample over HTTP/1.1 (TLS, allowHTTP1)', () => {
  let app: NestFastifyApplication;
  let url: string;
  beforeAll(async () => ({ app, url } = await createSampleApp({ port: 0, logger: false })));
  afterAll(() => app.close());

  /** node:https offers no ALPN protocol, so the server falls back to HTTP/1.1. */
  const get = (path: string) =>
    new Promise<{ version: string; status?: number; type?: string; body: string }>((resolve, reject) => {
      const req = request(`${url}${path}`, { rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ version: res.httpVersion, status: res.statusCode, type: res.headers['content-type'], body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('serves the same page: pushing is a no-op there', async () => {
    const page = await get('/');
    expect(page).toEqual({ version: '1.1', status: 200, type: 'text/html; charset=utf-8', body: HOME_PAGE });
  });

  it('serves the assets the page would have pushed', async () => {
    const css = await get('/static/style.css');
    expect([css.version, css.status, css.type]).toEqual(['1.1', 200, 'text/css; charset=utf-8']);
  });
});
