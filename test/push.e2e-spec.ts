import type { ClientHttp2Session } from 'node:http2';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PushService } from '../src';
import { caught, configureTestApp, pushedStoreStream, pushTestModule, trace, UNICODE_BODY } from './fixtures/push-test.app';
import { connect, fetchWithPushes, pushedPaths } from './support/h2-client';
import { nghttp, parseFrames } from './support/nghttp';
import { startApp, type StartedApp } from './support/start-app';

let server: StartedApp;
let client: ClientHttp2Session;

beforeAll(async () => {
  server = await startApp(pushTestModule({ maxPushesPerRequest: 4, authorities: ['cdn.test:8443'] }), {
    configure: configureTestApp,
  });
});
afterAll(() => server.close());
beforeEach(async () => {
  trace.length = 0;
  client = await connect(server.url);
});
afterEach(() => client.close());

const json = (body: string) => JSON.parse(body);

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

/**
 * The server's stream of the push of `/asset/store`, once closed: its 'close' listeners (Node's own are plain
 * functions; its 'finish' one closes over the stream, so not the whole table), and a weak reference to it.
 */
async function closedStream(): Promise<{ listeners: Function[]; ref: WeakRef<object> }> {
  const stream = pushedStoreStream.current!;
  pushedStoreStream.current = undefined;
  await until(() => stream.closed && stream.destroyed);
  return { listeners: stream.listeners('close'), ref: new WeakRef(stream) };
}

/** Whether `ref`'s object was garbage collected after a few full GCs (gc() made available at run time). */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return ref.deref() === undefined;
}

describe('@Push on a handler and its controller', () => {
  it('promises every declared resource before the response headers', async () => {
    const page = await fetchWithPushes(client, '/page');
    expect(page.status).toBe(200);
    expect(pushedPaths(page)).toEqual(['/static/style.css', '/static/app.js', '/asset/data?v=decorated']);
    expect(page.events.indexOf('response')).toBe(3);
  });

  it('serves pushed resources through @fastify/static and a Nest handler', async () => {
    const page = await fetchWithPushes(client, '/page');
    const [css, js, data] = page.pushes;
    expect(css.status).toBe(200);
    expect(css.body).toBe('body { color: teal; }\n');
    expect(css.headers?.['content-type']).toMatch(/^text\/css/);
    expect(js.body).toBe('console.log("app");\n');
    expect(data.status).toBe(200);
    expect(json(data.body)).toEqual({ asset: 'data', v: 'decorated', pushed: true });
  });

  it('runs Fastify hooks, Nest middleware, guards, interceptors, pipes and the handler for a pushed request', async () => {
    await fetchWithPushes(client, '/page');
    const pushed = trace.filter((line) => line.includes('/asset/data') || line.startsWith('pipe'));
    expect(pushed).toEqual([
      'middleware /asset/data pushed',
      'fastify-hook /asset/data pushed',
      'guard /asset/data pushed',
      'interceptor /asset/data pushed',
      'pipe decorated',
      'handler /asset/data pushed',
    ]);
    trace.length = 0;
    await fetchWithPushes(client, '/asset/data?v=decorated');
    expect(trace).toEqual(pushed.map((line) => line.replace(' pushed', ' client')));
  });

  it('runs exception filters for a pushed request whose handler throws', async () => {
    const page = await fetchWithPushes(client, '/push-fails');
    expect(page.status).toBe(200);
    expect(page.pushes[0].status).toBe(418);
    expect(json(page.pushes[0].body)).toEqual({ filtered: 'teapot' });
    expect(trace).toContain('filter /asset/fails pushed');
  });
});

describe('how a pushed response ends on the wire', () => {
  it('a Nest handler body ends on its one DATA frame (END_STREAM), no empty DATA frame, no RST_STREAM', async () => {
    const frames = parseFrames(await nghttp(['-nv', `${server.url}/page`]));
    const promise = frames.find((f) => f.type === 'PUSH_PROMISE' && f.headers[':path'] === '/asset/data?v=decorated')!;
    const own = frames.filter((f) => f.streamId === promise.promisedStreamId && f.direction === 'recv');
    expect(own.map((f) => [f.type, f.flags & 0x1, f.length > 0])).toEqual([['HEADERS', 0, true], ['DATA', 1, true]]);
    expect(frames.filter((f) => f.type === 'RST_STREAM')).toEqual([]);
  });

  it('a pushed string body of multi-byte characters arrives as the handler wrote it, with its UTF-8 length', async () => {
    const page = await fetchWithPushes(client, '/push-unicode');
    const [pushed] = page.pushes;
    expect(pushed).toMatchObject({ status: 200, body: UNICODE_BODY });
    expect(Number(pushed.headers?.['content-length'])).toBe(Buffer.byteLength(UNICODE_BODY));
  });

  it('a pushed response with a trailer still sends it after the body', async () => {
    const page = await fetchWithPushes(client, '/push-bodies');
    const withTrailer = page.pushes.find((p) => p.request[':path'] === '/asset/trailer')!;
    expect(withTrailer).toMatchObject({ status: 200, body: 'body before a trailer', trailers: { 'x-checksum': 'abc123' } });
  });
});

describe('PushService.push', () => {
  it('promises a resource while the handler runs, with the given headers and query string', async () => {
    const page = await fetchWithPushes(client, '/service');
    expect(json(page.body)).toEqual({ issued: true, canPush: true });
    expect(page.events).toEqual(['promise /asset/data?v=service', 'response']);
    expect(page.pushes[0].request.accept).toBe('application/json');
    expect(json(page.pushes[0].body)).toMatchObject({ v: 'service', pushed: true });
  });

  it('keeps its request context across await', async () => {
    const page = await fetchWithPushes(client, '/async-service');
    expect(page.events).toEqual(['promise /asset/data', 'response']);
  });

  it('promises before the headers when the handler writes the response itself through @Res()', async () => {
    const page = await fetchWithPushes(client, '/res-push');
    expect(page.body).toBe('written by hand');
    expect(page.events).toEqual(['promise /asset/data', 'response']);
    expect(page.pushes[0].status).toBe(200);
  });

  it('push after the response throws PushAfterResponseError and sends nothing', async () => {
    const page = await fetchWithPushes(client, '/res-late');
    expect(page.body).toBe('written by hand');
    expect(page.pushes).toEqual([]);
    expect(caught['/res-late']).toMatchObject({ name: 'PushAfterResponseError', code: 'ERR_PUSH_AFTER_RESPONSE' });
  });

  it('push from code running after the reply throws PushAfterResponseError', async () => {
    caught['/after-reply'] = undefined;
    await fetchWithPushes(client, '/after-reply');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(caught['/after-reply']).toMatchObject({ code: 'ERR_PUSH_AFTER_RESPONSE' });
  });
});

describe('the synthesized request', () => {
  it('is a GET for the path with the current scheme and authority, inheriting the default headers', async () => {
    const page = await fetchWithPushes(client, '/echo-push?case=plain', {
      cookie: 'session=1',
      authorization: 'Bearer secret',
      'user-agent': 'test-agent',
      'accept-language': 'fr',
      'accept-encoding': 'identity',
      'if-none-match': '"abc"',
      range: 'bytes=0-1',
      'x-custom': 'not inherited',
    });
    const promised = page.pushes[0].request;
    expect(promised).toMatchObject({
      ':method': 'GET',
      ':path': '/echo',
      ':scheme': 'http',
      ':authority': `127.0.0.1:${server.port}`,
      cookie: 'session=1',
      authorization: 'Bearer secret',
      'user-agent': 'test-agent',
      'accept-language': 'fr',
      'accept-encoding': 'identity',
    });
    for (const name of ['if-none-match', 'range', 'x-custom']) expect(promised).not.toHaveProperty(name);
    const echoed = json(page.pushes[0].body);
    expect(echoed).toMatchObject({ method: 'GET', url: '/echo', pushed: true, headers: { cookie: 'session=1' } });
    expect(echoed.headers).not.toHaveProperty('if-none-match');
  });

  it('starts outside the async context of the page that pushed it, as a client\'s request does', async () => {
    const page = await fetchWithPushes(client, '/page-in-store');
    expect(json(page.body)).toEqual({ store: 'page' });
    expect(pushedPaths(page)).toEqual(['/asset/store']);
    expect(json(page.pushes[0].body)).toEqual({ store: null });
    const asked = await fetchWithPushes(client, '/asset/store');
    expect(json(asked.body)).toEqual({ store: null });
  });

  it('is not kept alive by the listeners of its stream once the stream closed', async () => {
    // V8 may allocate a stream's listener table in the old generation, where it outlives the stream until
    // the next full GC: a listener reaching the pushed request kept it alive (and promoted it) until then.
    const page = await fetchWithPushes(client, '/page-in-store');
    expect(pushedPaths(page)).toEqual(['/asset/store']);
    const { listeners, ref } = await closedStream();
    expect(await collected(ref)).toBe(true);
    // Read after the GCs, so they ran with the listeners held, as an old-generation table would hold them.
    expect(listeners.length).toBeGreaterThan(0);
  });

  it('takes the query string and given headers, which win over inherited ones', async () => {
    const page = await fetchWithPushes(client, '/echo-push?case=qs', { 'user-agent': 'client' });
    expect(page.pushes[0].request).toMatchObject({ ':path': '/echo?a=1&b=%20', accept: 'text/plain', 'user-agent': 'given' });
    expect(json(page.pushes[0].body)).toMatchObject({ url: '/echo?a=1&b=%20' });
  });

  it('can be a HEAD request', async () => {
    const page = await fetchWithPushes(client, '/echo-push?case=head');
    expect(page.pushes[0].request[':method']).toBe('HEAD');
    expect(page.pushes[0].status).toBe(200);
    expect(page.pushes[0].body).toBe('');
  });

  it('goes to a configured authority without the client\'s credentials', async () => {
    const page = await fetchWithPushes(client, '/echo-push?case=cdn', { cookie: 'session=1', 'user-agent': 'ua' });
    expect(page.pushes[0].request).toMatchObject({ ':scheme': 'https', ':authority': 'cdn.test:8443', 'user-agent': 'ua' });
    expect(page.pushes[0].request).not.toHaveProperty('cookie');
  });
});

describe('pushes that are skipped, not failed', () => {
  it('a pushed request cannot push again', async () => {
    const page = await fetchWithPushes(client, '/push-pusher');
    expect(pushedPaths(page)).toEqual(['/asset/pusher']);
    expect(json(page.pushes[0].body)).toEqual({ pushedAgain: false, canPush: false, isPushed: true, pushed: true });
  });

  it('maxPushesPerRequest caps the promises of one response', async () => {
    const page = await fetchWithPushes(client, '/many');
    expect(json(page.body)).toEqual({ issued: 4 });
    expect(page.pushes).toHaveLength(4);
  });

  it('a client that disabled push gets the same response; its pushes are refused as disabled, never attempted', async () => {
    const noPush = await connect(server.url, { enablePush: false });
    try {
      const page = await fetchWithPushes(noPush, '/service');
      expect(page.status).toBe(200);
      expect(json(page.body)).toEqual({ issued: false, canPush: false });
      // Node would refuse a PUSH_PROMISE itself: what the module controls is that it never tries (no 'failed').
      const before = server.app.get(PushService).stats();
      const decorated = await fetchWithPushes(noPush, '/page');
      const after = server.app.get(PushService).stats();
      expect(decorated.body).toContain('<link rel="stylesheet"');
      expect(after.refused.disabled - before.refused.disabled).toBe(3);
      expect([after.promised, after.failed]).toEqual([before.promised, before.failed]);
    } finally {
      noPush.close();
    }
  });
});

describe('invalid pushes throw a PushError before anything reaches the wire', () => {
  it.each([
    ['upper', 'ERR_PUSH_INVALID_HEADER', /lowercase: use "accept"/],
    ['pseudo', 'ERR_PUSH_INVALID_HEADER', /pseudo-headers/],
    ['connection', 'ERR_PUSH_INVALID_HEADER', /connection-specific/],
    ['crlf', 'ERR_PUSH_INVALID_HEADER', /no CR, LF/],
    ['relative', 'ERR_PUSH_INVALID_PATH', /absolute/],
    ['post', 'ERR_PUSH_INVALID_METHOD', /safe and cacheable/],
    ['body', 'ERR_PUSH_INVALID_OPTION', /cannot have a body/],
    ['port', 'ERR_PUSH_UNKNOWN_AUTHORITY', /^Cannot push \/x for "127\.0\.0\.1:1": /],
    [
      'host',
      'ERR_PUSH_UNKNOWN_AUTHORITY',
      /^Cannot push \/x for "evil\.test:\d+": the server only pushes for the current request's authority unless PushModule\.forRoot\(\{ authorities: \[\.\.\.\] \}\) lists others\.$/,
    ],
  ])('%s', async (which, code, message) => {
    const page = await fetchWithPushes(client, `/invalid?case=${which}`);
    const result = json(page.body);
    expect(result.code).toBe(code);
    expect(result.message).toMatch(message);
    expect(page.pushes).toEqual([]);
  });
});

describe('the client refusing pushes', () => {
  it('a client resetting every pushed stream leaves the page and the server unaffected', async () => {
    client.on('stream', (stream) => stream.close(0x8 /* CANCEL */));
    const page = await fetchWithPushes(client, '/page');
    expect(page.status).toBe(200);
    expect(page.body).toContain('app.js');
    const other = await connect(server.url);
    const again = await fetchWithPushes(other, '/page');
    other.close();
    expect(again.pushes.map((p) => p.status)).toEqual([200, 200, 200]);
  });

  it('a client closing the connection while pushes are in flight does not crash the server', async () => {
    client.on('stream', () => client.destroy());
    client.request({ ':path': '/page' }).on('error', () => undefined);
    await new Promise((resolve) => client.once('close', resolve));
    const fresh = await connect(server.url);
    const page = await fetchWithPushes(fresh, '/page');
    fresh.close();
    expect(page.pushes).toHaveLength(3);
  });
});

describe('security', () => {
  it('a push cannot bypass a guard: without credentials the pushed request is denied like a client request', async () => {
    const denied = await fetchWithPushes(client, '/push-secret');
    expect(denied.pushes.map((p) => [p.request[':path'], p.status])).toEqual([['/asset/secret', 403]]);
    expect(denied.pushes[0].body).not.toContain('42');
    const direct = await fetchWithPushes(client, '/asset/secret');
    expect(direct.status).toBe(403);
    const other = await connect(server.url);
    const allowed = await fetchWithPushes(other, '/push-secret', { authorization: 'Bearer secret' });
    other.close();
    expect(allowed.pushes.map((p) => [p.status, p.body])).toEqual([[200, '{"secret":42}']]);
  });

  it.each(['/guarded/above', '/guarded/below', '/guarded/class'])(
    'a page its guard denies pushes and hints nothing, wherever @Push() is written (%s)',
    async (path) => {
      const denied = await fetchWithPushes(client, path);
      expect([denied.status, denied.pushes, denied.events]).toEqual([403, [], ['response']]);
      const noPush = await connect(server.url, { enablePush: false });
      const hinted = await fetchWithPushes(noPush, path);
      noPush.close();
      expect([hinted.status, hinted.events]).toEqual([403, ['response']]);
      const allowed = await fetchWithPushes(client, path, { authorization: 'Bearer secret' });
      expect(allowed.status).toBe(200);
      expect(pushedPaths(allowed).sort()).toEqual(path === '/guarded/class' ? ['/static/app.js'] : ['/static/app.js', '/static/style.css']);
    },
  );

  it('isPushedRequest cannot be spoofed: no header or query a client sends makes its request look pushed', async () => {
    const spoofing = {
      'x-pushed': '1', 'x-push': 'true', pushed: 'true', 'x-http2-push': '1', 'x-nestjs-http2-push': 'pushed-request',
    };
    const page = await fetchWithPushes(client, '/echo?pushed=true&nestjs-http2-push:pushed-request=1', spoofing);
    expect(JSON.parse(page.body)).toMatchObject({ pushed: false });
    const pushed = await fetchWithPushes(client, '/echo-push?case=plain');
    expect(JSON.parse(pushed.pushes[0].body)).toMatchObject({ pushed: true });
  });
});
