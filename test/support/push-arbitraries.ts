/**
 * fast-check generators of PushService.push() / @Push() input, shared by the property tests: inputs that
 * are valid (some just at the header limits), valid with one field mutated or with one header edge (holes,
 * empty arrays, `__proto__`, http2-settings, several values for a single-value header, too many fields,
 * too many bytes), and anything at all, so that both accepting and rejecting branches of the validation
 * are exercised a lot. `edgesOf()` tells which edges an input has, for the tests to count them.
 */
import * as fc from 'fast-check';

export type Entries = [string, unknown][];

/** An object with exactly these own enumerable properties (also `__proto__`), optionally without prototype. */
export function objectOf(entries: Entries, nullPrototype = false): Record<string, unknown> {
  const object: Record<string, unknown> = nullPrototype ? Object.create(null) : {};
  for (const [key, value] of entries) {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return object;
}

/** `object` with one more own property (replacing any of that name), keeping its prototype. */
export function withEntry(object: unknown, key: string, value: unknown): Record<string, unknown> {
  const base = object !== null && typeof object === 'object' && !Array.isArray(object) ? (object as Record<string, unknown>) : {};
  const entries: Entries = Object.keys(base).filter((k) => k !== key).map((k) => [k, base[k]]);
  return objectOf([...entries, [key, value]], Object.getPrototypeOf(base) === null);
}

const chars = (set: string) => fc.constantFrom(...set);
const join = (parts: string[]) => parts.join('');

/** Inserts `piece` into `text` at `at` (modulo its length + 1). */
const insertAt = (text: string, at: number, piece: string) => {
  const i = at % (text.length + 1);
  return text.slice(0, i) + piece + text.slice(i);
};

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdefABCDEF';
/** RFC 3986 pchar without percent-encodings. */
const PCHAR = `${ALNUM}-._~!$&'()*+,;=:@`;
const VISIBLE = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
/** Characters that no path, query, header name or value may hold as such. */
const HOSTILE = ['\r', '\n', '\r\n', '\0', '\t', ' ', '\x7f', '\x1b', '\x0b', '\u00e9', '\u2028', '\ud800', '\u{1f600}', '?', '#', '%', '<', '>', '"', '\\', '^', '`', '{', '|', '}', '%zz', '%0'];

export const hostileChar = fc.constantFrom(...HOSTILE);
const pctEncoded = fc.tuple(chars(HEX), chars(HEX)).map(([a, b]) => `%${a}${b}`);

/** Strings of every kind: binary (controls, lone surrogates), unicode, ASCII, and sometimes very long. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 8 }), fc.integer({ min: 8000, max: 9000 })).map(([s, n]) => s.repeat(Math.ceil(n / s.length)).slice(0, n)) },
);

/** Values of the wrong type (or of the right type but odd): what JavaScript callers and `as never` can pass. */
export const anyJunk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(undefined, null, true, false, 0, -0, 1, -1, 80, 443, Number.NaN, Infinity, -Infinity, 1.5, 2 ** 53, ''),
  fc.integer(),
  fc.double(),
  fc.bigInt(),
  fc.array(anyString, { maxLength: 3 }),
  fc.array(fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })), { maxLength: 3 }),
  fc.constantFrom<unknown>(
    Symbol('push'),
    () => '/x',
    new Map([['accept', 'text/css']]),
    new Set(['/x']),
    new Date(0),
    /\/x/,
    Object.freeze({ path: '/x' }),
    new (class Options { method = 'GET'; })(),
    new String('/x'),
    new Number(443),
    Buffer.from('/x'),
    // String() of these throws or holds CR/LF: error messages must stay one line all the same.
    Object.create(null),
    objectOf([['path', '/x']], true),
    { toString: () => { throw new Error('unprintable'); } },
    ['/a\r\nx-injected: 1'],
    new String('a\nb'),
    { toString: () => 'a\r\nb' },
  ),
  fc.object({ maxDepth: 1, maxKeys: 3 }),
  fc.anything({ maxDepth: 2, maxKeys: 3, withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withSet: true, withBoxedValues: true, withTypedArray: true, withSparseArray: true, stringUnit: 'binary' }),
);

/** What JSON carries of anyJunk (undefined, NaN, ±Infinity, -0 and bigints are tagged: fixtures/push-input.app.ts). */
export const jsonJunk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(undefined, null, true, false, 0, -0, 1, -1, 80, 443, Number.NaN, Infinity, -Infinity, 1.5, 2 ** 53, ''),
  // String() of these holds CR/LF: error messages must stay one line all the same.
  fc.constantFrom<unknown>(['/a\r\nx-injected: 1'], [1, ['a\nb']], ['\r']),
  fc.integer(),
  fc.double(),
  fc.array(anyString, { maxLength: 3 }),
  fc.array(fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(anyString, fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })), { maxKeys: 3, noNullPrototype: true }),
);

export interface PushCall {
  path: unknown;
  headers: unknown;
  opts: unknown;
}

// ---- header limits ----

/** Header fields a push may give, array items counting one each. */
export const MAX_HEADER_FIELDS = 64;
/** Bytes of given headers as HPACK counts them (name + value + 32 per field). */
export const MAX_HEADERS_SIZE = 16 * 1024;

/** Headers Node's http2 sends once: several values make it throw ERR_HTTP2_HEADER_SINGLE_VALUE (lib/internal/http2/util.js). */
export const NODE_SINGLE_VALUE_HEADERS: ReadonlySet<string> = new Set([
  'access-control-allow-credentials', 'access-control-max-age', 'access-control-request-method', 'age', 'authorization',
  'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type',
  'date', 'dnt', 'etag', 'expires', 'from', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'tk', 'upgrade-insecure-requests', 'user-agent', 'x-content-type-options',
]);

/** Header fields of `headers` (array items count one each) and their size as HPACK counts it. */
export function headerListOf(headers: object): { fields: number; size: number } {
  let fields = 0;
  let size = 0;
  for (const name of Object.keys(headers)) {
    const value = (headers as Record<string, unknown>)[name];
    const values = Array.isArray(value) ? value : [value];
    fields += values.length;
    for (let i = 0; i < values.length; i++) size += name.length + (typeof values[i] === 'string' ? (values[i] as string).length : 0) + 32;
  }
  return { fields, size };
}

/** Headers that look valid piece by piece but that Node or a client would refuse: the validation must reject them. */
export const HEADER_EDGES = ['holes', 'emptyArray', 'protoName', 'http2Settings', 'singleValueMany', 'tooManyFields', 'tooLarge'] as const;
/** Values whose String() throws (null prototype, ...) or holds CR/LF: error messages must still be one line. */
export const SHOW_EDGES = ['unprintable', 'multiline'] as const;
export type HeaderEdge = (typeof HEADER_EDGES)[number];
export type ShowEdge = (typeof SHOW_EDGES)[number];
export type Edge = HeaderEdge | ShowEdge;

/** Which header edges a `headers` argument has: any of them makes the call invalid. */
export function headerEdges(headers: unknown): HeaderEdge[] {
  if (!isPlainObject(headers)) return [];
  const found = new Set<HeaderEdge>();
  for (const name of Object.keys(headers)) {
    if (name === '__proto__') found.add('protoName');
    if (name === 'http2-settings') found.add('http2Settings');
    const value = (headers as Record<string, unknown>)[name];
    if (!Array.isArray(value)) continue;
    if (value.length === 0) found.add('emptyArray');
    if (Object.keys(value).filter((key) => /^(?:0|[1-9]\d*)$/.test(key)).length < value.length) found.add('holes');
    if (value.length > 1 && NODE_SINGLE_VALUE_HEADERS.has(name)) found.add('singleValueMany');
  }
  const { fields, size } = headerListOf(headers);
  if (fields > MAX_HEADER_FIELDS) found.add('tooManyFields');
  if (size > MAX_HEADERS_SIZE) found.add('tooLarge');
  return [...found];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The values of a container argument (headers, options) that an error message may quote, or itself. */
function quotable(container: unknown, headers = false): unknown[] {
  if (container === undefined) return [];
  if (!isPlainObject(container)) return [container];
  return Object.keys(container).flatMap((key) => {
    const value = container[key];
    return headers && Array.isArray(value) ? Array.from(value) : [value];
  });
}

/** The show() edges among values an error message may quote: non-strings whose String() throws or holds CR/LF. */
export function showEdges(values: unknown[]): ShowEdge[] {
  const found = new Set<ShowEdge>();
  for (const value of values) {
    if (typeof value === 'string') continue;
    try {
      if (/[\r\n]/.test(String(value))) found.add('multiline');
    } catch {
      found.add('unprintable');
    }
  }
  return [...found];
}

/** Every edge of a push(path, headers, opts) call. */
export function edgesOf({ path, headers, opts }: PushCall): Edge[] {
  return [...headerEdges(headers), ...showEdges([path, ...quotable(headers, true), ...quotable(opts)])];
}

/** Every edge of a @Push() resource. */
export function edgesOfResource(resource: unknown): Edge[] {
  if (!isPlainObject(resource)) return showEdges([resource]);
  const { headers, ...rest } = resource;
  return [...headerEdges(headers), ...showEdges([...quotable(headers, true), ...quotable(rest)])];
}

const FILLER = Array.from({ length: 8192 }, (_, i) => String.fromCharCode(0x21 + ((i * 7919) % 94))).join('');
/** Visible ASCII, varied (not one repeated character), `length` (at most 8192) long. */
export const filler = (length: number) => FILLER.slice(0, length);

/**
 * Headers of exactly `size` bytes (name + value + 32 per field) in at least `count` fields, each value
 * within the 8192-character limit.
 */
export function headersOfSize(size: number, count: number): Record<string, string> {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `x-s${i}`);
  let n = Math.max(1, count);
  while (size - names(n).reduce((sum, name) => sum + name.length + 32, 0) > n * 8192) n++;
  const rest = size - names(n).reduce((sum, name) => sum + name.length + 32, 0);
  if (rest < 0) throw new Error(`${size} bytes cannot hold ${n} fields`);
  return Object.fromEntries(names(n).map((name, i) => [name, filler(Math.floor(rest / n) + (i < rest % n ? 1 : 0))]));
}

/** `fields` header fields: `singles` names with one value each, the rest as an array under `arrayName`. */
export function headersOfFields(fields: number, singles: number, arrayName = 'cookie'): Record<string, string | string[]> {
  const ones = Math.min(singles, fields);
  const headers: Record<string, string | string[]> = Object.fromEntries(Array.from({ length: ones }, (_, i) => [`x-f${i}`, `v${i}`]));
  if (fields > ones) headers[arrayName] = Array.from({ length: fields - ones }, (_, i) => `c${i}=1`);
  return headers;
}

/** `items` with `holes` holes from index `at` (modulo its length + 1) on. */
export function withHoles(items: string[], at: number, holes: number): string[] {
  const i = at % (items.length + 1);
  const holey: string[] = [];
  holey.length = items.length + holes;
  items.forEach((item, k) => (holey[k < i ? k : k + holes] = item));
  return holey;
}

export interface ArbitraryConfig {
  /** Values of the wrong type. */
  junk: fc.Arbitrary<unknown>;
  /** Valid `host` options (default: names, IPv4 and IPv6 literals of every shape). */
  host?: fc.Arbitrary<string>;
  /** Valid `port` options (default: 1 to 65535). */
  port?: fc.Arbitrary<number>;
}

const label = fc.string({ unit: chars('abcdefghijklmnopqrstuvwxyz0123456789_-'), minLength: 1, maxLength: 10 })
  .map((l) => l.replace(/^-+|-+$/g, '') || 'a');
export const anyValidHost: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('cdn.test', 'CDN.Example.COM', 'localhost', '127.0.0.1', '::1', '[::1]', '2001:db8::1', '[2001:db8::10]', 'a_b.test', 'x', '10.0.0.1'),
  fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.')),
);
export const anyValidPort = fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(1, 80, 443, 8443, 65535));

export const PRELOAD_AS = ['style', 'script', 'font', 'image', 'fetch', 'document', 'audio', 'video', 'track', 'worker'] as const;

/** Every generator of push input, built on `config`. */
export function pushArbitraries({ junk, host: validHost = anyValidHost, port: validPort = anyValidPort }: ArbitraryConfig) {
  // ---- paths and query strings ----

  const validPath: fc.Arbitrary<string> = fc.oneof(
    { weight: 1, arbitrary: fc.constant('/') },
    {
      weight: 8,
      arbitrary: fc
        .array(fc.oneof({ weight: 6, arbitrary: chars(PCHAR) }, { weight: 2, arbitrary: fc.constant('/') }, { weight: 1, arbitrary: pctEncoded }), { maxLength: 30 })
        .map((parts) => `/${join(parts)}`)
        .map((path) => (path.startsWith('//') ? `/x${path.slice(1)}` : path)),
    },
    { weight: 1, arbitrary: fc.constantFrom(1, 100, 8190, 8191, 8192).map((n) => `/${'a'.repeat(n - 1)}`) },
  );

  const badPath: fc.Arbitrary<unknown> = fc.oneof(
    fc.tuple(validPath, fc.nat(), hostileChar).map(([path, at, c]) => insertAt(path, at, c)),
    validPath.map((path) => path.slice(1)),
    validPath.map((path) => `/${path}`),
    validPath.map((path) => `http://a.test${path}`),
    fc.tuple(validPath, anyString).map(([path, qs]) => `${path}?${qs}`),
    fc.constantFrom('', '/', '//', '.', '*', '\\x', '/a#', '/a?', 'a', `/${'a'.repeat(8192)}`, `/${'a'.repeat(20000)}`),
    anyString,
    junk,
  );

  const validQs: fc.Arbitrary<string> = fc
    .array(fc.oneof({ weight: 6, arbitrary: chars(`${PCHAR}/?`) }, { weight: 1, arbitrary: pctEncoded }), { maxLength: 30 })
    .map(join)
    .map((qs) => (qs.startsWith('?') ? `x${qs}` : qs));

  const badQs: fc.Arbitrary<unknown> = fc.oneof(
    fc.tuple(validQs, fc.nat(), hostileChar.filter((c) => c !== '?')).map(([qs, at, c]) => insertAt(qs, at, c)),
    validQs.map((qs) => `?${qs}`),
    fc.constantFrom('?', '#', 'a=1#f', 'a b', `${'q'.repeat(8193)}`),
    anyString,
    junk.filter((v) => v !== undefined),
  );

  // ---- headers ----

  /** Names a caller may give: lowercase tokens, not pseudo, connection-specific, `host`, body headers or `__proto__`. */
  const validHeaderName: fc.Arbitrary<string> = fc.oneof(
    fc.constantFrom('accept', 'accept-encoding', 'accept-language', 'cookie', 'user-agent', 'authorization', 'cache-control', 'x-requested-with', 'dnt', 'content-type', 'if-none-match', 'referer', 'x-a', "x-!#$%&'*+.^_`|~9", 'constructor', 'valueof', 'tostring', 'prototype'),
    fc.string({ unit: chars("abcdefghijklmnopqrstuvwxyz0123456789-!#$%&'*+.^_`|~"), minLength: 1, maxLength: 16 }),
  ).filter((name) => !['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings', 'host', 'content-length', 'expect', '__proto__'].includes(name));

  /** Valid names that Node's http2 may send several times. */
  const multiValueName = validHeaderName.filter((name) => !NODE_SINGLE_VALUE_HEADERS.has(name));
  /** Names Node's http2 sends once (content-length is refused for a request without body anyway). */
  const singleValueName = fc.constantFrom(...[...NODE_SINGLE_VALUE_HEADERS].filter((name) => name !== 'content-length'));

  const badHeaderName: fc.Arbitrary<string> = fc.oneof(
    fc.constantFrom('Accept', 'ACCEPT', 'User-Agent', 'X-Custom', 'Cookie', ':path', ':method', ':authority', ':scheme', ':status', ':x', ':', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings', 'host', 'Host', 'TE', 'content-length', 'expect', '__proto__', '', ' ', 'a b', 'a:b', 'a\r\nb', 'a\0', 'caf\u00e9', 'x"y', '(x)', '{}'),
    fc.tuple(validHeaderName, fc.nat(), hostileChar).map(([name, at, c]) => insertAt(name, at, c)),
    validHeaderName.map((name) => name.toUpperCase()).filter((name) => name !== name.toLowerCase()),
    anyString,
  );

  /** `''` or visible ASCII with inner spaces and tabs, no leading or trailing whitespace. */
  const validHeaderString: fc.Arbitrary<string> = fc.oneof(
    { weight: 8, arbitrary: fc.string({ unit: chars(`${VISIBLE}  \t`), maxLength: 40 }).map((v) => v.replace(/^[ \t]+|[ \t]+$/g, '')) },
    { weight: 1, arbitrary: fc.constantFrom('', 'text/css', 'application/json', '*/*', 'a=1; b=2', 'gzip, br', `${'v'.repeat(8192)}`) },
  );

  /** A value for some valid name: a string or 1 to 3 strings (valid as it is for names Node may repeat). */
  const validHeaderValue: fc.Arbitrary<string | string[]> = fc.oneof(
    { weight: 5, arbitrary: validHeaderString },
    { weight: 1, arbitrary: fc.array(validHeaderString, { minLength: 1, maxLength: 3 }) },
  );

  /** A valid header: several values only for names Node may repeat, one (maybe in an array) for the others. */
  const validHeaderEntry: fc.Arbitrary<[string, string | string[]]> = fc
    .tuple(validHeaderName, validHeaderValue)
    .map(([name, value]) => [name, Array.isArray(value) && NODE_SINGLE_VALUE_HEADERS.has(name) ? value.slice(0, 1) : value]);

  const badHeaderString: fc.Arbitrary<unknown> = fc.oneof(
    fc.tuple(validHeaderString, fc.nat(), fc.constantFrom('\r', '\n', '\r\n', '\0', '\x7f', '\x1b', '\x0b', '\u00e9', '\u2028', '\ud800', '\u{1f600}')).map(([v, at, c]) => insertAt(v, at, c)),
    validHeaderString.map((v) => ` ${v}`),
    validHeaderString.map((v) => `${v}\t`),
    fc.constantFrom(' ', '\t', 'a\r\nx-injected: 1', `${'v'.repeat(8193)}`),
    anyString,
    junk,
  );

  const badHeaderValue: fc.Arbitrary<unknown> = fc.oneof(
    badHeaderString,
    fc.tuple(fc.array(validHeaderString, { maxLength: 2 }), badHeaderString).map(([ok, bad]) => [...ok, bad]),
  );

  /** The entries that fit the limits, in order: those that would exceed them are left out. */
  const fitting = (entries: [string, string | string[]][]) => {
    const kept: [string, string | string[]][] = [];
    for (const entry of entries) {
      const { fields, size } = headerListOf(Object.fromEntries([...kept, entry]));
      if (fields <= MAX_HEADER_FIELDS && size <= MAX_HEADERS_SIZE) kept.push(entry);
    }
    return kept;
  };

  /** Valid headers just at the limits: 64 fields (names or array items), 16384 bytes or a little less. */
  const headersAtTheLimits: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
    fc.constant(objectOf(Array.from({ length: 64 }, (_, i): [string, string] => [`x-h${i}`, `${i}`]))),
    fc.tuple(fc.nat(MAX_HEADER_FIELDS), fc.constantFrom('cookie', 'accept', 'x-list')).map(([singles, name]) => headersOfFields(MAX_HEADER_FIELDS, singles, name)),
    fc.tuple(fc.oneof(fc.constant(MAX_HEADERS_SIZE), fc.integer({ min: MAX_HEADERS_SIZE - 2000, max: MAX_HEADERS_SIZE })), fc.integer({ min: 2, max: 8 }))
      .map(([size, count]) => headersOfSize(size, count)),
  );

  const validHeaders: fc.Arbitrary<Record<string, unknown> | undefined> = fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.uniqueArray(validHeaderEntry, { maxLength: 5, selector: ([name]) => name }), fc.boolean())
        .map(([entries, nullPrototype]) => objectOf(fitting(entries), nullPrototype)),
    },
    { weight: 1, arbitrary: headersAtTheLimits },
  );

  /**
   * Each header edge alone: the headers of a valid call with one entry added (or, for the limits, replaced)
   * so that they are valid but for that edge.
   */
  type HeadersChange = (headers: unknown) => Record<string, unknown>;
  const headerEdge: Record<HeaderEdge, fc.Arbitrary<HeadersChange>> = {
    holes: fc
      .tuple(multiValueName, fc.array(validHeaderString, { maxLength: 3 }), fc.nat(), fc.integer({ min: 1, max: 2 }))
      .map(([name, items, at, holes]) => (headers) => withEntry(headers, name, withHoles(items, at, holes))),
    emptyArray: validHeaderName.map((name) => (headers) => withEntry(headers, name, [])),
    protoName: fc.oneof(validHeaderString, fc.array(validHeaderString, { minLength: 1, maxLength: 2 }))
      .map((value) => (headers) => withEntry(headers, '__proto__', value)),
    http2Settings: fc.oneof(fc.constantFrom('AAMAAABkAAQAAP__', 'AAEAAEAA', ''), validHeaderString)
      .map((value) => (headers) => withEntry(headers, 'http2-settings', value)),
    singleValueMany: fc
      .tuple(singleValueName, fc.array(validHeaderString.filter((v) => v.length < 100), { minLength: 2, maxLength: 3 }))
      .map(([name, values]) => (headers) => withEntry(headers, name, values)),
    tooManyFields: fc
      .tuple(fc.oneof(fc.constant(MAX_HEADER_FIELDS + 1), fc.integer({ min: MAX_HEADER_FIELDS + 1, max: 130 })), fc.nat(MAX_HEADER_FIELDS + 1), fc.constantFrom('cookie', 'accept', 'x-list'))
      .map(([fields, singles, name]) => () => headersOfFields(fields, singles, name)),
    tooLarge: fc
      .tuple(fc.oneof(fc.constant(MAX_HEADERS_SIZE + 1), fc.integer({ min: MAX_HEADERS_SIZE + 1, max: 75_000 })), fc.integer({ min: 2, max: 9 }))
      .map(([size, count]) => () => headersOfSize(size, count)),
  };
  const anyHeaderEdge: fc.Arbitrary<HeadersChange> = fc.oneof(...HEADER_EDGES.map((edge) => headerEdge[edge]));

  // ---- options ----


  const badHost: fc.Arbitrary<unknown> = fc.oneof(
    fc.constantFrom('', ' ', 'a.test:443', 'http://a.test', 'a.test/', 'a b', 'a.test\r\n', '-a.test', 'a.test-', '.a', 'a.', '[::1]:80', '[zz]', '[]', 'caf\u00e9.test', 'a\0', `${'a'.repeat(300)}`, 'user@a.test'),
    fc.tuple(validHost, fc.nat(), hostileChar).map(([h, at, c]) => insertAt(h, at, c)),
    anyString,
    junk.filter((v) => v !== undefined),
  );

  const badPort: fc.Arbitrary<unknown> = fc.oneof(
    fc.constantFrom<unknown>(0, -0, -1, 65536, 70000, Number.NaN, Infinity, -Infinity, 80.5, 1e21, -443, '80', '443', '', null, '8443abc', [443], 443n),
    fc.integer({ max: 0 }),
    fc.integer({ min: 65536 }),
    fc.double().filter((d) => !Number.isInteger(d) || d < 1 || d > 65535),
    junk.filter((v) => v !== undefined),
  );

  const validMethod = fc.constantFrom('GET', 'HEAD');
  const badMethod: fc.Arbitrary<unknown> = fc.oneof(
    fc.constantFrom('POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'PATCH', 'get', 'head', 'Get', '', ' GET', 'GET ', 'GET\r\n'),
    anyString.filter((m) => m !== 'GET' && m !== 'HEAD'),
    junk.filter((v) => v !== undefined),
  );

  const validScheme = fc.constantFrom('http', 'https');
  const badScheme: fc.Arbitrary<unknown> = fc.oneof(
    fc.constantFrom('HTTP', 'HTTPS', 'https:', 'ftp', 'ws', 'wss', '', 'http ', 'h2', 'h2c'),
    anyString.filter((s) => s !== 'http' && s !== 'https'),
    junk.filter((v) => v !== undefined),
  );

  const validOpts = fc.record(
    { method: validMethod, scheme: validScheme, host: validHost, port: validPort, qs: validQs },
    { requiredKeys: [] },
  );

  /** Option names PushService.push() does not know (the resource-only ones included). */
  const unknownOptionKey: fc.Arbitrary<string> = fc.oneof(
    fc.constantFrom('body', 'Method', 'METHOD', 'headers', 'path', 'hostname', 'authority', 'query', 'as', 'type', 'crossorigin', '__proto__', 'constructor', ''),
    anyString.filter((k) => !['method', 'scheme', 'host', 'port', 'qs'].includes(k)),
  );

  const validCall: fc.Arbitrary<PushCall> = fc
    .record({ path: validPath, headers: validHeaders, opts: fc.option(validOpts, { nil: undefined }) });

  /** One field of a valid call replaced by something wrong (or suspicious: some of it is still valid). */
  type Mutation = (call: PushCall) => PushCall;
  const mutations: fc.Arbitrary<Mutation> = fc.oneof<fc.MaybeWeightedArbitrary<Mutation>[]>(
    badPath.map((path) => (call) => ({ ...call, path })),
    fc.tuple(badHeaderName, validHeaderValue).map(([name, value]) => (call) => ({ ...call, headers: withEntry(call.headers, name, value) })),
    fc.tuple(validHeaderName, badHeaderValue).map(([name, value]) => (call) => ({ ...call, headers: withEntry(call.headers, name, value) })),
    junk.filter((v) => v !== undefined).map((headers) => (call) => ({ ...call, headers })),
    { weight: 3, arbitrary: anyHeaderEdge.map((change): Mutation => (call) => ({ ...call, headers: change(call.headers) })) },
    badMethod.map((method) => (call) => ({ ...call, opts: withEntry(call.opts, 'method', method) })),
    badScheme.map((scheme) => (call) => ({ ...call, opts: withEntry(call.opts, 'scheme', scheme) })),
    badHost.map((host) => (call) => ({ ...call, opts: withEntry(call.opts, 'host', host) })),
    badPort.map((port) => (call) => ({ ...call, opts: withEntry(call.opts, 'port', port) })),
    badQs.map((qs) => (call) => ({ ...call, opts: withEntry(call.opts, 'qs', qs) })),
    fc.tuple(unknownOptionKey, junk).map(([key, value]) => (call) => ({ ...call, opts: withEntry(call.opts, key, value) })),
    junk.filter((v) => v !== undefined).map((opts) => (call) => ({ ...call, opts })),
  );

  const mutatedCall: fc.Arbitrary<PushCall> = fc.tuple(validCall, mutations).map(([call, mutate]) => mutate(call));

  /** A valid call with exactly one header edge: the validation must reject it for its headers. */
  const edgeCall: fc.Arbitrary<PushCall> = fc.tuple(validCall, anyHeaderEdge).map(([call, change]) => ({ ...call, headers: change(call.headers) }));

  const anyKeyedObject = (keys: fc.Arbitrary<string>, values: fc.Arbitrary<unknown>) =>
    fc.tuple(fc.array(fc.tuple(keys, values), { maxLength: 5 }), fc.boolean()).map(([entries, nullPrototype]) => objectOf(entries, nullPrototype));

  const randomCall: fc.Arbitrary<PushCall> = fc.record({
    path: fc.oneof(anyString, junk, validPath),
    headers: fc.oneof(junk, anyKeyedObject(fc.oneof(anyString, validHeaderName, badHeaderName), fc.oneof(anyString, junk, validHeaderValue))),
    opts: fc.oneof(junk, anyKeyedObject(fc.oneof(fc.constantFrom('method', 'scheme', 'host', 'port', 'qs'), unknownOptionKey), fc.oneof(anyString, junk, validPort, validHost, validMethod, validScheme))),
  });

  /** Mostly valid calls and calls with one mutated field, some fully random. */
  const pushCall: fc.Arbitrary<PushCall> = fc.oneof(
    { weight: 4, arbitrary: validCall },
    { weight: 5, arbitrary: mutatedCall },
    { weight: 2, arbitrary: randomCall },
  );

  // ---- @Push() resources ----

  const validHints = fc.record(
    {
      as: fc.constantFrom(...PRELOAD_AS),
      type: fc.constantFrom('text/css', 'font/woff2', 'application/json', 'image/svg+xml', 'text/javascript', 'a/b'),
      crossorigin: fc.constantFrom<true | 'anonymous' | 'use-credentials'>(true, 'anonymous', 'use-credentials'),
    },
    { requiredKeys: [] },
  );

  const badHint: fc.Arbitrary<[string, unknown]> = fc.oneof(
    fc.tuple(fc.constant('as'), fc.oneof(fc.constantFrom<unknown>('STYLE', 'css', 'stylesheet', '', 'style ', 'embed', null, 1, true), anyString, junk.filter((v) => v !== undefined))),
    fc.tuple(fc.constant('type'), fc.oneof(fc.constantFrom<unknown>('Text/CSS', 'text', 'text/', '/css', 'text/css; charset=utf-8', 'text/"css"', 'a/b\r\nx: y', `a/${'b'.repeat(65)}`, '', 5), anyString, junk.filter((v) => v !== undefined))),
    fc.tuple(fc.constant('crossorigin'), fc.oneof(fc.constantFrom<unknown>(false, 'true', '', 'Anonymous', 'credentials', 1, null), anyString.filter((s) => s !== 'anonymous' && s !== 'use-credentials'), junk.filter((v) => v !== undefined))),
  );

  const resourceFrom = (call: PushCall, hints: object, nullPrototype: boolean) => {
    const entries: Entries = [['path', call.path]];
    if (call.headers !== undefined) entries.push(['headers', call.headers]);
    const opts = call.opts as Record<string, unknown> | undefined;
    for (const key of Object.keys(opts ?? {})) entries.push([key, opts![key]]);
    for (const [key, value] of Object.entries(hints)) entries.push([key, value]);
    return objectOf(entries, nullPrototype);
  };

  const validResource: fc.Arbitrary<unknown> = fc.oneof(
    { weight: 1, arbitrary: validPath },
    { weight: 4, arbitrary: fc.tuple(validCall, validHints, fc.boolean()).map(([call, hints, np]) => resourceFrom(call, hints, np)) },
  );

  const resourceArbitrary: fc.Arbitrary<unknown> = fc.oneof(
    { weight: 4, arbitrary: validResource },
    // One field of a valid resource mutated: path, headers or an option (via a mutated call), or a hint.
    { weight: 3, arbitrary: fc.tuple(mutatedCall, validHints, fc.boolean()).map(([call, hints, np]) => resourceFrom(call, hints, np)) },
    { weight: 1, arbitrary: fc.tuple(validCall, validHints, badHint).map(([call, hints, [key, value]]) => withEntry(resourceFrom(call, hints, false), key, value)) },
    { weight: 1, arbitrary: fc.tuple(validCall, fc.oneof(unknownOptionKey, fc.constantFrom('Path', 'header', 'as ', 'handler')), junk).map(([call, key, value]) => withEntry(resourceFrom(call, {}, false), key, value)) },
    { weight: 1, arbitrary: badPath },
    { weight: 1, arbitrary: fc.oneof(junk, anyKeyedObject(fc.oneof(fc.constantFrom('path', 'headers', 'method', 'qs', 'as', 'type', 'crossorigin', 'host', 'port', 'scheme'), anyString), fc.oneof(anyString, junk, validPath))) },
  );

  return {
    validPath, badPath, validQs, badQs, validHeaderName, badHeaderName, validHeaderValue, validHeaderEntry, badHeaderValue, validHeaders,
    headerEdge, anyHeaderEdge, badHost, badPort, validMethod, badMethod, validScheme, badScheme, validOpts, unknownOptionKey,
    validCall, mutatedCall, edgeCall, randomCall, pushCall, validHints, validResource, resourceArbitrary,
  };
}
