import { execFile } from 'node:child_process';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { promisify } from 'node:util';
import type { PushModuleOptions } from '../src';
import { configureTestApp, pushTestModule } from './fixtures/push-test.app';
import { connect, fetchWithPushes } from './support/h2-client';
import { startApp, type StartedApp } from './support/start-app';

const run = promisify(execFile);
const PAGE_LINKS = [
  '</static/style.css>; rel=preload; as=style',
  '</static/app.js>; rel=preload; as=script',
  '</asset/data?v=decorated>; rel=preload; as=fetch; crossorigin',
];

/** An HTTP/2 GET that records every interim (1xx) response and the final one, in order. */
function h2Exchange(session: http2.ClientHttp2Session, path: string) {
  return new Promise<{ events: string[]; interim: http2.IncomingHttpHeaders[]; final: http2.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const events: string[] = [];
      const interim: http2.IncomingHttpHeaders[] = [];
      let final: http2.IncomingHttpHeaders = {};
      let body = '';
      const request = session.request({ ':path': path });
      request.on('headers', (headers) => {
        events.push(String(headers[':status']));
        interim.push(headers);
      });
      request.on('response', (headers) => {
        events.push(String(headers[':status']));
        final = headers;
      });
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => resolve({ events, interim, final, body }));
      request.on('error', reject);
    },
  );
}

async function withServer(options: PushModuleOptions, tls: boolean, test: (server: StartedApp) => Promise<void>) {
  const server = await startApp(pushTestModule({ authorities: ['cdn.test:8443'], ...options }), { tls, configure: configureTestApp });
  try {
    await test(server);
  } finally {
    await server.close();
  }
}

const linksOf = (value: unknown) => String(value).split(', ');

describe('fallback for clients that refuse push', () => {
  it('HTTP/2 with push disabled: exactly one 103 with a preload per @Push resource, before the final response', () =>
    withServer({}, false, async (server) => {
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

  it('HTTP/1.1: exactly one 103 with the same links, and the links on the final response', () =>
    withServer({}, true, async (server) => {
      const result = await new Promise<{ interim: { statusCode: number; headers: Record<string, unknown> }[]; status: number; link: unknown }>(
        (resolve, reject) => {
          const interim: { statusCode: number; headers: Record<string, unknown> }[] = [];
          https
            .get(`${server.url}/page`, { rejectUnauthorized: false }, (res) => {
              res.resume();
              res.on('end', () => resolve({ interim, status: res.statusCode ?? 0, link: res.headers.link }));
            })
            .on('information', (info) => interim.push({ statusCode: info.statusCode, headers: info.headers }))
            .on('error', reject);
        },
      );
      expect(result.interim.map((i) => i.statusCode)).toEqual([103]);
      expect(linksOf(result.interim[0].headers.link)).toEqual(PAGE_LINKS);
      expect(result.status).toBe(200);
      expect(linksOf(result.link)).toEqual(PAGE_LINKS);
    }));

  it('pushed resources are not hinted: no 103 and no Link when everything was pushed', () =>
    withServer({}, false, async (server) => {
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
    withServer({ fallback: { nopush: true } }, false, async (server) => {
      const session = await connect(server.url);
      try {
        const page = await fetchWithPushes(session, '/page');
        expect(linksOf(page.headers.link)).toEqual(PAGE_LINKS.map((link) => `${link}; nopush`));
      } finally {
        session.close();
      }
    }));

  it('resources over maxPushesPerRequest are hinted even when push works', () =>
    withServer({ maxPushesPerRequest: 1 }, false, async (server) => {
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
    withServer({}, false, async (server) => {
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
    withServer({}, false, async (server) => {
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
    withServer({}, false, async (server) => {
      const session = await connect(server.url, { enablePush: false });
      try {
        const page = await h2Exchange(session, '/res-push');
        expect(page.events).toEqual(['200']);
        expect(page.final.link).toBe('</asset/data>; rel=preload; as=fetch; crossorigin');
      } finally {
        session.close();
      }
    }));

  it('fallback: false sends neither hints nor links', () =>
    withServer({ fallback: false }, false, async (server) => {
      const session = await connect(server.url, { enablePush: false });
      try {
        const page = await h2Exchange(session, '/page');
        expect(page.events).toEqual(['200']);
        expect(page.final.link).toBeUndefined();
      } finally {
        session.close();
      }
    }));
});

describe('real clients see the 103', () => {
  it('curl -v --http1.1', () =>
    withServer({}, true, async (server) => {
      const { stderr, stdout } = await run('curl', ['-sSvk', '--http1.1', `${server.url}/page`]);
      const lines = stderr.split('\n');
      const interim = lines.findIndex((line) => /^< HTTP\/1\.1 103/.test(line));
      const final = lines.findIndex((line) => /^< HTTP\/1\.1 200/.test(line));
      expect(interim).toBeGreaterThan(-1);
      expect(final).toBeGreaterThan(interim);
      expect(lines.filter((line) => /^< HTTP\/1\.1 103/.test(line))).toHaveLength(1);
      expect(lines.slice(interim, final).join('\n')).toContain('</static/style.css>; rel=preload; as=style');
      expect(stdout).toContain('<link rel="stylesheet"');
    }));

  it('nghttp --no-push -v', () =>
    withServer({}, false, async (server) => {
      const { stdout } = await run('nghttp', ['--no-push', '-v', `${server.url}/page`]);
      const statuses = [...stdout.matchAll(/:status: (\d+)/g)].map((m) => m[1]);
      expect(statuses).toEqual(['103', '200']);
      expect(stdout).toMatch(/link: <\/static\/style\.css>; rel=preload; as=style/);
    }));
});
