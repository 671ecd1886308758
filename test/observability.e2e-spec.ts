import * as https from 'node:https';
import type { PushEvent, PushModuleOptions } from '../src';
import { PushMonitor, pushSummary, PushService } from '../src';
import { configureTestApp, pushTestModule } from './fixtures/push-test.app';
import { connect, fetchWithPushes, pushedPaths } from './support/h2-client';
import { startApp, type StartedApp } from './support/start-app';

const events: PushEvent[] = [];

async function withServer(options: PushModuleOptions, test: (server: StartedApp) => Promise<void>, tls = false) {
  events.length = 0;
  const server = await startApp(pushTestModule({ onPush: (event) => events.push(event), ...options }), { tls, configure: configureTestApp });
  try {
    await test(server);
  } finally {
    await server.close();
  }
}

/** Events end asynchronously (stream 'close'): wait until `count` of them matched. */
async function eventsSettled(predicate: (e: PushEvent) => boolean, count: number): Promise<PushEvent[]> {
  for (let i = 0; i < 100 && events.filter(predicate).length < count; i++) await new Promise((r) => setTimeout(r, 10));
  return events.filter(predicate);
}

describe('push events and counters', () => {
  it('a completed push tells status, body bytes and duration, and the counters agree', () =>
    withServer({}, async (server) => {
      const client = await connect(server.url);
      const page = await fetchWithPushes(client, '/page');
      client.close();
      const completed = await eventsSettled((e) => e.type === 'completed', 3);
      expect(events.filter((e) => e.type === 'promised').map((e) => e.path)).toEqual(pushedPaths(page));
      expect(completed.map((e) => e.path).sort()).toEqual([...pushedPaths(page)].sort());
      for (const event of completed) {
        const pushed = page.pushes.find((p) => p.request[':path'] === event.path)!;
        expect(event).toMatchObject({ status: 200, bytes: Buffer.byteLength(pushed.body) });
        expect((event as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(0);
      }
      const stats = server.app.get(PushService).stats();
      expect(stats).toMatchObject({ promised: 3, completed: 3, cancelled: 0, failed: 0 });
      expect(stats.bytes).toBe(page.pushes.reduce((sum, p) => sum + Buffer.byteLength(p.body), 0));
    }));

  it('completed body bytes: counted when streamed without content-length, none for HEAD, the body with a trailer or from a file', () =>
    withServer({}, async (server) => {
      const client = await connect(server.url);
      const page = await fetchWithPushes(client, '/push-bodies');
      client.close();
      const completed = await eventsSettled((e) => e.type === 'completed', 4);
      const bytes = Object.fromEntries(completed.map((e) => [e.path, (e as { bytes: number }).bytes]));
      expect(bytes).toEqual({ '/asset/streamed': 24, '/asset/trailer': 21, '/echo': 0, '/static/style.css': 22 });
      expect(Object.fromEntries(page.pushes.map((p) => [p.request[':path'], Buffer.byteLength(p.body)]))).toEqual(bytes);
      expect(server.app.get(PushService).stats().bytes).toBe(24 + 21 + 22);
    }));

  it('a push the client resets is counted as cancelled with its code', () =>
    withServer({}, async (server) => {
      const client = await connect(server.url);
      client.on('stream', (stream) => stream.close(0x8));
      await fetchWithPushes(client, '/push-slow');
      const cancelled = await eventsSettled((e) => e.type === 'cancelled', 1);
      client.close();
      expect(cancelled).toEqual([{ type: 'cancelled', path: '/asset/slow', code: 0x8 }]);
      expect(server.app.get(PushService).stats()).toMatchObject({ promised: 1, cancelled: 1, completed: 0 });
    }));

  it('every refusal has its reason: disabled, limit, duplicate, nested, cached, http1', () =>
    withServer({ maxPushesPerRequest: 2 }, async (server) => {
      const noPush = await connect(server.url, { enablePush: false });
      await fetchWithPushes(noPush, '/service');
      noPush.close();
      const client = await connect(server.url);
      await fetchWithPushes(client, '/many');
      await fetchWithPushes(client, '/twice');
      await fetchWithPushes(client, '/push-pusher');
      await fetchWithPushes(client, '/push-pusher');
      client.close();
      await new Promise<void>((resolve, reject) =>
        https.get(`${server.url}/service`, { rejectUnauthorized: false }, (res) => res.resume().on('end', resolve)).on('error', reject),
      );
      const refused = server.app.get(PushService).stats().refused;
      // /many: 2 promised, 8 over the limit. /twice: style.css promised then duplicate; v=1 cached twice (pushed by
      // /many on this connection); v=2 promised. /push-pusher: nested, then /asset/pusher cached the second time.
      expect(refused).toEqual({ http1: 1, disabled: 1, limit: 8, duplicate: 1, nested: 1, cached: 3, closed: 0, unwanted: 0, budget: 0 });
      expect(events).toContainEqual({ type: 'refused', path: '/asset/data?v=service', reason: 'disabled' });
      expect(events).toContainEqual({ type: 'refused', path: '/asset/data', reason: 'nested' });
    }, true));

  it('a client that sent GOAWAY gets its page and no new push: refused as closed', () =>
    withServer({}, async (server) => {
      const client = await connect(server.url);
      const page = fetchWithPushes(client, '/async-service');
      setImmediate(() => client.goaway(0, 0));
      expect((await page).status).toBe(200);
      client.close();
      expect((await page).pushes).toEqual([]);
      expect(events).toEqual([{ type: 'refused', path: '/asset/data', reason: 'closed' }]);
    }));

  it('resources refused but hinted are counted as hinted', () =>
    withServer({}, async (server) => {
      const noPush = await connect(server.url, { enablePush: false });
      await fetchWithPushes(noPush, '/page');
      noPush.close();
      expect(server.app.get(PushService).stats()).toMatchObject({ hinted: 3, promised: 0 });
    }));

  it('a throwing onPush listener never reaches the request, nor keeps events$ subscribers from the event', () =>
    withServer({ onPush: () => { throw new Error('listener bug'); } }, async (server) => {
      const seen: PushEvent[] = [];
      const subscription = server.app.get(PushMonitor).events$.subscribe((event) => seen.push(event));
      const client = await connect(server.url);
      const page = await fetchWithPushes(client, '/page');
      client.close();
      subscription.unsubscribe();
      expect(page.status).toBe(200);
      expect(page.pushes.map((p) => p.status)).toEqual([200, 200, 200]);
      expect(seen.filter((e) => e.type === 'promised')).toHaveLength(3);
    }));
});

describe('per-connection diary', () => {
  it('a second page load on the same connection pushes nothing already pushed; a new connection does', () =>
    withServer({}, async (server) => {
      const client = await connect(server.url);
      const first = await fetchWithPushes(client, '/page');
      const second = await fetchWithPushes(client, '/page');
      client.close();
      expect(first.pushes).toHaveLength(3);
      expect(second.pushes).toEqual([]);
      expect(events.filter((e) => e.type === 'refused').map((e) => e.type === 'refused' && e.reason)).toEqual(['cached', 'cached', 'cached']);
      const other = await connect(server.url);
      expect((await fetchWithPushes(other, '/page')).pushes).toHaveLength(3);
      other.close();
    }));

  it('a cancelled push is forgotten, so the next page load pushes it again', () =>
    withServer({}, async (server) => {
      const client = await connect(server.url);
      const reset = (stream: import('node:http2').ClientHttp2Stream) => stream.close(0x8);
      client.on('stream', reset);
      await fetchWithPushes(client, '/push-slow');
      await eventsSettled((e) => e.type === 'cancelled', 1);
      client.off('stream', reset);
      const again = await fetchWithPushes(client, '/push-slow');
      client.close();
      expect(pushedPaths(again)).toEqual(['/asset/slow']);
    }));

  it('diarySize: 0 turns it off', () =>
    withServer({ diarySize: 0 }, async (server) => {
      const client = await connect(server.url);
      await fetchWithPushes(client, '/page');
      const second = await fetchWithPushes(client, '/page');
      client.close();
      expect(second.pushes).toHaveLength(3);
    }));
});

describe('pushLinkHeaders', () => {
  it('pushes the same-origin rel=preload links of the response, not nopush or other-origin ones', () =>
    withServer({ pushLinkHeaders: true }, async (server) => {
      const client = await connect(server.url);
      const page = await fetchWithPushes(client, '/linked');
      client.close();
      expect(pushedPaths(page)).toEqual(['/static/style.css', '/asset/data?v=link']);
      expect(page.events.at(-1)).toBe('response');
      expect(page.pushes.map((p) => p.status)).toEqual([200, 200]);
      expect(String(page.headers.link)).toContain('</static/app.js>; rel=preload; as=script; nopush');
    }));

  it('reads only the client\'s response: a pushed response\'s Link pushes nothing (it would be refused as nested)', () =>
    withServer({ pushLinkHeaders: true }, async (server) => {
      const client = await connect(server.url);
      const page = await fetchWithPushes(client, '/pushes-linked');
      client.close();
      expect(pushedPaths(page)).toEqual(['/linked']);
      expect(String(page.pushes[0].headers?.link)).toContain('</static/style.css>; rel=preload; as=style');
      expect(server.app.get(PushService).stats().refused.nested).toBe(0);
      expect(events.filter((e) => e.type === 'refused')).toEqual([]);
    }));

  it('is off by default', () =>
    withServer({}, async (server) => {
      const client = await connect(server.url);
      const page = await fetchWithPushes(client, '/linked');
      client.close();
      expect(page.pushes).toEqual([]);
    }));

  it('with push disabled, linked resources are not linked twice', () =>
    withServer({ pushLinkHeaders: true }, async (server) => {
      const client = await connect(server.url, { enablePush: false });
      const page = await fetchWithPushes(client, '/linked');
      client.close();
      const links = String(page.headers.link).split(', ');
      expect(links.filter((l) => l.startsWith('</static/style.css>'))).toHaveLength(1);
      expect(links.filter((l) => l.startsWith('</asset/data?v=link>'))).toHaveLength(1);
    }));
});

describe('digestCookie', () => {
  const cookieOf = (setCookie: unknown) => String(([] as unknown[]).concat(setCookie)[0]).split(';')[0];

  it('a returning client with the digest cookie is not pushed again, on a new connection', () =>
    withServer({ digestCookie: true }, async (server) => {
      const first = await connect(server.url);
      const page = await fetchWithPushes(first, '/page');
      first.close();
      expect(page.pushes).toHaveLength(3);
      const setCookie = String(page.headers['set-cookie']);
      expect(setCookie).toMatch(/^h2push=[A-Za-z0-9_-]{86}; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax$/);
      const returning = await connect(server.url);
      const again = await fetchWithPushes(returning, '/page', { cookie: `theme=dark; ${cookieOf(page.headers['set-cookie'])}` });
      returning.close();
      expect(again.pushes).toEqual([]);
      expect(again.headers['set-cookie']).toBeUndefined();
      expect(server.app.get(PushService).stats().refused.cached).toBe(3);
    }));

  it('over TLS the cookie is Secure, with the configured name and Max-Age', () =>
    withServer({ digestCookie: { name: 'seen', maxAge: 60 } }, async (server) => {
      const client = await connect(server.url);
      const page = await fetchWithPushes(client, '/page');
      client.close();
      expect(page.pushes).toHaveLength(3);
      expect(String(page.headers['set-cookie'])).toMatch(/^seen=[A-Za-z0-9_-]{86}; Max-Age=60; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    }, true));

  it('is set when it is the only thing to add to the final headers (the fallback\'s Link header off)', () =>
    withServer({ digestCookie: true, fallback: { linkHeader: false } }, async (server) => {
      const client = await connect(server.url);
      const page = await fetchWithPushes(client, '/page');
      client.close();
      expect(page.pushes).toHaveLength(3);
      expect(page.headers.link).toBeUndefined();
      expect(String(page.headers['set-cookie'])).toMatch(/^h2push=[A-Za-z0-9_-]{86}; /);
    }));

  it('a garbage cookie is ignored: everything is pushed and a fresh cookie is set', () =>
    withServer({ digestCookie: true }, async (server) => {
      const client = await connect(server.url);
      const page = await fetchWithPushes(client, '/page', { cookie: 'h2push=%00<script>' + 'x'.repeat(5000) });
      client.close();
      expect(page.status).toBe(200);
      expect(page.pushes).toHaveLength(3);
      expect(String(page.headers['set-cookie'])).toMatch(/^h2push=[A-Za-z0-9_-]{86};/);
    }));

  it('a new version of a resource is pushed again', () =>
    withServer({ digestCookie: { name: 'pushed', bits: 256 } }, async (server) => {
      const client = await connect(server.url);
      const v1 = await fetchWithPushes(client, '/versioned/1');
      client.close();
      const cookie = cookieOf(v1.headers['set-cookie']);
      expect(cookie).toMatch(/^pushed=/);
      const returning = await connect(server.url);
      const sameVersion = await fetchWithPushes(returning, '/versioned/1', { cookie });
      const newVersion = await fetchWithPushes(returning, '/versioned/2', { cookie });
      returning.close();
      expect(sameVersion.pushes).toEqual([]);
      expect(pushedPaths(newVersion)).toEqual(['/static/style.css']);
    }));
});

describe('pushSummary', () => {
  it('tells per response what was pushed, hinted and cancelled, e.g. in an onResponse hook', async () => {
    const summaries: Record<string, unknown>[] = [];
    const server = await startApp(pushTestModule(), {
      configure: (app) => {
        configureTestApp(app);
        app.getHttpAdapter().getInstance().addHook('onResponse', (request, _reply, done) => {
          if (request.url === '/page') summaries.push({ ...pushSummary(request) });
          done();
        });
      },
    });
    try {
      const pushing = await connect(server.url);
      await fetchWithPushes(pushing, '/page');
      pushing.close();
      const refusing = await connect(server.url, { enablePush: false });
      await fetchWithPushes(refusing, '/page');
      refusing.close();
      expect(summaries).toEqual([
        { pushed: 3, hinted: 0, cancelled: 0 },
        { pushed: 0, hinted: 3, cancelled: 0 },
      ]);
    } finally {
      await server.close();
    }
  });
});
