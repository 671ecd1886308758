import * as https from 'node:https';
import * as tls from 'node:tls';
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

/** A raw HTTP/1.0 request over TLS, exactly as written (no `Host` header unless `request` has one). */
function http10Raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => socket.write(request));
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
  });
}

const bodyOf = (response: string) => response.slice(response.indexOf('\r\n\r\n') + 4);

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

  it('a request that names no authority (HTTP/1.0 without Host) cannot push to its own: a typed error says to give "host"', async () => {
    const response = await http10Raw('GET /invalid?case=own HTTP/1.0\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(bodyOf(response))).toEqual({
      code: 'ERR_PUSH_UNKNOWN_AUTHORITY',
      name: 'PushValidationError',
      message: 'Cannot push /x: the request has no authority (":authority"/"host"); give the "host" option.',
    });
  });

  it('an HTTP/1.0 client gets no 103 (HTTP/1.0 has no 1xx responses): its hints come in the final Link header only', async () => {
    const response = await http10Raw(`GET /invalid?case=own HTTP/1.0\r\nHost: localhost:${server.port}\r\n\r\n`);
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).not.toContain(' 103 ');
    expect(response.toLowerCase()).toContain('\r\nlink: </x>; rel=preload;');
    expect(JSON.parse(bodyOf(response))).toEqual({ code: null }); // a safe no-op over HTTP/1.x
  });
});
