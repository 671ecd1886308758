/**
 * Property-based tests of the validation behind PushService.push() and @Push(): whatever a caller passes,
 * normalizePush()/normalizeResource() either throw a PushValidationError with a stable code and a one-line
 * message, or return something that can go on the wire as it is: within 64 header fields and 16384 bytes,
 * no empty or holey arrays, no `__proto__` or http2-settings header, one value for headers Node sends once.
 */
import * as fc from 'fast-check';
import assert from 'node:assert/strict';
import { PushValidationError } from '../src';
import type { NormalizedPush } from '../src/push/push-resource.interface';
import { normalizePush, normalizeResource } from '../src/push/push-validation';
import {
  HEADER_EDGES,
  MAX_HEADER_FIELDS,
  MAX_HEADERS_SIZE,
  NODE_SINGLE_VALUE_HEADERS,
  SHOW_EDGES,
  anyJunk,
  edgesOf,
  edgesOfResource,
  headerListOf,
  headersOfFields,
  headersOfSize,
  objectOf,
  pushArbitraries,
  withHoles,
  type Edge,
  type HeaderEdge,
  type PushCall,
} from './support/push-arbitraries';

const { pushCall, resourceArbitrary } = pushArbitraries({ junk: anyJunk });

// Mutation runs (stryker.config.mjs) ask for fewer: a mutant no test kills runs this suite in full.
const RUNS = Number(process.env.PUSH_PROPERTY_RUNS ?? 12_000);
const AGREEMENT_RUNS = Math.min(5_000, RUNS);

const PATH = /^\/(?!\/)[\x21-\x7e]*$/;
const QS = /^(?!\?)[\x21-\x7e]*$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const HEADER_VALUE = /^(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?$/;
const FORBIDDEN_NAMES = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings', 'host', 'content-length', 'expect', '__proto__']);
const HOST = /^(?:[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?|\[[0-9a-f:.]+\])$/;
const LINK = /^<[\x21-\x3b\x3d\x3f-\x7e]+>; rel=preload; as=[a-z]+(?:; type="[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+")?(?:; crossorigin(?:=use-credentials)?)?$/;

type Outcome = { ok: true; value: NormalizedPush } | { ok: false; error: unknown };

function attempt(fn: () => NormalizedPush): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

class Tally {
  accepted = 0;
  rejected = 0;
  readonly codes: Record<string, number> = {};
  /** Per edge: calls that had it, how many of them were rejected, and how many for their headers. */
  readonly edges = Object.fromEntries([...HEADER_EDGES, ...SHOW_EDGES].map((edge) => [edge, { generated: 0, rejected: 0, asHeader: 0 }])) as Record<
    Edge,
    { generated: number; rejected: number; asHeader: number }
  >;

  count(edges: Edge[], outcome: Outcome): void {
    for (const edge of new Set(edges)) {
      const counts = this.edges[edge];
      counts.generated++;
      if (!outcome.ok) counts.rejected++;
      if (!outcome.ok && (outcome.error as PushValidationError).code === 'ERR_PUSH_INVALID_HEADER') counts.asHeader++;
    }
  }
}

/** A rejection is a PushValidationError with an ERR_PUSH_ code and a non-empty one-line message. */
function checkRejection(error: unknown, tally: Tally): void {
  if (!(error instanceof PushValidationError)) {
    assert.fail(`threw ${(error as Error)?.constructor?.name ?? typeof error} instead of PushValidationError: ${String((error as Error)?.message ?? error)}`);
  }
  assert.match(error.code, /^ERR_PUSH_[A-Z_]+$/);
  assert.equal(error.name, 'PushValidationError');
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.trim().length > 0, 'empty error message');
  assert.doesNotMatch(error.message, /[\r\n]/, 'multi-line error message');
  tally.rejected++;
  tally.codes[error.code] = (tally.codes[error.code] ?? 0) + 1;
}

/** An accepted push is one Node's http2 can send as it is and that means what the caller asked for. */
function checkResult(result: NormalizedPush, input: PushCall, hints: { as?: unknown; type?: unknown; crossorigin?: unknown }, tally: Tally): void {
  const opts = (input.opts ?? {}) as Record<string, unknown>;
  assert.equal(result.method, opts.method ?? 'GET');
  assert.ok(result.method === 'GET' || result.method === 'HEAD', `method ${result.method}`);

  assert.equal(result.path, input.path);
  assert.match(result.path, PATH);
  assert.doesNotMatch(result.path, /[?#]/);
  assert.ok(result.path.length <= 8192, 'path too long');

  assert.equal(result.qs, opts.qs ?? '');
  assert.match(result.qs, QS);
  assert.doesNotMatch(result.qs, /#/);

  assert.equal(result.scheme, opts.scheme);
  if (opts.host === undefined) assert.equal(result.host, undefined);
  else {
    assert.match(result.host!, HOST);
    assert.equal(result.host!.replace(/^\[|\]$/g, ''), String(opts.host).toLowerCase().replace(/^\[|\]$/g, ''));
  }
  if (opts.port === undefined) assert.equal(result.port, undefined);
  else assert.ok(Number.isInteger(result.port) && result.port! >= 1 && result.port! <= 65535, `port ${result.port}`);

  const headers = result.headers;
  const given = (input.headers ?? {}) as Record<string, unknown>;
  const proto = Object.getPrototypeOf(headers);
  assert.ok(proto === Object.prototype || proto === null, 'headers is not a plain object');
  assert.deepEqual(Object.keys(headers).sort(), Object.keys(given).sort());
  for (const name of Object.keys(headers)) {
    assert.match(name, HEADER_NAME);
    assert.ok(!name.startsWith(':') && !FORBIDDEN_NAMES.has(name), `header name ${name}`);
    const value = headers[name];
    if (Array.isArray(value)) {
      assert.ok(value.length > 0, `header ${name} is an empty array`);
      for (let i = 0; i < value.length; i++) assert.ok(i in value, `header ${name} has a hole at ${i}`);
      assert.ok(value.length === 1 || !NODE_SINGLE_VALUE_HEADERS.has(name), `${value.length} values for ${name}, which Node sends once`);
    }
    for (const item of Array.isArray(value) ? value : [value]) {
      assert.equal(typeof item, 'string');
      assert.match(item, HEADER_VALUE);
      assert.doesNotMatch(item, /[\r\n\0]/);
    }
    assert.deepEqual(value, given[name]);
  }
  const { fields, size } = headerListOf(headers);
  assert.ok(fields <= MAX_HEADER_FIELDS, `${fields} header fields`);
  assert.ok(size <= MAX_HEADERS_SIZE, `${size} bytes of headers`);

  const url = result.qs ? `${result.path}?${result.qs}` : result.path;
  const hintable = result.method === 'GET' && opts.scheme === undefined && opts.host === undefined && opts.port === undefined;
  if (!hintable) {
    assert.equal(result.link, undefined);
  } else {
    assert.equal(typeof result.link, 'string');
    const link = result.link!;
    assert.doesNotMatch(link, /[\r\n\0]/);
    assert.ok(link.startsWith(`<${url}>; rel=preload; as=`), `link ${link}`);
    assert.match(link, LINK);
    if (hints.as !== undefined) assert.ok(link.includes(`; as=${String(hints.as)}`), `link ${link} lacks as`);
    if (hints.type !== undefined) assert.ok(link.includes(`; type="${String(hints.type)}"`), `link ${link} lacks type`);
    if (hints.crossorigin === 'use-credentials') assert.ok(link.endsWith('; crossorigin=use-credentials'), `link ${link}`);
    else if (hints.crossorigin !== undefined) assert.ok(link.endsWith('; crossorigin'), `link ${link}`);
  }
  tally.accepted++;
}

/** Checks one outcome: a call with a header edge must be rejected, every call must be rejected or accepted well. */
function check(outcome: Outcome, edges: Edge[], input: PushCall, hints: { as?: unknown; type?: unknown; crossorigin?: unknown }, tally: Tally): void {
  tally.count(edges, outcome);
  const headerEdges = edges.filter((edge): edge is HeaderEdge => (HEADER_EDGES as readonly string[]).includes(edge));
  if (outcome.ok) {
    assert.deepEqual(headerEdges, [], `accepted headers with ${headerEdges.join(', ')}`);
    checkResult(outcome.value, input, hints, tally);
  } else {
    checkRejection(outcome.error, tally);
  }
}

function expectBothBranches(tally: Tally, runs: number): void {
  // Both branches, a lot: at least a fifth of the runs each, and every input-related code at least once.
  expect(tally.accepted).toBeGreaterThan(runs / 5);
  expect(tally.rejected).toBeGreaterThan(runs / 5);
  for (const code of ['ERR_PUSH_INVALID_PATH', 'ERR_PUSH_INVALID_QS', 'ERR_PUSH_INVALID_HEADER', 'ERR_PUSH_INVALID_METHOD', 'ERR_PUSH_INVALID_OPTION']) {
    expect(tally.codes[code] ?? 0).toBeGreaterThan(0);
  }
  expect(tally.codes.ERR_PUSH_UNKNOWN_AUTHORITY).toBeUndefined(); // needs a request: never from validation
  expect(tally.accepted + tally.rejected).toBe(runs);
  // Every edge generated often (about 1% of the calls each, asked: a quarter of that), every one rejected.
  for (const edge of [...HEADER_EDGES, ...SHOW_EDGES]) {
    const { generated, rejected } = tally.edges[edge];
    expect({ edge, enough: generated >= runs / 400 }).toEqual({ edge, enough: true });
    expect({ edge, rejected }).toEqual({ edge, rejected: generated });
  }
}

describe('normalizePush(path, headers, opts) with generated input', () => {
  it(`throws only PushValidationErrors or returns a push that can go on the wire (${RUNS} calls)`, () => {
    const tally = new Tally();
    fc.assert(
      fc.property(pushCall, (call) => {
        const outcome = attempt(() => normalizePush(call.path, call.headers as never, call.opts as never));
        check(outcome, edgesOf(call), call, {}, tally);
      }),
      { numRuns: RUNS },
    );
    expectBothBranches(tally, RUNS);
  });
});

describe('normalizeResource(resource) (@Push arguments) with generated input', () => {
  it(`throws only PushValidationErrors or returns a push that can go on the wire (${RUNS} calls)`, () => {
    const tally = new Tally();
    fc.assert(
      fc.property(resourceArbitrary, (resource) => {
        const outcome = attempt(() => normalizeResource(resource));
        if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
          return check(outcome, edgesOfResource(resource), { path: resource, headers: undefined, opts: undefined }, {}, tally);
        }
        const { path, headers, as, type, crossorigin, ...opts } = resource as Record<string, unknown>;
        check(outcome, edgesOfResource(resource), { path, headers, opts }, { as, type, crossorigin }, tally);
      }),
      { numRuns: RUNS },
    );
    expectBothBranches(tally, RUNS);
  });

  it(`agrees with normalizePush on { path, headers, ...opts } (${AGREEMENT_RUNS} calls)`, () => {
    let same = 0;
    fc.assert(
      fc.property(pushCall, (call) => {
        const opts = call.opts;
        const plain = opts === undefined || (opts !== null && typeof opts === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(opts)) && !Array.isArray(opts));
        fc.pre(plain && Object.keys(opts ?? {}).every((key) => ['method', 'scheme', 'host', 'port', 'qs'].includes(key)));
        const entries: [string, unknown][] = [['path', call.path], ['headers', call.headers]];
        for (const key of Object.keys(opts ?? {})) entries.push([key, (opts as Record<string, unknown>)[key]]);
        const viaPush = attempt(() => normalizePush(call.path, call.headers as never, opts as never));
        const viaResource = attempt(() => normalizeResource(objectOf(entries)));
        assert.equal(viaResource.ok, viaPush.ok);
        if (viaPush.ok && viaResource.ok) assert.deepEqual(viaResource.value, viaPush.value);
        if (!viaPush.ok && !viaResource.ok) assert.equal((viaResource.error as PushValidationError).code, (viaPush.error as PushValidationError).code);
        same++;
      }),
      { numRuns: AGREEMENT_RUNS },
    );
    expect(same).toBe(AGREEMENT_RUNS);
  });
});

describe('the property checks themselves', () => {
  // Each check must be able to fail: feed it what a broken validation could return (the input asks for
  // the same path and headers, so that only the check named can fail).
  const good = normalizePush('/a', { accept: 'text/css' });
  const sparse = withHoles(['text/css', 'text/html'], 1, 1);

  it.each<[string, Partial<NormalizedPush>, RegExp]>([
    ['a relative path', { path: 'a' }, /match/],
    ['a CR/LF in a header value', { headers: { accept: 'text/css\r\nx: 1' } }, /match/],
    ['an upper-case header name', { headers: { Accept: 'text/css' } }, /match/],
    ['a connection-specific header', { headers: { accept: 'text/css', connection: 'close' } }, /header name connection/],
    ['an http2-settings header', { headers: { 'http2-settings': 'AAMAAABkAAQAAP__' } }, /header name http2-settings/],
    ['a "__proto__" header', { headers: objectOf([['__proto__', 'x']]) as never }, /header name __proto__/],
    ['an empty array', { headers: { accept: [] } }, /empty array/],
    ['an array with a hole', { headers: { accept: sparse } }, /hole at 1/],
    ['two values for a header Node sends once', { headers: { 'user-agent': ['a', 'b'] } }, /2 values for user-agent/],
    ['65 header fields', { headers: headersOfFields(65, 10) }, /65 header fields/],
    ['16385 bytes of headers', { headers: headersOfSize(16385, 2) }, /16385 bytes/],
    ['a POST', { method: 'POST' as never }, /POST/],
    ['a link with a CR/LF', { link: '</a>; rel=preload; as=style\r\nx: 1' }, /match/],
    ['a link that does not start with <', { link: 'x</a>; rel=preload; as=style' }, /link/],
  ])('rejects a result with %s', (_what, change, message) => {
    const result = { ...good, ...change };
    expect(() => checkResult(result, { path: result.path, headers: result.headers, opts: undefined }, {}, new Tally())).toThrow(message);
  });

  it('accepts a good result, also at the limits', () => {
    const input = (headers: Record<string, string | string[]>): PushCall => ({ path: '/a', headers, opts: undefined });
    for (const headers of [{ accept: 'text/css' }, headersOfFields(64, 10), headersOfSize(16384, 2), { 'user-agent': ['a'] }]) {
      expect(() => checkResult({ ...good, headers }, input(headers), {}, new Tally())).not.toThrow();
    }
  });

  it('rejects an accepted call with a header edge', () => {
    const call: PushCall = { path: '/a', headers: { accept: 'text/css' }, opts: undefined };
    expect(() => check({ ok: true, value: good }, ['holes'], call, {}, new Tally())).toThrow(/accepted headers with holes/);
  });

  it('rejects other exceptions and multi-line messages', () => {
    expect(() => checkRejection(new TypeError('x'), new Tally())).toThrow(/instead of PushValidationError/);
    expect(() => checkRejection(new PushValidationError('ERR_PUSH_INVALID_PATH', 'a\nb'), new Tally())).toThrow(/multi-line/);
    expect(() => checkRejection(new PushValidationError('ERR_PUSH_INVALID_PATH', 'a\rb'), new Tally())).toThrow(/multi-line/);
    expect(() => checkRejection(new PushValidationError('ERR_PUSH_INVALID_PATH', ' '), new Tally())).toThrow();
  });

  it('finds the edges of an input', () => {
    const of = (headers: unknown, path: unknown = '/a', opts?: unknown) => edgesOf({ path, headers, opts });
    expect(of({ accept: sparse })).toEqual(['holes']);
    expect(of({ accept: [] })).toEqual(['emptyArray']);
    expect(of(JSON.parse('{"__proto__": "x"}'))).toEqual(['protoName']);
    expect(of({ 'http2-settings': '' })).toEqual(['http2Settings']);
    expect(of({ dnt: ['1', '1'] })).toEqual(['singleValueMany']);
    expect(of(headersOfFields(65, 0))).toEqual(['tooManyFields']);
    expect(of(headersOfSize(16385, 3))).toEqual(['tooLarge']);
    expect(of(headersOfFields(64, 3))).toEqual([]);
    expect(of(headersOfSize(16384, 3))).toEqual([]);
    expect(of(objectOf([['accept', 'a']], true), '/a', objectOf([['method', 'GET']], true))).toEqual([]);
    expect(of(undefined, Object.create(null))).toEqual(['unprintable']);
    expect(of({ accept: ['a', Object.create(null)] })).toEqual(['unprintable']);
    expect(of(undefined, '/a', { method: Object.create(null) })).toEqual(['unprintable']);
    expect(of(undefined, ['/a\r\n'])).toEqual(['multiline']);
    expect(of(undefined, '/a\r\n')).toEqual([]);
    expect(edgesOfResource({ path: '/a', as: ['x\ny'], headers: { accept: [] } })).toEqual(['emptyArray', 'multiline']);
    expect(edgesOfResource(objectOf([['path', '/a']], true))).toEqual([]);
  });
});

/** The error `fn` throws (undefined if none). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** `fn` throws a PushValidationError with `code` and a one-line message. */
function expectRejected(fn: () => unknown, code = 'ERR_PUSH_INVALID_HEADER'): PushValidationError {
  const error = thrownBy(fn) as PushValidationError;
  expect(error).toBeInstanceOf(PushValidationError);
  expect(error.code).toBe(code);
  expect(error.message).not.toMatch(/[\r\n]/);
  return error;
}

describe('error messages for any value', () => {
  it('rejects a null-prototype object with a PushValidationError, not a TypeError', () => {
    expectRejected(() => normalizePush(Object.create(null)), 'ERR_PUSH_INVALID_PATH');
    expectRejected(() => normalizePush('/x', {}, { method: Object.create(null) }), 'ERR_PUSH_INVALID_METHOD');
    expectRejected(() => normalizePush('/x', { accept: [Object.create(null)] }));
    expectRejected(() => normalizeResource(objectOf([['path', '/x'], ['as', Object.create(null)]], true)), 'ERR_PUSH_INVALID_OPTION');
  });

  it('rejects a value whose toString throws or which holds a bigint or a cycle', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const unprintable = { toString() { throw new Error('no'); }, toJSON() { throw new Error('no'); } };
    for (const value of [unprintable, cyclic, [1n], { a: 1n }, Symbol('s'), () => '/x']) {
      expectRejected(() => normalizePush(value as never), 'ERR_PUSH_INVALID_PATH');
      expectRejected(() => normalizePush('/x', { accept: value as never }));
    }
  });

  it('keeps the message on one line for a non-string holding CR/LF', () => {
    expectRejected(() => normalizePush(['/a\r\nx-injected: 1'] as never), 'ERR_PUSH_INVALID_PATH');
    expectRejected(() => normalizePush('/x', { accept: ['text/css', { v: 'a\r\nb' }] as never }));
    expectRejected(() => normalizePush('/x', {}, { qs: new String('a\nb') as never }), 'ERR_PUSH_INVALID_QS');
    expectRejected(() => normalizePush('/x', {}, { host: { toString: () => 'a\r\nb' } as never }), 'ERR_PUSH_INVALID_OPTION');
  });
});

describe('header arrays, names and limits', () => {
  it('rejects a header value array with holes', () => {
    expectRejected(() => normalizePush('/x', { accept: ['text/css', , 'text/html'] as never }));
    expectRejected(() => normalizePush('/x', { accept: new Array(2) }));
    expectRejected(() => normalizePush('/x', { cookie: withHoles(['a=1'], 1, 1) }));
  });

  it('rejects an empty header value array', () => {
    expectRejected(() => normalizePush('/x', { accept: [] }));
    expectRejected(() => normalizeResource({ path: '/x', headers: { 'x-a': 'b', cookie: [] } }));
  });

  it('rejects a "__proto__" header name, given as a string or an array', () => {
    expectRejected(() => normalizePush('/x', JSON.parse('{"__proto__": ["a"]}')));
    expectRejected(() => normalizePush('/x', JSON.parse('{"accept": "text/css", "__proto__": "a"}')));
    expectRejected(() => normalizePush('/x', objectOf([['__proto__', 'a']], true) as never));
  });

  it('rejects an http2-settings header', () => {
    expectRejected(() => normalizePush('/x', { 'http2-settings': 'AAMAAABkAAQAAP__' }));
  });

  it.each([...NODE_SINGLE_VALUE_HEADERS].filter((name) => name !== 'content-length'))('rejects several values for %s, which Node sends once, and takes one', (name) => {
    expectRejected(() => normalizePush('/x', { [name]: ['a', 'b'] }));
    expect(normalizePush('/x', { [name]: 'a' }).headers).toEqual({ [name]: 'a' });
    expect(normalizePush('/x', { [name]: ['a'] }).headers).toEqual({ [name]: ['a'] });
  });

  it('takes several values for headers Node may repeat', () => {
    expect(normalizePush('/x', { accept: ['text/css', '*/*'], cookie: ['a=1', 'b=2'] }).headers).toEqual({ accept: ['text/css', '*/*'], cookie: ['a=1', 'b=2'] });
  });

  it(`accepts ${MAX_HEADER_FIELDS} header fields and rejects ${MAX_HEADER_FIELDS + 1}, array items counting one each`, () => {
    for (const singles of [0, 1, 32, 64]) expect(headerListOf(normalizePush('/x', headersOfFields(64, singles)).headers).fields).toBe(64);
    for (const singles of [0, 1, 32, 65]) expect(expectRejected(() => normalizePush('/x', headersOfFields(65, singles))).message).toMatch(/at most 64 header fields, got 65/);
    expectRejected(() => normalizePush('/x', { cookie: Array.from({ length: 130 }, (_, i) => `c${i}=1`) }));
  });

  it(`accepts ${MAX_HEADERS_SIZE} bytes of headers and rejects ${MAX_HEADERS_SIZE + 1} (name + value + 32 per field)`, () => {
    for (const count of [2, 3, 10]) {
      expect(headerListOf(normalizePush('/x', headersOfSize(16384, count)).headers).size).toBe(16384);
      expect(expectRejected(() => normalizePush('/x', headersOfSize(16385, count))).message).toMatch(/16385 bytes/);
    }
    const value = 'v'.repeat(8000);
    expectRejected(() => normalizePush('/x', Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`x-h${i}`, value]))));
  });
});

describe('bounded work on huge input', () => {
  /**
   * An array of `length` (mostly holes) whose last item is read through a getter: `read()` tells whether
   * the validation walked all of it.
   */
  const hugeArray = (length: number, first: unknown[]) => {
    const array = [...first];
    array.length = length;
    let read = false;
    Object.defineProperty(array, length - 1, { get: () => ((read = true), 'x'), enumerable: true, configurable: true });
    return { array, read: () => read };
  };

  // Array.from(value) materializes every index before the 64-field cap is checked:
  // normalizePush('/x', { accept: new Array(2 ** 32 - 1) }) runs ~5 s, grows to ~1.7 GB and throws a
  // RangeError ("Invalid array length"); new Array(1e8) takes ~5 s and ~1.7 GB before the rejection.
  it('rejects a header array longer than the field cap without reading it all', () => {
    const { array, read } = hugeArray(1_000_000, ['text/css']);
    expectRejected(() => normalizePush('/x', { accept: array as string[] }));
    expect(read()).toBe(false);
  });

  // show() JSON-stringifies the whole value and then keeps 80 characters: normalizePush(new Array(1e8))
  // runs ~25 s and grows to ~2.6 GB before it throws; a large Buffer or object as path, headers or option
  // costs in proportion.
  it('describes a huge non-string in an error message without reading it all', () => {
    const { array, read } = hugeArray(1_000_000, ['/x']);
    expectRejected(() => normalizePush(array as never), 'ERR_PUSH_INVALID_PATH');
    expect(read()).toBe(false);
  });
});
