/**
 * Generated PushService.push() calls made by a real app while a client's request is handled, watched from
 * a node:http2 client (strict: a malformed frame is a stream or session error there). Every call either
 * fails with the PushValidationError the pure validation predicts, or puts on the wire exactly one
 * PUSH_PROMISE for what was asked; the connections never break. Header edges (holes, `__proto__`, too many
 * fields or bytes, ...) go over the wire too and must be rejected; the push-time header list limits
 * (the client's SETTINGS_MAX_HEADER_LIST_SIZE, 60,000 bytes) are checked on connections of their own.
 */
import * as fc from 'fast-check';
import assert from 'node:assert/strict';
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, Settings } from 'node:http2';
import { PushService } from '../src';
import type { NormalizedPush } from '../src/push/push-resource.interface';
import { normalizePush } from '../src/push/push-validation';
import { decodeWire, encodeWire, pushInputModule, type PushCallReply } from './fixtures/push-input.app';
import { connect } from './support/h2-client';
import {
  HEADER_EDGES,
  SHOW_EDGES,
  edgesOf,
  headerListOf,
  headersOfFields,
  headersOfSize,
  jsonJunk,
  objectOf,
  pushArbitraries,
  withHoles,
  type Edge,
  type PushCall,
} from './support/push-arbitraries';
import { startApp, type StartedApp } from './support/start-app';

const RUNS = 300;
const CONNECTIONS = 4;
const CALL_TIMEOUT_MS = 5000;
const AUTHORITIES = ['cdn.test', 'static.test:8443'];

/** What the client saw of one POST /push-call: the reply and every pushed stream, in full. */
interface Observed {
  status: number;
  reply: PushCallReply;
  pushes: ObservedPush[];
}

interface ObservedPush {
  request: IncomingHttpHeaders;
  status?: number;
  rstCode?: number;
  errors: string[];
}

/** A client connection that records anything going wrong on it. */
class WatchedSession {
  readonly problems: string[] = [];
  private collector: ObservedPush[] | undefined;

  constructor(readonly session: ClientHttp2Session) {
    for (const event of ['error', 'close', 'goaway', 'frameError']) {
      session.on(event, (...args: unknown[]) => this.problems.push(`${event} ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`));
    }
    session.on('stream', (stream: ClientHttp2Stream, headers: IncomingHttpHeaders) => this.onPush(stream, headers));
  }

  private pending: Promise<void>[] = [];

  private onPush(stream: ClientHttp2Stream, request: IncomingHttpHeaders): void {
    const push: ObservedPush = { request, errors: [] };
    if (this.collector) this.collector.push(push);
    else this.problems.push(`push ${String(request[':path'])} outside a call`);
    stream.on('push', (headers) => (push.status = Number(headers[':status'])));
    stream.on('error', (error) => push.errors.push(error.message));
    stream.on('frameError', (type, code) => push.errors.push(`frameError ${type} ${code}`));
    stream.resume();
    this.pending.push(new Promise((done) => stream.on('close', () => {
      push.rstCode = stream.rstCode;
      done();
    })));
  }

  /** POSTs `body` to /push-call (with `headers`) and waits for the reply and every push it caused to end. */
  call(body: unknown, headers: Record<string, string> = {}): Promise<Observed> {
    const pushes: ObservedPush[] = [];
    this.collector = pushes;
    this.pending = [];
    const exchange = new Promise<Observed>((resolve, reject) => {
      const request = this.session.request({ ...headers, ':method': 'POST', ':path': '/push-call', 'content-type': 'application/json' });
      let status = 0;
      let text = '';
      request.setEncoding('utf8');
      request.on('response', (headers) => (status = Number(headers[':status'])));
      request.on('data', (chunk: string) => (text += chunk));
      request.on('error', (error) => reject(new Error(`the call's own stream failed: ${error.message}`)));
      request.on('end', () => {
        setImmediate(async () => {
          await Promise.all(this.pending);
          try {
            resolve({ status, reply: JSON.parse(text) as PushCallReply, pushes });
          } catch {
            reject(new Error(`reply is not JSON (status ${status}): ${text.slice(0, 200)}`));
          }
        });
      });
      request.end(JSON.stringify(body));
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no complete answer within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
    });
    return Promise.race([exchange, timeout]).finally(() => {
      clearTimeout(timer);
      this.collector = undefined;
    });
  }
}

// ---- what a call must do ----

type Expected =
  | { error: string | null; name: string }
  | { push: { ':method': string; ':scheme': string; ':authority': string; ':path': string }; headers: Record<string, string> };

/** What the app must do with `call`, from the pure validation and the configured authorities. */
function expectedOf(call: PushCall, serverPort: number): Expected {
  let push: NormalizedPush;
  try {
    push = normalizePush(call.path, call.headers as never, call.opts as never);
  } catch (error) {
    return { error: (error as { code?: string }).code ?? null, name: (error as Error).name };
  }
  const scheme = push.scheme ?? 'http';
  const host = push.host ?? '127.0.0.1';
  const port = push.port ?? serverPort;
  const authority = port === { http: 80, https: 443 }[scheme] ? host : `${host}:${port}`;
  const own = host === '127.0.0.1' && port === serverPort;
  const configured = host === 'cdn.test' || (host === 'static.test' && port === 8443);
  if (!own && !configured) return { error: 'ERR_PUSH_UNKNOWN_AUTHORITY', name: 'PushValidationError' };
  // The client gets each given header once, several values joined as Node's client joins them.
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(push.headers)) {
    headers[name] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }
  return {
    push: { ':method': push.method, ':scheme': scheme, ':authority': authority, ':path': push.qs ? `${push.path}?${push.qs}` : push.path },
    headers,
  };
}

/** Checks one call: rejected as expected with a one-line message, or exactly one PUSH_PROMISE for what was asked. */
function checkCall(expected: Expected, observed: Observed): 'accepted' | 'rejected' {
  assert.equal(observed.status, 200);
  if ('error' in expected) {
    assert.ok('error' in observed.reply, `expected ${expected.error}, got ${JSON.stringify(observed.reply)}`);
    const { name, code, message } = observed.reply.error;
    assert.equal(name, expected.name);
    assert.equal(code, expected.error);
    assert.ok(message.trim().length > 0, 'empty message');
    assert.ok(!/[\r\n]/.test(message), `multi-line message ${JSON.stringify(message)}`);
    assert.deepEqual(observed.pushes, [], 'a rejected call put a push on the wire');
    return 'rejected';
  }
  assert.deepEqual(observed.reply, { ok: true, issued: true });
  assert.equal(observed.pushes.length, 1, `${observed.pushes.length} PUSH_PROMISEs`);
  const [push] = observed.pushes;
  const pseudo = Object.fromEntries(Object.entries(push.request).filter(([name]) => name.startsWith(':')));
  assert.deepEqual(pseudo, expected.push);
  const headers = Object.fromEntries(Object.entries(push.request).filter(([name]) => !name.startsWith(':')));
  assert.deepEqual(headers, expected.headers);
  assert.equal(typeof push.status, 'number', 'the pushed stream got no response');
  assert.deepEqual(push.errors, []);
  assert.equal(push.rstCode, 0, `pushed stream reset with ${push.rstCode}`);
  return 'accepted';
}

/** Makes the path unique on the connection (no "already pushed here" skips) without changing its validity. */
function uniquePath(path: unknown, n: number): unknown {
  if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) return path;
  const tag = `/u${n}`;
  return path.length + tag.length <= 8192 ? `${tag}${path}` : `${tag}${path.slice(tag.length)}`;
}

// ---- the run ----

let server: StartedApp;
let sessions: WatchedSession[];

beforeAll(async () => {
  server = await startApp(pushInputModule({ authorities: AUTHORITIES }));
  sessions = await Promise.all(Array.from({ length: CONNECTIONS }, async () => new WatchedSession(await connect(server.url))));
});
afterAll(async () => {
  for (const { session } of sessions ?? []) session.destroy();
  await server?.close();
});

describe('generated PushService.push() calls over HTTP/2', () => {
  it(`reject as validated or push exactly what was asked, on ${CONNECTIONS} connections that never break (${RUNS} calls)`, async () => {
    // Mostly authorities the app may push for (its own, cdn.test on any port, static.test:8443), some it may not.
    const port = fc.oneof(
      { weight: 6, arbitrary: fc.constant(server.port) },
      { weight: 2, arbitrary: fc.constant(8443) },
      { weight: 1, arbitrary: fc.oneof(fc.constantFrom(443, 80), fc.integer({ min: 1, max: 65535 })) },
    );
    const host = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('cdn.test', 'CDN.Test', '127.0.0.1', 'static.test') },
      { weight: 1, arbitrary: fc.constantFrom('STATIC.TEST', 'localhost', 'evil.test', 'cdn.test.evil', '::1', '[::1]') },
    );
    const { validCall, mutatedCall, edgeCall, randomCall } = pushArbitraries({ junk: jsonJunk, host, port });
    // Every generated call is made: holes, "__proto__" and the like survive the trip (see encodeWire).
    const call = fc.oneof(
      { weight: 6, arbitrary: validCall },
      { weight: 3, arbitrary: mutatedCall },
      { weight: 3, arbitrary: edgeCall },
      { weight: 1, arbitrary: randomCall },
    );

    const tally = { accepted: 0, rejected: 0, codes: {} as Record<string, number> };
    const edges = Object.fromEntries([...HEADER_EDGES, ...SHOW_EDGES].map((edge) => [edge, { generated: 0, rejected: 0 }])) as Record<Edge, { generated: number; rejected: number }>;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(call, async (generated) => {
        n++;
        const body = encodeWire([uniquePath(generated.path, n), generated.headers, generated.opts]);
        // What the app decodes is what the pure validation must judge.
        const [path, headers, opts] = decodeWire(JSON.parse(JSON.stringify(body))) as unknown[];
        const expected = expectedOf({ path, headers, opts }, server.port);
        // The validation throws nothing but PushValidationErrors, and rejects every header edge.
        if ('error' in expected) assert.equal(expected.name, 'PushValidationError', `the validation threw a ${expected.name}`);
        const found = edgesOf({ path, headers, opts });
        if (found.some((edge) => (HEADER_EDGES as readonly string[]).includes(edge))) assert.ok('error' in expected, `accepted headers with ${found.join(', ')}`);
        const index = n % sessions.length;
        const watched = sessions[index];
        let observed: Observed | undefined;
        let failure: Error | undefined;
        try {
          observed = await watched.call(body);
        } catch (error) {
          failure = error as Error;
          await new Promise((settle) => setTimeout(settle, 20)); // let GOAWAY & co. arrive, for the report
        }
        const problems = [...watched.problems];
        if (failure || problems.length > 0 || watched.session.closed || watched.session.destroyed) {
          // This run fails; the next ones (shrinking) go on with a fresh connection.
          watched.session.destroy();
          sessions[index] = new WatchedSession(await connect(server.url));
        }
        if (failure) throw new Error(`${failure.message}; connection events: ${JSON.stringify(problems)}`);
        assert.deepEqual(problems, [], 'the connection broke');
        const branch = checkCall(expected, observed!);
        tally[branch]++;
        if ('error' in expected) tally.codes[String(expected.error)] = (tally.codes[String(expected.error)] ?? 0) + 1;
        for (const edge of found) {
          edges[edge].generated++;
          if (branch === 'rejected') edges[edge].rejected++;
        }
      }),
      // Bounded time, also when shrinking a failure; an interrupted run is caught by the count below.
      { numRuns: RUNS, interruptAfterTimeLimit: 25_000 },
    );

    expect(tally.accepted + tally.rejected).toBe(RUNS);
    expect(tally.accepted).toBeGreaterThan(RUNS / 5);
    expect(tally.rejected).toBeGreaterThan(RUNS / 5);
    expect(tally.codes.ERR_PUSH_UNKNOWN_AUTHORITY ?? 0).toBeGreaterThan(0);
    expect(tally.codes.ERR_PUSH_INVALID_HEADER ?? 0).toBeGreaterThan(0);
    // Every header edge went over the wire (about 10 times each) and was rejected every time.
    for (const edge of HEADER_EDGES) {
      expect({ edge, generated: edges[edge].generated > 0 }).toEqual({ edge, generated: true });
      expect({ edge, rejected: edges[edge].rejected }).toEqual({ edge, rejected: edges[edge].generated });
    }
    // Every connection is still open and usable.
    for (const [i, watched] of sessions.entries()) {
      const observed = await watched.call(encodeWire([`/after/${i}`, { accept: 'text/css' }, undefined]));
      expect(checkCall(expectedOf({ path: `/after/${i}`, headers: { accept: 'text/css' }, opts: undefined }, server.port), observed)).toBe('accepted');
      expect(watched.problems).toEqual([]);
      expect(watched.session.closed || watched.session.destroyed).toBe(false);
    }
  }, 60_000);

  it('the call check fails on a wrong push, a missing push and a wrong error', () => {
    const expected = expectedOf({ path: '/a', headers: { accept: 'text/css' }, opts: { qs: 'v=1' } }, 1234);
    const push: ObservedPush = {
      request: { ':method': 'GET', ':scheme': 'http', ':authority': '127.0.0.1:1234', ':path': '/a?v=1', accept: 'text/css' },
      status: 404,
      rstCode: 0,
      errors: [],
    };
    const ok: Observed = { status: 200, reply: { ok: true, issued: true }, pushes: [push] };
    expect(checkCall(expected, ok)).toBe('accepted');
    expect(() => checkCall(expected, { ...ok, pushes: [] })).toThrow(/0 PUSH_PROMISEs/);
    expect(() => checkCall(expected, { ...ok, pushes: [{ ...push, request: { ...push.request, ':path': '/a' } }] })).toThrow();
    expect(() => checkCall(expected, { ...ok, pushes: [{ ...push, request: { ...push.request, 'x-extra': '1' } }] })).toThrow();
    expect(() => checkCall(expected, { ...ok, pushes: [{ ...push, rstCode: 2 }] })).toThrow(/reset/);
    expect(() => checkCall(expected, { ...ok, reply: { ok: true, issued: false } })).toThrow();
    const rejected = expectedOf({ path: 'a', headers: undefined, opts: undefined }, 1234);
    const error = { name: 'PushValidationError', code: 'ERR_PUSH_INVALID_PATH', message: 'bad' };
    expect(checkCall(rejected, { status: 200, reply: { error }, pushes: [] })).toBe('rejected');
    expect(() => checkCall(rejected, { status: 200, reply: { error: { ...error, code: 'ERR_PUSH_INVALID_QS' } }, pushes: [] })).toThrow();
    expect(() => checkCall(rejected, { status: 200, reply: { error: { ...error, name: 'TypeError' } }, pushes: [] })).toThrow();
    expect(() => checkCall(rejected, { status: 200, reply: { error: { ...error, message: 'a\nb' } }, pushes: [] })).toThrow();
    expect(expectedOf({ path: '/a', headers: undefined, opts: { host: 'evil.test' } }, 1234)).toEqual({ error: 'ERR_PUSH_UNKNOWN_AUTHORITY', name: 'PushValidationError' });
  });


  it('the wire carries holes, "__proto__" and the other keys Fastify refuses as they are', () => {
    const headers = objectOf([['__proto__', ['a']], ['prototype', 'b'], ['constructor', { prototype: 'c' }], ['accept', withHoles(['x'], 0, 2)]]);
    const [, decoded] = decodeWire(JSON.parse(JSON.stringify(encodeWire(['/a', headers, undefined])))) as [unknown, Record<string, unknown>];
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(['__proto__', 'prototype', 'constructor', 'accept']);
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual(['a']);
    expect(decoded.constructor).toEqual({ prototype: 'c' });
    expect(decoded.accept).toHaveLength(3);
    expect(Object.keys(decoded.accept as string[])).toEqual(['2']);
    expect(edgesOf({ path: '/a', headers: decoded, opts: undefined })).toEqual(['protoName', 'holes']);
  });
});

describe('header limits and forbidden headers over HTTP/2', () => {
  /** One call on a connection of its own, with client `settings` and request `headers`. */
  const callAlone = async (path: string, headers: unknown, options: { settings?: Settings; requestHeaders?: Record<string, string> } = {}) => {
    const watched = new WatchedSession(await connect(server.url, options.settings));
    try {
      const observed = await watched.call(encodeWire([path, headers, undefined]), options.requestHeaders);
      // The connection is still fine: it takes another push.
      const after = await watched.call(encodeWire([`${path}/after`, { accept: 'text/css' }, undefined]));
      return { observed, after, problems: watched.problems, open: !watched.session.closed && !watched.session.destroyed };
    } finally {
      watched.session.destroy();
    }
  };
  const limitRefusals = () => server.app.get(PushService).stats().refused.limit;

  it.each<[string, unknown]>([
    ['an http2-settings header', { 'http2-settings': 'AAMAAABkAAQAAP__' }],
    ['several values for a header Node sends once', { 'user-agent': ['a', 'b'] }],
    ['a header value array with holes', { accept: withHoles(['text/css', 'text/html'], 1, 1) }],
    ['an empty header value array', { accept: [] }],
    ['a "__proto__" header', objectOf([['__proto__', ['a']]])],
    ['more header fields than a client takes (130 cookie values)', { cookie: Array.from({ length: 130 }, (_, i) => `c${i}=1`) }],
    ['65 header fields', headersOfFields(65, 10)],
    ['headers too large for one header block (9 x 8000 bytes)', Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`x-h${i}`, 'v'.repeat(8000)]))],
    ['16385 bytes of headers', headersOfSize(16385, 2)],
  ])('rejects %s before anything goes on the wire', async (what, headers) => {
    const path = `/rejected/${what.replace(/\W+/g, '-')}`;
    const { observed, after, problems, open } = await callAlone(path, headers);
    expect(checkCall({ error: 'ERR_PUSH_INVALID_HEADER', name: 'PushValidationError' }, observed)).toBe('rejected');
    expect(checkCall(expectedOf({ path: `${path}/after`, headers: { accept: 'text/css' }, opts: undefined }, server.port), after)).toBe('accepted');
    expect([problems, open]).toEqual([[], true]);
  });

  it.each<[string, Record<string, string | string[]>]>([
    ['64 header names', headersOfFields(64, 64)],
    ['64 header fields, 54 of them cookie values', headersOfFields(64, 10)],
    ['16384 bytes of headers', headersOfSize(16384, 2)],
    ['one value for a header Node sends once, in an array', { 'user-agent': ['a'] }],
  ])('pushes %s, at the limits', async (what, headers) => {
    const path = `/limits/${what.replace(/\W+/g, '-')}`;
    const { observed, problems, open } = await callAlone(path, headers);
    expect(checkCall(expectedOf({ path, headers, opts: undefined }, server.port), observed)).toBe('accepted');
    expect([problems, open]).toEqual([[], true]);
  });

  /** The header list of a push to `path` on this server with `headers`, as HPACK counts it. */
  const pushHeaderList = (path: string, headers: object) =>
    headerListOf({ ':method': 'GET', ':scheme': 'http', ':authority': `127.0.0.1:${server.port}`, ':path': path, ...headers }).size;

  it("skips a push over the client's SETTINGS_MAX_HEADER_LIST_SIZE as 'limit', and pushes one just at it", async () => {
    const maxHeaderListSize = 4000;
    for (const [path, over] of [['/list-size/at', 0], ['/list-size/over', 1]] as const) {
      const headers = { 'x-big': 'v'.repeat(maxHeaderListSize + over - pushHeaderList(path, { 'x-big': '' })) };
      expect(pushHeaderList(path, headers)).toBe(maxHeaderListSize + over);
      const refused = limitRefusals();
      const { observed, after, problems, open } = await callAlone(path, headers, { settings: { maxHeaderListSize } });
      if (over) {
        expect(observed).toEqual({ status: 200, reply: { ok: true, issued: false }, pushes: [] });
        expect(limitRefusals()).toBe(refused + 1);
      } else {
        expect(checkCall(expectedOf({ path, headers, opts: undefined }, server.port), observed)).toBe('accepted');
      }
      expect(after.pushes).toHaveLength(1);
      expect([problems, open]).toEqual([[], true]);
    }
  });

  it("a given header replaces the inherited one in the header block's size too: a large client cookie does not count against a push that gives its own", async () => {
    const maxHeaderListSize = 4000;
    const path = '/replaced/cookie';
    const headers = { cookie: 'c=given' };
    // The client's cookie alone would take the push over the client's limit; the given one keeps it well under.
    const cookie = `c=${'x'.repeat(maxHeaderListSize)}`;
    expect(pushHeaderList(path, { cookie })).toBeGreaterThan(maxHeaderListSize);
    expect(pushHeaderList(path, headers)).toBeLessThan(maxHeaderListSize);
    const { observed, problems, open } = await callAlone(path, headers, { settings: { maxHeaderListSize }, requestHeaders: { cookie } });
    expect(observed.reply).toEqual({ ok: true, issued: true });
    expect(observed.pushes).toHaveLength(1);
    expect(observed.pushes[0].request.cookie).toBe('c=given');
    expect([problems, open]).toEqual([[], true]);
  });

  it("skips a push whose inherited cookie takes the header block over 60,000 bytes as 'limit'", async () => {
    const headers = headersOfSize(16384, 2);
    for (const [path, over] of [['/inherited/at', 0], ['/inherited/over', 1]] as const) {
      const cookie = `c=${'x'.repeat(60_000 + over - pushHeaderList(path, { ...headers, cookie: 'c=' }))}`;
      expect(pushHeaderList(path, { ...headers, cookie })).toBe(60_000 + over);
      const refused = limitRefusals();
      const { observed, after, problems, open } = await callAlone(path, headers, { requestHeaders: { cookie } });
      if (over) {
        expect(observed).toEqual({ status: 200, reply: { ok: true, issued: false }, pushes: [] });
        expect(limitRefusals()).toBe(refused + 1);
      } else {
        expect(observed.reply).toEqual({ ok: true, issued: true });
        expect(observed.pushes).toHaveLength(1);
        expect(observed.pushes[0].request.cookie).toBe(cookie);
        expect(observed.pushes[0].rstCode).toBe(0);
      }
      expect(after.pushes).toHaveLength(1);
      expect([problems, open]).toEqual([[], true]);
    }
  });
});
