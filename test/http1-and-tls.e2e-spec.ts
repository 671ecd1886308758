import * as https from 'node:https';
import { caught, configureTestApp, pushTestModule } from './fixtures/push-test.app';
import { connect, fetchWithPushes, pushedPaths } from './support/h2-client';
import { startApp, type StartedApp } from './support/start-app';

let server: StartedApp;

beforeAll(async () => {
  server = await startApp(pushTestModule(), { tls: true, configure: configureTestApp });
});
afterAll(() => server.close());

/** A plain HTTP/1.1 request over TLS to the same server (allowHTTP1). */
function http1Get(path: string): Promise<{ status: number; version: string; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(`${server.url}${path}`, { rejectUnauthorized: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, version: res.httpVersion, body }));
      })
      .on('error', reject);
  });
}

describe('HTTP/2 over TLS', () => {
  it('pushes with the https scheme and the client\'s authority', async () => {
    const client = await connect(server.url);
    try {
      const page = await fetchWithPushes(client, '/page');
      expect(pushedPaths(page)).toEqual(['/static/style.css', '/static/app.js', '/asset/data?v=decorated']);
      expect(page.pushes[0].request).toMatchObject({ ':scheme': 'https', ':authority': `localhost:${server.port}` });
      expect(page.pushes.map((p) => p.status)).toEqual([200, 200, 200]);
    } finally {
      client.close();
    }
  });
});

describe('HTTP/1.1 through the same server', () => {
  it('push is a safe no-op and the response is unchanged', async () => {
    const result = await http1Get('/service');
    expect(result).toMatchObject({ status: 200, version: '1.1' });
    expect(JSON.parse(result.body)).toEqual({ issued: false, canPush: false });
  });

  it('@Push routes answer as without the module', async () => {
    const result = await http1Get('/page');
    expect(result.status).toBe(200);
    expect(result.body).toBe('<link rel="stylesheet" href="/static/style.css"><script src="/static/app.js"></script>');
  });

  it('a handler writing through @Res() still answers', async () => {
    expect(await http1Get('/res-push')).toMatchObject({ status: 200, body: 'written by hand' });
  });

  it('invalid pushes and pushes after the response throw as over HTTP/2: errors never depend on the client', async () => {
    expect(JSON.parse((await http1Get('/invalid?case=upper')).body)).toMatchObject({ code: 'ERR_PUSH_INVALID_HEADER' });
    caught['/res-late'] = undefined;
    await http1Get('/res-late');
    expect(caught['/res-late']).toMatchObject({ code: 'ERR_PUSH_AFTER_RESPONSE' });
  });
});
