import type { IncomingHttpHeaders } from 'node:http2';
import { configureTestApp, pushTestModule } from './fixtures/push-test.app';
import { connect, fetchWithPushes } from './support/h2-client';
import { startApp, type StartedApp } from './support/start-app';

/**
 * Cookies and authorization go only to the client's own origin (scheme, host and port): a pushed request for
 * another origin listed in `authorities` must not carry them, whatever its scheme.
 */
const CREDENTIALS = { cookie: 'session=1', authorization: 'Bearer secret', 'user-agent': 'ua' };

async function withServer(tls: boolean, test: (server: StartedApp) => Promise<void>) {
  const server = await startApp(pushTestModule({ authorities: ['cdn.test:8443', 'cdn.test:8080'] }), { tls, configure: configureTestApp });
  try {
    await test(server);
  } finally {
    await server.close();
  }
}

/** The promised request headers of one page's pushes (cases comma-separated), in the order they were promised. */
async function pushedRequests(server: StartedApp, cases: string): Promise<IncomingHttpHeaders[]> {
  const client = await connect(server.url);
  try {
    const page = await fetchWithPushes(client, `/echo-push?case=${cases}`, CREDENTIALS);
    expect(JSON.parse(page.body)).toEqual({ issued: true });
    return page.pushes.map((p) => p.request);
  } finally {
    client.close();
  }
}

function expectNoCredentials(request: IncomingHttpHeaders) {
  expect(request).not.toHaveProperty('cookie');
  expect(request).not.toHaveProperty('authorization');
  expect(request['user-agent']).toBe('ua'); // other inherited headers still go
}

describe('credentials stay with the client\'s origin', () => {
  it('TLS page: the same-origin push gets cookie and authorization, an https authority of `authorities` neither', () =>
    withServer(true, async (server) => {
      const [self, cdn] = await pushedRequests(server, 'plain,cdn');
      expect(self).toMatchObject({ ':scheme': 'https', ':authority': `localhost:${server.port}`, ...CREDENTIALS });
      expect(cdn).toMatchObject({ ':scheme': 'https', ':authority': 'cdn.test:8443' });
      expectNoCredentials(cdn);
    }));

  it('h2c page: the same-origin push gets cookie and authorization, an http authority of `authorities` neither', () =>
    withServer(false, async (server) => {
      const [self, cdn] = await pushedRequests(server, 'plain,cdn-http');
      expect(self).toMatchObject({ ':scheme': 'http', ':authority': `127.0.0.1:${server.port}`, ...CREDENTIALS });
      expect(cdn).toMatchObject({ ':scheme': 'http', ':authority': 'cdn.test:8080' });
      expectNoCredentials(cdn);
    }));

  it('h2c page: a push that names the page\'s own scheme is still same-origin, with credentials', () =>
    withServer(false, async (server) => {
      const [self, explicit] = await pushedRequests(server, 'plain,own-scheme');
      expect(self).toMatchObject({ ':scheme': 'http', ...CREDENTIALS });
      expect(explicit).toMatchObject({ ':scheme': 'http', ':authority': `127.0.0.1:${server.port}`, ':path': '/echo?explicit', ...CREDENTIALS });
    }));

  it('h2c page: its own host and port under https is another origin, without credentials', () =>
    withServer(false, async (server) => {
      const [self, https] = await pushedRequests(server, 'plain,other-scheme');
      expect(self).toMatchObject({ ':scheme': 'http', ...CREDENTIALS });
      expect(https).toMatchObject({ ':scheme': 'https', ':authority': `127.0.0.1:${server.port}` });
      expectNoCredentials(https);
    }));
});
