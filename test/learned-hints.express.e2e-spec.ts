/**
 * `learnedHints` on `@nestjs/platform-express` (HTTP/1.1, hints mode): the same app as
 * test/learned-hints.e2e-spec.ts, the same rules, an HTTP/1.1 client (`node:http`). Express has no hook
 * between routing and a route's guards, so the module looks learned hints up in its middleware and a guard
 * on every GET route sends them, after the route's real guards: also after `app.useGlobalGuards()` ones.
 * "Before the handler" is read off the server's trace, as on Fastify.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { PushModuleOptions } from '../src';
import { LearnedHints } from '../src/hints/learned/learned-hints';
import { APP_GUARD_PROVIDER, GlobalHeaderGuard, learnedHintsModule, serverTrace, traceExpressEarlyHints } from './fixtures/learned-hints.app';
import { http1Exchange } from './support/http1-client';
import { startExpressApp, type StartedApp } from './support/start-app';
import type { NestExpressApplication } from '@nestjs/platform-express';

const STYLE = '</static/style.css>; rel=preload; as=style';
const SCRIPT = '</static/app.js>; rel=preload; as=script';
const linksOf = (value: unknown) => (value === undefined ? [] : String(value).split(', '));

type App = StartedApp<NestExpressApplication>;

/** One GET: when it was sent, its 103s' links, its status and final links. */
async function get(app: App, path: string, headers: OutgoingHttpHeaders = {}) {
  const sentAt = performance.now();
  const result = await http1Exchange(`${app.url}${path}`, headers);
  return { sentAt, status: result.status, interim: result.interim.map((h) => linksOf(h.link)), link: linksOf(result.headers.link) };
}

/** When the server wrote the 103 of the request sent at `sentAt` (Infinity: it wrote none). */
const hintWritten = (sentAt: number) => serverTrace.find((e) => e.what === '103 written' && e.at >= sentAt)?.at ?? Infinity;

/** When the server's handler for `name` started in the request sent at `sentAt`. */
function handlerStart(name: string, sentAt: number): number {
  const entry = serverTrace.find((e) => e.what === `${name} handler start` && e.at >= sentAt);
  if (!entry) throw new Error(`no ${name} handler ran after ${sentAt}`);
  return entry.at;
}

async function withApp(options: PushModuleOptions, test: (app: App) => Promise<void>, providers = [], configure?: (app: NestExpressApplication) => void) {
  const app = await startExpressApp(learnedHintsModule({ learnedHints: true, ...options }, providers), {
    configure: (nest) => {
      traceExpressEarlyHints(nest);
      configure?.(nest);
    },
  });
  try {
    await test(app);
  } finally {
    await app.close();
  }
}

const learned = (app: App) => app.app.get(LearnedHints).size;

describe('learned hints on Express', () => {
  it('the second request to a page gets what the first ended with, in one 103 sent before the handler runs', () =>
    withApp({}, async (app) => {
      const first = await get(app, '/think');
      expect(hintWritten(first.sentAt)).toBeGreaterThan(handlerStart('think', first.sentAt));
      expect(first.link).toEqual([STYLE, SCRIPT]);
      const second = await get(app, '/think?utm=x');
      expect(second.status).toBe(200);
      expect(second.interim).toEqual([[STYLE, SCRIPT]]);
      expect(hintWritten(second.sentAt)).toBeLessThan(handlerStart('think', second.sentAt));
    }));

  it('a page with @Push() and learned links still gets exactly one 103', () =>
    withApp({}, async (app) => {
      await get(app, '/declared');
      expect((await get(app, '/declared')).interim).toEqual([[STYLE, SCRIPT]]);
    }));

  it('learns the app\'s own Link: rel=preload and rel=preconnect values, from a route that pushes nothing', () =>
    withApp({}, async (app) => {
      expect((await get(app, '/app-link')).interim).toEqual([]);
      expect((await get(app, '/app-link')).interim).toEqual([[STYLE, '<https://fonts.test>; rel=preconnect']]);
    }));

  it('no 103 for a client that the route\'s guard rejects; after the guard for one it lets in', () =>
    withApp({}, async (app) => {
      await get(app, '/guarded', { 'x-token': 'secret' });
      const rejected = await get(app, '/guarded');
      expect(rejected.status).toBe(403);
      expect(rejected.interim).toEqual([]);
      const allowed = await get(app, '/guarded', { 'x-token': 'secret' });
      expect(allowed.interim).toEqual([[STYLE, SCRIPT]]);
      expect(hintWritten(allowed.sentAt)).toBeLessThan(handlerStart('guarded', allowed.sentAt));
    }));

  it('no 103 for a client that a global APP_GUARD rejects', () =>
    withApp({}, async (app) => {
      await get(app, '/think', { 'x-global': 'yes' });
      const rejected = await get(app, '/think');
      expect(rejected.status).toBe(403);
      expect(rejected.interim).toEqual([]);
      expect((await get(app, '/think', { 'x-global': 'yes' })).interim).toEqual([[STYLE, SCRIPT]]);
    }, [APP_GUARD_PROVIDER] as never));

  it('with app.useGlobalGuards(), every route still gets its learned 103, after the global guard', () =>
    withApp({}, async (app) => {
      await get(app, '/think', { 'x-global': 'yes' });
      expect(learned(app).pages).toBe(1);
      expect((await get(app, '/think')).interim).toEqual([]);
      const allowed = await get(app, '/think', { 'x-global': 'yes' });
      expect(allowed.interim).toEqual([[STYLE, SCRIPT]]);
      expect(hintWritten(allowed.sentAt)).toBeLessThan(handlerStart('think', allowed.sentAt));
    }, [], (nest) => nest.useGlobalGuards(new GlobalHeaderGuard())));

  it.each([
    ['a 404', '/status/404', {}],
    ['a private response', `/cache/${encodeURIComponent('max-age=60, private')}`, {}],
    ['a request with a cookie', '/think', { cookie: 'session=u1' }],
  ])('learns nothing from %s', (_name, path, headers) =>
    withApp({}, async (app) => {
      await get(app, path, headers);
      expect(learned(app).pages).toBe(0);
    }));

  it('by default only navigations and requests without sec-fetch-mode get the learned 103', () =>
    withApp({}, async (app) => {
      await get(app, '/think');
      const fetched = await get(app, '/think', { 'sec-fetch-mode': 'cors' });
      expect(hintWritten(fetched.sentAt)).toBeGreaterThan(handlerStart('think', fetched.sentAt));
      const navigated = await get(app, '/think', { 'sec-fetch-mode': 'navigate' });
      expect(hintWritten(navigated.sentAt)).toBeLessThan(handlerStart('think', navigated.sentAt));
    }));

  it('off by default: nothing is learned', async () => {
    const app = await startExpressApp(learnedHintsModule({}), { configure: traceExpressEarlyHints });
    try {
      await get(app, '/think');
      const second = await get(app, '/think');
      expect(hintWritten(second.sentAt)).toBeGreaterThan(handlerStart('think', second.sentAt));
      expect(learned(app).pages).toBe(0);
    } finally {
      await app.close();
    }
  });
});
