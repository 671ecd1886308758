/**
 * The preload fallback: one 103 Early Hints before the handler and `Link: rel=preload` on the final
 * response. HTTP/1.1 clients get it the same way from the Fastify adapter and from the Express adapter
 * (which cannot push: hints are all it does); HTTP/2 cases need Fastify.
 */
import type { INestApplication } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PushService, type PushModuleOptions } from '../src';
import { configureExpressTestApp, configureTestApp, pushTestModule } from './fixtures/push-test.app';
import { connect, fetchWithPushes, h2Exchange } from './support/h2-client';
import { http1Exchange } from './support/http1-client';
import { startApp, startExpressApp, type StartedApp } from './support/start-app';

const run = promisify(execFile);
const PAGE_LINKS = [
  '</static/style.css>; rel=preload; as=style',
  '</static/app.js>; rel=preload; as=script',
  '</asset/data?v=decorated>; rel=preload; as=fetch; crossorigin',
];

const moduleWith = (options: PushModuleOptions) => pushTestModule({ authorities: ['cdn.test:8443'], ...options });

async function withServer<App extends INestApplication>(started: Promise<StartedApp<App>>, test: (server: StartedApp<App>) => Promise<void>) {
  const server = await started;
  try {
    await test(server);
  } finally {
    await server.close();
  }
}

/** The HTTP/2 Fastify app (h2c, or TLS with HTTP/1.1 allowed). */
const withH2Server = (options: PushModuleOptions, tls: boolean, test: (server: StartedApp) => Promise<void>) =>
  withServer(startApp(moduleWith(options), { tls, configure: configureTestApp }), test);

/** The same app on each adapter as an HTTP/1.1 server: cleartext, or over TLS. */
const HTTP1_ORIGINS = [
  {
    adapter: 'Fastify',
    start: (options: PushModuleOptions, tls: boolean): Promise<StartedApp<INestApplication>> =>
      // Over TLS the HTTP/2 server with allowHTTP1; in cleartext an HTTP/1.1 server (h2c speaks only HTTP/2).
      startApp(moduleWith(options), { tls, http2: tls, configure: configureTestApp }),
  },
  {
    adapter: 'Express',
    start: (options: PushModuleOptions, tls: boolean): Promise<StartedApp<INestApplication>> =>
      startExpressApp(moduleWith(options), { tls, configure: configureExpressTestApp }),
  },
];

const linksOf = (value: unknown) => String(value).split(', ');

describe.each(HTTP1_ORIGINS)('HTTP/1.1 clients on $adapter get the fallback', ({ start }) => {
  it('node:http: exactly one 103 with a preload per @Push resource, before the handler; the same links on the final response', () =>
    withServer(start({}, false), async (server) => {
      const page = await http1Exchange(`${server.url}/page`);
      expect(page.statuses).toEqual([103, 200]);
      expect(linksOf(page.interim[0].link)).toEqual(PAGE_LINKS);
      expect(linksOf(page.headers.link)).toEqual(PAGE_LINKS);
      expect(page.body).toContain('<link rel="stylesheet"');
    }));

  it('node:https: the same over TLS', () =>
    withServer(start({}, true), async (server) => {
      const page = await http1Exchange(`${server.url}/page`);
      expect(page.statuses).toEqual([103, 200]);
      expect(linksOf(page.interim[0].link)).toEqual(PAGE_LINKS);
      expect(linksOf(page.headers.link)).toEqual(PAGE_LINKS);
    }));

  it('curl -v --http1.1 sees one 103 before the 200', () =>
    withServer(start({}, true), async (server) => {
      const { stderr, stdout } = await run('curl', ['-sSvk', '--http1.1', `${server.url}/page`]);
      const lines = stderr.split('\n');
      const interim = lines.findIndex((line) => /^< HTTP\/1\.1 103/.test(line));
      const final = lines.findIndex((line) => /^< HTTP\/1\.1 200/.test(line));
      expect(interim).toBeGreaterThan(-1);
      expect(final).toBeGreaterThan(interim);
      expect(lines.filter((line) => /^< HTTP\/1\.1 103/.test(line))).toHaveLength(1);
      expect(lines.slice(interim, final).join('\n')).toContain('</static/style.css>; rel=preload; as=style');
      expect(lines.slice(final).join('\n')).toMatch(/^< link: <\/static\/style\.css>; rel=preload; as=style/im);
      expect(stdout).toContain('<link rel="stylesheet"');
    }));

  it('PushService pushes of one tick share one 103 (push() returns false); HEAD pushes are never hinted, other-authority ones as preconnect + full URL', () =>
    withServer(start({}, false), async (server) => {
      const page = await http1Exchange(`${server.url}/hint-mix`);
      expect(page.statuses).toEqual([103, 200]);
      const expected = [
        '</static/style.css>; rel=preload; as=style',
        '</static/app.js>; rel=preload; as=script',
        '<https://cdn.test:8443>; rel=preconnect; crossorigin',
        '<https://cdn.test:8443/echo>; rel=preload; as=fetch; crossorigin',
      ];
      expect(linksOf(page.interim[0].link)).toEqual(expected);
      expect(linksOf(page.headers.link)).toEqual(expected);
      const service = await http1Exchange(`${server.url}/service`);
      expect(JSON.parse(service.body)).toEqual({ issued: false, canPush: false });
      expect(service.headers.link).toBe('</asset/data?v=service>; rel=preload; as=fetch; crossorigin');
    }));

  it('a handler writing the response itself gets no late 103, only the Link header', () =>
    withServer(start({}, false), async (server) => {
      const page = await http1Exchange(`${server.url}/res-push`);
      expect(page.statuses).toEqual([200]);
      expect(page.headers.link).toBe('</asset/data>; rel=preload; as=fetch; crossorigin');
      expect(page.body).toBe('written by hand');
    }));

  it('one 103 per response: hints found after it (later ticks of the handler) go only in the final Link', () =>
    withServer(start({}, false), async (server) => {
      const page = await http1Exchange(`${server.url}/hinted-late`);
      expect(page.statuses).toEqual([103, 200]);
      expect(page.interim[0].link).toBe('</static/style.css>; rel=preload; as=style');
      expect(linksOf(page.headers.link)).toEqual([
        '</static/style.css>; rel=preload; as=style',
        '</static/app.js>; rel=preload; as=script',
        '</asset/data>; rel=preload; as=fetch; crossorigin',
      ]);
    }));

  it('a POST with a JSON body: push() after the body was parsed still finds its request', () =>
    withServer(start({}, false), async (server) => {
      const page = await http1Exchange(`${server.url}/post-push`, {}, { n: 1 });
      expect(page.status).toBe(201);
      expect(JSON.parse(page.body)).toEqual({ issued: false, body: { n: 1 } });
      expect(page.headers.link).toBe('</static/style.css>; rel=preload; as=style');
    }));

  it('a Link the page sets itself comes first; a resource it already links is not linked twice', () =>
    withServer(start({}, false), async (server) => {
      const page = await http1Exchange(`${server.url}/own-link`);
      expect(page.statuses).toEqual([103, 200]);
      expect(linksOf(page.interim[0].link)).toEqual(['</static/style.css>; rel=preload; as=style', '</static/app.js>; rel=preload; as=script']);
      expect(linksOf(page.headers.link)).toEqual(['</static/style.css>; rel=preload; as=style', '</static/app.js>; rel=preload; as=script']);
    }));

  it('hints go out after guards: a client the guard rejects gets no 103 and no Link', () =>
    withServer(start({}, false), async (server) => {
      const rejected = await http1Exchange(`${server.url}/guarded-page`);
      expect(rejected.statuses).toEqual([403]);
      expect(rejected.headers.link).toBeUndefined();
      const admitted = await http1Exchange(`${server.url}/guarded-page`, { authorization: 'Bearer secret' });
      expect(admitted.statuses).toEqual([103, 200]);
      expect(admitted.interim[0].link).toBe('</static/app.js>; rel=preload; as=script');
    }));

  it('fallback: false sends neither hints nor links, and counts none', () =>
    withServer(start({ fallback: false }, false), async (server) => {
      const page = await http1Exchange(`${server.url}/page`);
      expect(page.statuses).toEqual([200]);
      expect(page.headers.link).toBeUndefined();
      const stats = server.app.get(PushService).stats();
      expect(stats.refused.http1).toBe(3);
      expect(stats.hinted).toBe(0);
    }));

  it('earlyHints: false keeps the Link header; linkHeader: false keeps the 103', async () => {
    await withServer(start({ fallback: { earlyHints: false } }, false), async (server) => {
      const page = await http1Exchange(`${server.url}/page`);
      expect(page.statuses).toEqual([200]);
      expect(linksOf(page.headers.link)).toEqual(PAGE_LINKS);
    });
    await withServer(start({ fallback: { linkHeader: false } }, false), async (server) => {
      const page = await http1Exchange(`${server.url}/page`);
      expect(page.statuses).toEqual([103, 200]);
      expect(linksOf(page.interim[0].link)).toEqual(PAGE_LINKS);
      expect(page.headers.link).toBeUndefined();
    });
  });

  it('nopush marks only pushed resources: over HTTP/1.1 nothing was pushed, so every link is a plain hint', () =>
    withServer(start({ fallback: { nopush: true } }, false), async (server) => {
      const page = await http1Exchange(`${server.url}/page`);
      expect(linksOf(page.headers.link)).toEqual(PAGE_LINKS);
    }));
});

describe('HTTP/2 clients that refuse push (Fastify)', () => {
  it('push disabled: exactly one 103 with a preload per @Push resource, before the final response', () =>
    withH2Server({}, false, async (server) => {
      const session = await connect(server.url, { enablePush: false });
      try {
        const page = await h2Exchange(session, '/page');
        expect(page.events).toEqual(['103', '200']);
        expect(linksOf(page.interim[0].link)).toEqual(PAGE_LINKS);
        expect(linksOf(page.final.link)).toEqual(PAGE_LINKS);
        expect(page.body).toContain('<link rel="stylesheet"');
      } finally {
        session.close();
      }
    }));

  it('pushed resources are not hinted: no 103 and no Link when everything was pushed', () =>
    withH2Server({}, false, async (server) => {
      const session = await connect(server.url);
      try {
        const page = await fetchWithPushes(session, '/page');
        expect(page.pushes).toHaveLength(3);
        expect(page.events).toEqual(['promise /static/style.css', 'promise /static/app.js', 'promise /asset/data?v=decorated', 'response']);
        expect(page.headers.link).toBeUndefined();
      } finally {
        session.close();
      }
    }));

  it('with nopush: links for pushed resources are marked nopush so a proxy does not push them again', () =>
    withH2Server({ fallback: { nopush: true } }, false, async (server) => {
      const session = await connect(server.url);
      try {
        const page = await fetchWithPushes(session, '/page');
        expect(linksOf(page.headers.link)).toEqual(PAGE_LINKS.map((link) => `${link}; nopush`));
      } finally {
        session.close();
      }
    }));

  it('with nopush: a resource pushed from the handler (PushService) is linked by its own path and query, marked nopush', () =>
    withH2Server({ fallback: { nopush: true } }, false, async (server) => {
      const session = await connect(server.url);
      try {
        const page = await fetchWithPushes(session, '/service');
        expect(page.pushes.map((p) => p.request[':path'])).toEqual(['/asset/data?v=service']);
        expect(linksOf(page.headers.link)).toEqual([expect.stringMatching(/^<\/asset\/data\?v=service>; rel=preload; .*; nopush$/)]);
      } finally {
        session.close();
      }
    }));

  it('a push that spells out the page\'s own origin (its scheme given) is hinted by a relative link', () =>
    withH2Server({}, false, async (server) => {
      const session = await connect(server.url, { enablePush: false });
      try {
        const page = await h2Exchange(session, '/echo-push?case=own-scheme');
        expect(page.events).toEqual(['103', '200']);
        expect(linksOf(page.final.link)).toEqual([expect.stringMatching(/^<\/echo\?explicit>; rel=preload; /)]);
      } finally {
        session.close();
      }
    }));

  it('resources over maxPushesPerRequest are hinted even when push works', () =>
    withH2Server({ maxPushesPerRequest: 1 }, false, async (server) => {
      const session = await connect(server.url);
      try {
        const page = await fetchWithPushes(session, '/page');
        expect(page.events).toEqual(['promise /static/style.css', 'interim 103', 'response']);
        expect(linksOf(page.headers.link)).toEqual(PAGE_LINKS.slice(1));
      } finally {
        session.close();
      }
    }));

  it('PushService pushes of one tick share one 103; HEAD pushes are never hinted, other-authority ones as preconnect + full URL', () =>
    withH2Server({}, false, async (server) => {
      const session = await connect(server.url, { enablePush: false });
      try {
        const page = await h2Exchange(session, '/hint-mix');
        expect(page.events).toEqual(['103', '200']);
        const expected = [
          '</static/style.css>; rel=preload; as=style',
          '</static/app.js>; rel=preload; as=script',
          '<https://cdn.test:8443>; rel=preconnect; crossorigin',
          '<https://cdn.test:8443/echo>; rel=preload; as=fetch; crossorigin',
        ];
        expect(linksOf(page.interim[0].link)).toEqual(expected);
        expect(linksOf(page.final.link)).toEqual(expected);
      } finally {
        session.close();
      }
    }));

  it('one 103 per response: hints found after it (later ticks of the handler) go only in the final Link', () =>
    withH2Server({}, false, async (server) => {
      const session = await connect(server.url, { enablePush: false });
      try {
        const page = await h2Exchange(session, '/hinted-late');
        expect(page.events).toEqual(['103', '200']);
        expect(page.interim[0].link).toBe('</static/style.css>; rel=preload; as=style');
        expect(linksOf(page.final.link)).toEqual([
          '</static/style.css>; rel=preload; as=style',
          '</static/app.js>; rel=preload; as=script',
          '</asset/data>; rel=preload; as=fetch; crossorigin',
        ]);
      } finally {
        session.close();
      }
    }));

  it('a handler writing the response itself gets no late 103, only the Link header', () =>
    withH2Server({}, false, async (server) => {
      const session = await connect(server.url, { enablePush: false });
      try {
        const page = await h2Exchange(session, '/res-push');
        expect(page.events).toEqual(['200']);
        expect(page.final.link).toBe('</asset/data>; rel=preload; as=fetch; crossorigin');
      } finally {
        session.close();
      }
    }));

  it('fallback: false sends neither hints nor links, and counts none', () =>
    withH2Server({ fallback: false }, false, async (server) => {
      const session = await connect(server.url, { enablePush: false });
      try {
        const page = await h2Exchange(session, '/page');
        expect(page.events).toEqual(['200']);
        expect(page.final.link).toBeUndefined();
        const stats = server.app.get(PushService).stats();
        expect(stats.refused.disabled).toBe(3);
        expect(stats.hinted).toBe(0);
      } finally {
        session.close();
      }
    }));

  it('nghttp --no-push -v', () =>
    withH2Server({}, false, async (server) => {
      const { stdout } = await run('nghttp', ['--no-push', '-v', `${server.url}/page`]);
      const statuses = [...stdout.matchAll(/:status: (\d+)/g)].map((m) => m[1]);
      expect(statuses).toEqual(['103', '200']);
      expect(stdout).toMatch(/link: <\/static\/style\.css>; rel=preload; as=style/);
    }));
});
