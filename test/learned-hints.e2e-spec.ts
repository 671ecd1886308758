/**
 * `learnedHints`: the next request to a page gets, in its one 103 and before the handler runs, the
 * preload links the page's latest shareable response ended with. Real Nest + Fastify HTTP/2 servers on
 * loopback and node:http2 clients that refuse push, as browsers do. "Before the handler" is read off the
 * server's trace: when it wrote the 103 and when the handler started (a busy client may read the 103 late).
 */
import type * as http2 from 'node:http2';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { PushModuleOptions } from '../src';
import { LearnedHints } from '../src/hints/learned/learned-hints';
import { APP_GUARD_PROVIDER, GlobalHeaderGuard, learnedHintsModule, serverTrace, traceEarlyHints } from './fixtures/learned-hints.app';
import { connect } from './support/h2-client';
import { startApp, type StartedApp } from './support/start-app';

const STYLE = '</static/style.css>; rel=preload; as=style';
const SCRIPT = '</static/app.js>; rel=preload; as=script';

interface Exchange {
  sentAt: number;
  /** Each 103 (or other 1xx): when it arrived and its links. */
  interim: { at: number; status: number; links: string[] }[];
  status: number;
  link: string[];
  finalAt: number;
}

const linksOf = (value: unknown) => (value === undefined ? [] : String(value).split(', '));

function exchange(session: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const result: Exchange = { sentAt: performance.now(), interim: [], status: 0, link: [], finalAt: 0 };
    const request = session.request({ ':path': path, ...headers });
    request.on('headers', (h) => result.interim.push({ at: performance.now(), status: Number(h[':status']), links: linksOf(h.link) }));
    request.on('response', (h) => {
      result.finalAt = performance.now();
      result.status = Number(h[':status']);
      result.link = linksOf(h.link);
    });
    request.resume();
    request.on('end', () => resolve(result));
    request.on('error', reject);
  });
}

/** When the server wrote the 103 of the request sent at `sentAt` (Infinity: it wrote none). */
function hintWritten(sentAt: number): number {
  return serverTrace.find((e) => e.what === '103 written' && e.at >= sentAt)?.at ?? Infinity;
}

/** When the server's handler for `name` started in the request sent at `sentAt`. */
function handlerStart(name: string, sentAt: number): number {
  const entry = serverTrace.find((e) => e.what === `${name} handler start` && e.at >= sentAt);
  if (!entry) throw new Error(`no ${name} handler ran after ${sentAt}`);
  return entry.at;
}

async function withApp(
  options: PushModuleOptions,
  test: (app: StartedApp, session: http2.ClientHttp2Session) => Promise<void>,
  providers = [],
  configure?: (nest: NestFastifyApplication) => void,
) {
  const app = await startApp(learnedHintsModule({ learnedHints: true, ...options }, providers), {
    configure: (nest) => {
      traceEarlyHints(nest);
      configure?.(nest);
    },
  });
  const session = await connect(app.url, { enablePush: false });
  try {
    await test(app, session);
  } finally {
    session.close();
    await app.close();
  }
}

const learned = (app: StartedApp) => app.app.get(LearnedHints).size;

describe('learned hints', () => {
  it('the second request to a page gets what the first ended with, in one 103 sent before the handler runs', () =>
    withApp({}, async (_app, session) => {
      const first = await exchange(session, '/think');
      // Nothing learned yet: the pushes' 103 comes when the handler names them, after its think time.
      expect(first.interim).toHaveLength(1);
      expect(hintWritten(first.sentAt)).toBeGreaterThan(handlerStart('think', first.sentAt));
      expect(first.link).toEqual([STYLE, SCRIPT]);

      const second = await exchange(session, '/think?utm=x');
      expect(second.status).toBe(200);
      expect(second.interim.map((i) => i.status)).toEqual([103]);
      expect(second.interim[0].links).toEqual([STYLE, SCRIPT]);
      // The 103 left before the handler started: the server wrote it from the hook.
      expect(hintWritten(second.sentAt)).toBeLessThan(handlerStart('think', second.sentAt));
      expect(second.link).toEqual([STYLE, SCRIPT]);
    }));

  it('a page with @Push() and learned links still gets exactly one 103', () =>
    withApp({}, async (_app, session) => {
      await exchange(session, '/declared');
      const second = await exchange(session, '/declared');
      expect(second.interim.map((i) => i.status)).toEqual([103]);
      expect(second.interim[0].links).toEqual([STYLE, SCRIPT]);
    }));

  it('the one 103 adds the @Push() resources that the learned links lack (here cut by maxLinksPerPath)', () =>
    withApp({ learnedHints: { maxLinksPerPath: 1 } }, async (_app, session) => {
      // The page's own Link comes first among what it ends with, so only its script is kept.
      const first = await exchange(session, '/declared-and-linked');
      expect(first.interim.map((i) => i.links)).toEqual([[STYLE]]);
      const second = await exchange(session, '/declared-and-linked');
      expect(second.interim.map((i) => i.status)).toEqual([103]);
      expect(second.interim[0].links).toEqual([SCRIPT, STYLE]);
    }));

  it('the latest response replaces what was learned (per path: the query does not count)', () =>
    withApp({}, async (_app, session) => {
      await exchange(session, '/varies?set=a');
      const b = await exchange(session, '/varies?set=b');
      expect(b.interim[0].links).toEqual(['</static/a.css>; rel=preload; as=style']);
      const again = await exchange(session, '/varies');
      expect(again.interim[0].links).toEqual(['</static/b.css>; rel=preload; as=style']);
    }));

  it('learns the app\'s own Link: rel=preload and rel=preconnect values, not other relations', () =>
    withApp({}, async (_app, session) => {
      const first = await exchange(session, '/app-link');
      expect(first.interim).toEqual([]);
      const second = await exchange(session, '/app-link');
      expect(second.interim.map((i) => i.links)).toEqual([[STYLE, '<https://fonts.test>; rel=preconnect']]);
    }));

  it('resources on another authority become a preconnect to their origin, plus a full-URL preload for https', () =>
    withApp({}, async (_app, session) => {
      const first = await exchange(session, '/cdn');
      const expected = [
        '<https://cdn.test:8443>; rel=preconnect',
        '<https://cdn.test:8443/lib.js>; rel=preload; as=script',
        '<http://plain.test>; rel=preconnect; crossorigin',
      ];
      expect(first.link).toEqual(expected);
      const second = await exchange(session, '/cdn');
      expect(second.interim[0].links).toEqual(expected);
    }));

  describe('never a leak: the rules of a shared cache', () => {
    it('no 103 for a client that the route\'s guard rejects; after the guard for one it lets in', () =>
      withApp({}, async (app, session) => {
        await exchange(session, '/guarded', { 'x-token': 'secret' });
        expect(learned(app).pages).toBe(1);
        const rejected = await exchange(session, '/guarded');
        expect(rejected.status).toBe(403);
        expect(rejected.interim).toEqual([]);
        const allowed = await exchange(session, '/guarded', { 'x-token': 'secret' });
        expect(allowed.interim.map((i) => i.links)).toEqual([[STYLE, SCRIPT]]);
        expect(hintWritten(allowed.sentAt)).toBeLessThan(handlerStart('guarded', allowed.sentAt));
      }));

    it('no 103 for a client that a global APP_GUARD rejects, on routes without guards of their own too', () =>
      withApp({}, async (app, session) => {
        await exchange(session, '/think', { 'x-global': 'yes' });
        expect(learned(app).pages).toBe(1);
        const rejected = await exchange(session, '/think');
        expect(rejected.status).toBe(403);
        expect(rejected.interim).toEqual([]);
        const allowed = await exchange(session, '/think', { 'x-global': 'yes' });
        expect(allowed.interim.map((i) => i.links)).toEqual([[STYLE, SCRIPT]]);
        expect(hintWritten(allowed.sentAt)).toBeLessThan(handlerStart('think', allowed.sentAt));
      }, [APP_GUARD_PROVIDER] as never));

    it('with app.useGlobalGuards(), which the module only sees at start-up, routes without guards of their own get no learned 103', () =>
      withApp({}, async (app, session) => {
        await exchange(session, '/think', { 'x-global': 'yes' });
        expect(learned(app).pages).toBe(1);
        expect((await exchange(session, '/think')).interim).toEqual([]);
        const allowed = await exchange(session, '/think', { 'x-global': 'yes' });
        expect(hintWritten(allowed.sentAt)).toBeGreaterThan(handlerStart('think', allowed.sentAt)); // only the pushes' own 103
        // A route with a guard of its own still gets its learned 103, after every guard.
        await exchange(session, '/guarded', { 'x-global': 'yes', 'x-token': 'secret' });
        expect((await exchange(session, '/guarded', { 'x-token': 'secret' })).interim).toEqual([]);
        const guarded = await exchange(session, '/guarded', { 'x-global': 'yes', 'x-token': 'secret' });
        expect(hintWritten(guarded.sentAt)).toBeLessThan(handlerStart('guarded', guarded.sentAt));
      }, [], (nest) => nest.useGlobalGuards(new GlobalHeaderGuard())));

    it('no 103 for a client that a Fastify preHandler hook rejects (a plugin\'s check, as @fastify/auth does)', () =>
      withApp({}, async (app, session) => {
        await exchange(session, '/think', { 'x-plugin': 'yes' });
        expect(learned(app).pages).toBe(1);
        const rejected = await exchange(session, '/think');
        expect(rejected.status).toBe(401);
        expect(rejected.interim).toEqual([]);
        const allowed = await exchange(session, '/think', { 'x-plugin': 'yes' });
        expect(allowed.interim.map((i) => i.links)).toEqual([[STYLE, SCRIPT]]);
        expect(hintWritten(allowed.sentAt)).toBeLessThan(handlerStart('think', allowed.sentAt));
      }, [], (nest) => {
        nest.getHttpAdapter().getInstance().addHook('preHandler', async (request, reply) => {
          if (request.headers['x-plugin'] !== 'yes') await reply.code(401).send('no');
        });
      }));

    it.each([204, 301, 404, 500])('a %i response is learned only because it is a 2xx', (code) =>
      withApp({}, async (app, session) => {
        await exchange(session, `/status/${code}`);
        const second = await exchange(session, `/status/${code}`);
        expect(learned(app).pages).toBe(code === 204 ? 1 : 0);
        if (code !== 204) expect(hintWritten(second.sentAt)).toBeGreaterThan(handlerStart('status', second.sentAt));
      }));

    it.each(['private', 'no-store', 'max-age=60, private', 'no-store, max-age=0'])('learns nothing from a response marked cache-control: %s', (directives) =>
      withApp({}, async (app, session) => {
        const path = `/cache/${encodeURIComponent(directives)}`;
        await exchange(session, path);
        const second = await exchange(session, path);
        expect(learned(app).pages).toBe(0);
        expect(hintWritten(second.sentAt)).toBeGreaterThan(handlerStart('cache', second.sentAt));
      }));

    it.each([
      ['cookie', { cookie: 'session=u1' }],
      ['authorization', { authorization: 'Bearer u1' }],
    ])('learns nothing from a request with %s, unless the response says cache-control: public', (_name, credentials) =>
      withApp({}, async (app, session) => {
        await exchange(session, '/think', credentials);
        expect(learned(app).pages).toBe(0);
        await exchange(session, '/cache/max-age%3D60', credentials);
        expect(learned(app).pages).toBe(0);
        await exchange(session, '/cache/public%2C%20max-age%3D60', credentials);
        expect(learned(app).pages).toBe(1);
        // What was learned from an anonymous response is still hinted to a client with credentials.
        const hinted = await exchange(session, '/cache/public%2C%20max-age%3D60', credentials);
        expect(hinted.interim[0].links).toEqual([STYLE, SCRIPT]);
      }));

    it('a response that may not be learned leaves what was learned as it was', () =>
      withApp({}, async (app, session) => {
        await exchange(session, '/think');
        await exchange(session, '/think', { cookie: 'session=u1' });
        expect(learned(app).pages).toBe(1);
        expect((await exchange(session, '/think')).interim[0].links).toEqual([STYLE, SCRIPT]);
      }));
  });

  describe('browser rules', () => {
    it('by default only navigations and requests without sec-fetch-mode get the learned 103', () =>
      withApp({}, async (_app, session) => {
        await exchange(session, '/think');
        const fetched = await exchange(session, '/think', { 'sec-fetch-mode': 'cors' });
        expect(hintWritten(fetched.sentAt)).toBeGreaterThan(handlerStart('think', fetched.sentAt));
        const navigated = await exchange(session, '/think', { 'sec-fetch-mode': 'navigate' });
        expect(hintWritten(navigated.sentAt)).toBeLessThan(handlerStart('think', navigated.sentAt));
      }));

    it('navigationsOnly: false sends it to any GET', () =>
      withApp({ learnedHints: { navigationsOnly: false } }, async (_app, session) => {
        await exchange(session, '/think');
        const fetched = await exchange(session, '/think', { 'sec-fetch-mode': 'cors' });
        expect(hintWritten(fetched.sentAt)).toBeLessThan(handlerStart('think', fetched.sentAt));
      }));

    it('HEAD requests teach nothing', () =>
      withApp({}, async (app, session) => {
        await exchange(session, '/think', { ':method': 'HEAD' });
        expect(learned(app).pages).toBe(0);
      }));
  });

  it('a flood of distinct paths stays within maxPaths and maxBytes', () =>
    withApp({ learnedHints: { maxPaths: 5, maxBytes: 400 } }, async (app, session) => {
      let peak = { pages: 0, bytes: 0 };
      for (let i = 0; i < 60; i++) {
        await exchange(session, `/pages/${i}`);
        const size = learned(app);
        peak = { pages: Math.max(peak.pages, size.pages), bytes: Math.max(peak.bytes, size.bytes) };
      }
      expect(peak.pages).toBe(5);
      expect(peak.bytes).toBeLessThanOrEqual(400);
    }));

  it('off by default: nothing is learned', async () => {
    const app = await startApp(learnedHintsModule({}), { configure: traceEarlyHints });
    const session = await connect(app.url, { enablePush: false });
    try {
      await exchange(session, '/think');
      const second = await exchange(session, '/think');
      expect(hintWritten(second.sentAt)).toBeGreaterThan(handlerStart('think', second.sentAt));
      expect(learned(app).pages).toBe(0);
    } finally {
      session.close();
      await app.close();
    }
  });
});
