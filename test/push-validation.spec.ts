import { PushValidationError } from '../src';
import type { PushModuleOptions } from '../src';
import { formatAuthority, normalizePush, normalizeResource, parseAuthority, resolvePushOptions } from '../src/push/push-validation';

const rejects = (fn: () => unknown, code: string, message: RegExp) => {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(PushValidationError);
  expect(thrown).toMatchObject({ code });
  expect((thrown as Error).message).toMatch(message);
};

/** The message of the error `fn` throws. */
const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('did not throw');
};

describe('normalizePush', () => {
  it('defaults to GET, no query string, no header and the current scheme/authority', () => {
    expect(normalizePush('/static/style.css')).toEqual({
      method: 'GET', path: '/static/style.css', qs: '', scheme: undefined, host: undefined, port: undefined, headers: {},
      url: '/static/style.css', headersSize: 0, link: '</static/style.css>; rel=preload; as=style',
    });
  });

  it('keeps options, headers and case-sensitive paths as given', () => {
    expect(
      normalizePush('/Static/A%20b.CSS', { accept: 'text/css', cookie: ['a=1', 'b=2'] }, {
        method: 'HEAD', scheme: 'https', host: 'CDN.Example.com', port: 8443, qs: 'v=1&x=%2F',
      }),
    ).toEqual({
      method: 'HEAD', path: '/Static/A%20b.CSS', qs: 'v=1&x=%2F', scheme: 'https', host: 'cdn.example.com', port: 8443,
      headers: { accept: 'text/css', cookie: ['a=1', 'b=2'] },
      url: '/Static/A%20b.CSS?v=1&x=%2F', headersSize: 'accept'.length + 'text/css'.length + 2 * ('cookie'.length + 3) + 3 * 32,
      link: undefined,
    });
  });

  it('brackets a bare IPv6 host, and takes a bracketed one as it is', () => {
    expect(normalizePush('/', {}, { host: '::1' }).host).toBe('[::1]');
    expect(normalizePush('/', {}, { host: '[::1]' }).host).toBe('[::1]');
    expect(normalizePush('/', {}, { host: '[2001:DB8::1]' }).host).toBe('[2001:db8::1]');
  });

  it('rejects an IPv6 literal after anything else, and says where a port goes', () => {
    rejects(() => normalizePush('/', {}, { host: '[x][::1]' }), 'ERR_PUSH_INVALID_OPTION', /"host"/);
    rejects(() => normalizePush('/', {}, { host: 'cdn.test:8443' }), 'ERR_PUSH_INVALID_OPTION', /\(the port goes in the "port" option\)\.$/);
  });

  it('takes only whole percent-encodings (two hex digits) in the path and the query string', () => {
    for (const path of ['/a%2', '/a%2g', '/%']) rejects(() => normalizePush(path), 'ERR_PUSH_INVALID_PATH', /percent-encode/);
    for (const qs of ['a=%2', 'a=%2g']) rejects(() => normalizePush('/a', {}, { qs }), 'ERR_PUSH_INVALID_QS', /query string/);
    expect(normalizePush('/a%2F', {}, { qs: 'b=%2f' }).url).toBe('/a%2F?b=%2f');
  });

  it('takes an empty header value (a field value may be empty)', () => {
    expect(normalizePush('/a', { 'x-empty': '' }).headers).toEqual({ 'x-empty': '' });
  });

  it.each([
    ['static/style.css', /absolute/],
    ['//evil.test/x', /absolute/],
    ['/a?b=1', /"qs" option/],
    ['/a#frag', /"qs" option/],
    ['/a b', /percent-encode/],
    ['/a\r\nx: y', /percent-encode/],
    ['/a\u0000', /percent-encode/],
    ['/caf\u00e9', /percent-encode/],
    ['/%zz', /percent-encode/],
    [`/${'a'.repeat(9000)}`, /limit is 8192/],
    [42, /must be a string/],
  ])('rejects the path %j', (path, message) => {
    rejects(() => normalizePush(path as string), 'ERR_PUSH_INVALID_PATH', message);
  });

  it.each<[unknown, RegExp]>([
    [{ Accept: 'text/css' }, /lowercase: use "accept"/],
    [{ ':path': '/x' }, /pseudo-headers/],
    [{ ':status': '200' }, /pseudo-headers/],
    ...['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te'].map(
      (name): [unknown, RegExp] => [{ [name]: 'x' }, /connection-specific/],
    ),
    [{ host: 'a.test' }, /"host"\/"port" options/],
    [{ 'content-length': '3' }, /cannot have a body/],
    [{ expect: '100-continue' }, /cannot have a body/],
    [{ 'bad name': 'x' }, /not a valid header name/],
    [{ '': 'x' }, /not a valid header name/],
    [{ accept: 'a\r\nx-injected: 1' }, /no CR, LF/],
    [{ accept: 'a\nb' }, /no CR, LF/],
    [{ accept: 'a\u0000' }, /no CR, LF/],
    [{ accept: ' leading' }, /leading or trailing whitespace/],
    [{ accept: 'caf\u00e9' }, /visible ASCII/],
    [{ accept: 5 }, /must be a string/],
    [{ accept: ['ok', 7] }, /must be a string/],
    [['accept', 'x'], /plain object/],
    [Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`x-${i}`, 'v'])), /at most 64 header fields/],
  ])('rejects the headers %j', (headers, message) => {
    rejects(() => normalizePush('/x', headers as never), 'ERR_PUSH_INVALID_HEADER', message);
  });

  it.each([['POST'], ['get'], ['PUT'], ['DELETE'], ['CONNECT'], [1]])('rejects the method %j', (method) => {
    rejects(() => normalizePush('/x', {}, { method: method as never }), 'ERR_PUSH_INVALID_METHOD', /only "GET" and "HEAD"/);
  });

  it.each([
    [{ port: 0 }, /"port"/],
    [{ port: 65536 }, /"port"/],
    [{ port: -1 }, /"port"/],
    [{ port: Number.NaN }, /"port"/],
    [{ port: 1.5 }, /"port"/],
    [{ port: '443' }, /"port"/],
    [{ scheme: 'ftp' }, /"scheme"/],
    [{ scheme: 'HTTPS' }, /"scheme"/],
    [{ host: 'a.test:443' }, /without port/],
    [{ host: 'a b' }, /"host"/],
    [{ host: 'a.test\r\n' }, /"host"/],
    [{ host: '' }, /"host"/],
    [{ body: 'x' }, /cannot have a body/],
    [{ hostname: 'x' }, /Unknown push option "hostname"/],
    [{ version: 'v1' }, /Unknown push option "version"/],
  ])('rejects the options %j', (opts, message) => {
    rejects(() => normalizePush('/x', {}, opts as never), 'ERR_PUSH_INVALID_OPTION', message);
  });

  it.each([['?a=1'], ['a=1#x'], ['a=\r\n'], ['a= b']])('rejects the query string %j', (qs) => {
    rejects(() => normalizePush('/x', {}, { qs }), 'ERR_PUSH_INVALID_QS', /without the leading "\?"/);
  });
});

describe('normalizeResource (@Push arguments)', () => {
  it('takes a path or an object with headers and options', () => {
    expect(normalizeResource('/a.css').path).toBe('/a.css');
    expect(normalizeResource({ path: '/a', headers: { accept: 'x/y' }, qs: 'q=1' })).toMatchObject({
      path: '/a', qs: 'q=1', headers: { accept: 'x/y' },
    });
  });

  it('rejects unknown fields and non-resources', () => {
    rejects(() => normalizeResource({ path: '/a', colour: 'x' }), 'ERR_PUSH_INVALID_OPTION', /^Unknown push resource field "colour": allowed are /);
    rejects(() => normalizeResource({ path: '/a', body: 'x' }), 'ERR_PUSH_INVALID_OPTION', /cannot have a body/);
    rejects(() => normalizeResource(null), 'ERR_PUSH_INVALID_PATH', /path string or/);
    rejects(() => normalizeResource({ headers: {} }), 'ERR_PUSH_INVALID_PATH', /must be a string/);
  });
});

describe('authorities', () => {
  it('parses host, port and IPv6 literals', () => {
    expect(parseAuthority('Example.COM:8443')).toEqual({ host: 'example.com', port: 8443 });
    expect(parseAuthority('[::1]:3000')).toEqual({ host: '[::1]', port: 3000 });
    expect(parseAuthority('localhost')).toEqual({ host: 'localhost', port: undefined });
    expect(parseAuthority('a:99999')).toBeUndefined();
    expect(parseAuthority(undefined)).toBeUndefined();
  });

  it('leaves out the default port of the scheme', () => {
    expect(formatAuthority('a.test', 443, 'https')).toBe('a.test');
    expect(formatAuthority('a.test', 443, 'http')).toBe('a.test:443');
    expect(formatAuthority('a.test', undefined, 'http')).toBe('a.test');
  });
});

describe('resolvePushOptions', () => {
  it('applies the documented defaults', () => {
    expect(resolvePushOptions()).toEqual({
      maxPushesPerRequest: 16,
      maxConcurrentPushesPerConnection: 32,
      connectionPushBudget: undefined,
      pushTimeoutMs: 30000,
      inheritHeaders: ['cookie', 'authorization', 'user-agent', 'accept-language', 'accept-encoding'],
      authorities: [],
      fallback: { earlyHints: true, linkHeader: true, nopush: false },
      diarySize: 256,
      pushLinkHeaders: false,
      requestContext: undefined,
      digestCookie: undefined,
      onPush: undefined,
      learnedHints: undefined,
      logEvents: false,
    });
    expect(resolvePushOptions({ learnedHints: true }).learnedHints).toEqual({ maxPaths: 1000, maxLinksPerPath: 16, maxBytes: 262144, navigationsOnly: true });
    expect(resolvePushOptions({ learnedHints: { maxPaths: 10, navigationsOnly: false } }).learnedHints).toEqual({
      maxPaths: 10, maxLinksPerPath: 16, maxBytes: 262144, navigationsOnly: false,
    });
    expect(resolvePushOptions({ connectionPushBudget: { perSecond: 5 } }).connectionPushBudget).toEqual({ burst: 500, perSecond: 5 });
    expect(resolvePushOptions({ connectionPushBudget: false }).connectionPushBudget).toBe(false);
    expect(resolvePushOptions({ digestCookie: true }).digestCookie).toEqual({ name: 'h2push', maxAge: 604800, bits: 512 });
    expect(resolvePushOptions({ authorities: ['cdn.test', 'a.test:8443'] }).authorities).toEqual([
      { host: 'cdn.test', port: undefined },
      { host: 'a.test', port: 8443 },
    ]);
  });

  it.each([
    [{ maxPushesPerRequest: -1 }, /maxPushesPerRequest/],
    [{ maxPushesPerRequest: 1.5 }, /maxPushesPerRequest/],
    [{ inheritHeaders: ['if-none-match'] }, /conditional, range and body/],
    [{ inheritHeaders: ['range'] }, /conditional, range and body/],
    [{ inheritHeaders: ['content-type'] }, /conditional, range and body/],
    [{ inheritHeaders: ['Cookie'] }, /lowercase/],
    [{ inheritHeaders: ['connection'] }, /connection-specific/],
    [{ inheritHeaders: [':authority'] }, /pseudo/],
    [{ authorities: ['a b'] }, /"authorities"/],
    [{ authorities: ['a.test:0'] }, /"authorities"/],
    [{ diarySize: -1 }, /"diarySize"/],
    [{ pushTimeoutMs: -5 }, /"pushTimeoutMs"/],
    [{ requestContext: 'yes' }, /"requestContext"/],
    [{ maxConcurrentPushesPerConnection: 0.5 }, /"maxConcurrentPushesPerConnection"/],
    [{ onPush: 'log' }, /"onPush"/],
    [{ logEvents: 'verbose' }, /"logEvents"/],
    [{ connectionPushBudget: true }, /"connectionPushBudget"/],
    [{ connectionPushBudget: { burst: 0 } }, /"connectionPushBudget.burst"/],
    [{ connectionPushBudget: { perSecond: -1 } }, /"connectionPushBudget.perSecond"/],
    [{ connectionPushBudget: { perSecond: Infinity } }, /"connectionPushBudget.perSecond"/],
    [{ connectionPushBudget: { rate: 5 } }, /"connectionPushBudget.rate"/],
    [{ fallback: true }, /"fallback"/],
    [{ digestCookie: 'yes' }, /"digestCookie"/],
    [{ digestCookie: { bits: 100 } }, /"digestCookie.bits"/],
    [{ digestCookie: { name: 'a b' } }, /"digestCookie.name"/],
    [{ digestCookie: { name: 5 } }, /"digestCookie.name" 5 is not a valid cookie name/],
    [{ digestCookie: { maxAge: 0 } }, /"digestCookie.maxAge"/],
    [{ fallback: { earlyhints: false } }, /"fallback.earlyhints"/],
    [{ learnedHints: 'yes' }, /"learnedHints" must be a boolean/],
    [{ learnedHints: { maxPath: 10 } }, /"learnedHints.maxPath" is not known/],
    [{ learnedHints: { maxBytes: 0 } }, /"learnedHints.maxBytes" must be an integer >= 1/],
    [{ learnedHints: { maxLinksPerPath: 2.5 } }, /"learnedHints.maxLinksPerPath"/],
    [{ learnedHints: { navigationsOnly: 'no' } }, /"learnedHints.navigationsOnly" must be a boolean/],
    [{ learnedHints: true, fallback: false }, /needs fallback.earlyHints/],
    [{ learnedHints: true, fallback: { earlyHints: false } }, /needs fallback.earlyHints/],
  ])('rejects %j at start-up', (options, message) => {
    rejects(() => resolvePushOptions(options as never), 'ERR_PUSH_INVALID_MODULE_OPTION', message);
  });
});

describe('limits, at the value and one past it', () => {
  it('takes a path, query string and header value of 8192 characters, not 8193', () => {
    const long = (length: number) => `/${'a'.repeat(length - 1)}`;
    expect(normalizePush(long(8192)).path).toHaveLength(8192);
    rejects(() => normalizePush(long(8193)), 'ERR_PUSH_INVALID_PATH', /8193 characters long; the limit is 8192\.$/);
    expect(normalizePush('/x', {}, { qs: 'q'.repeat(8192) }).qs).toHaveLength(8192);
    rejects(() => normalizePush('/x', {}, { qs: 'q'.repeat(8193) }), 'ERR_PUSH_INVALID_QS', /at most 8192 characters\.$/);
    expect(normalizePush('/x', { 'x-v': 'v'.repeat(8192) }).headers['x-v']).toHaveLength(8192);
    rejects(() => normalizePush('/x', { 'x-v': 'v'.repeat(8193) }), 'ERR_PUSH_INVALID_HEADER', /at most 8192 characters\.$/);
  });

  it('takes ports 1 and 65535, host names of 1 and 253 characters, IPv6 literals of 2 to 45 characters', () => {
    expect(normalizePush('/x', {}, { port: 1 }).port).toBe(1);
    expect(normalizePush('/x', {}, { port: 65535 }).port).toBe(65535);
    expect(normalizePush('/x', {}, { host: 'A' }).host).toBe('a');
    const label = (c: string) => c.repeat(63);
    const host253 = [label('a'), label('b'), label('c'), 'd'.repeat(61)].join('.');
    expect(host253).toHaveLength(253);
    expect(normalizePush('/x', {}, { host: host253 }).host).toBe(host253);
    rejects(() => normalizePush('/x', {}, { host: `${host253}e` }), 'ERR_PUSH_INVALID_OPTION', /"host"/);
    rejects(() => normalizePush('/x', {}, { host: '-a' }), 'ERR_PUSH_INVALID_OPTION', /"host"/);
    rejects(() => normalizePush('/x', {}, { host: 'a.' }), 'ERR_PUSH_INVALID_OPTION', /"host"/);
    expect(normalizePush('/x', {}, { host: '::' }).host).toBe('[::]');
    const v6 = `${'1234:'.repeat(7)}1.2.3.4ab`; // 44 characters: hex, ':' and '.' only
    expect(normalizePush('/x', {}, { host: `${v6}c` }).host).toBe(`[${v6}c]`);
    rejects(() => normalizePush('/x', {}, { host: `${v6}cd` }), 'ERR_PUSH_INVALID_OPTION', /"host"/);
    rejects(() => normalizePush('/x', {}, { host: ':' }), 'ERR_PUSH_INVALID_OPTION', /"host"/);
    rejects(() => normalizePush('/x', {}, { host: '[::1]x' }), 'ERR_PUSH_INVALID_OPTION', /"host"/);
    rejects(() => normalizePush('/x', {}, { host: 'x[::1]' }), 'ERR_PUSH_INVALID_OPTION', /"host"/);
    rejects(() => normalizePush('/x', {}, { host: '[::g]' }), 'ERR_PUSH_INVALID_OPTION', /"host"/);
  });

  it('takes a preload type of 64/64 characters, not 65, and only lowercase MIME types', () => {
    const type = `${'a'.repeat(64)}/${'b'.repeat(64)}`;
    expect(normalizeResource({ path: '/x', type }).link).toBe(`</x>; rel=preload; as=fetch; type="${type}"; crossorigin`);
    rejects(() => normalizeResource({ path: '/x', type: `${type}b` }), 'ERR_PUSH_INVALID_OPTION', /"type"/);
    rejects(() => normalizeResource({ path: '/x', type: `a${type}` }), 'ERR_PUSH_INVALID_OPTION', /"type"/);
    rejects(() => normalizeResource({ path: '/x', type: 'Font/woff2' }), 'ERR_PUSH_INVALID_OPTION', /"type"/);
    rejects(() => normalizeResource({ path: '/x', type: 'font/woff2 ' }), 'ERR_PUSH_INVALID_OPTION', /"type"/);
    rejects(() => normalizeResource({ path: '/x', type: ' font/woff2' }), 'ERR_PUSH_INVALID_OPTION', /"type"/);
    rejects(() => normalizeResource({ path: '/x', type: '/woff2' }), 'ERR_PUSH_INVALID_OPTION', /"type"/);
    rejects(() => normalizeResource({ path: '/x', type: 'font/' }), 'ERR_PUSH_INVALID_OPTION', /"type"/);
  });

  it('accepts the smallest and largest module option values and rejects one past them', () => {
    const resolved = resolvePushOptions({
      maxPushesPerRequest: 0,
      maxConcurrentPushesPerConnection: 0,
      pushTimeoutMs: 2 ** 31 - 1,
      diarySize: 0,
      digestCookie: { maxAge: 1, bits: 64 },
      learnedHints: { maxPaths: 1, maxLinksPerPath: 1, maxBytes: 1 },
      connectionPushBudget: { burst: 1, perSecond: 0 },
      authorities: ['a.test:1', 'b.test:65535'],
    });
    expect(resolved).toMatchObject({
      maxPushesPerRequest: 0,
      maxConcurrentPushesPerConnection: 0,
      pushTimeoutMs: 2 ** 31 - 1,
      diarySize: 0,
      digestCookie: { name: 'h2push', maxAge: 1, bits: 64 },
      learnedHints: { maxPaths: 1, maxLinksPerPath: 1, maxBytes: 1, navigationsOnly: true },
      connectionPushBudget: { burst: 1, perSecond: 0 },
      authorities: [{ host: 'a.test', port: 1 }, { host: 'b.test', port: 65535 }],
    });
    expect(resolvePushOptions({ pushTimeoutMs: 0, digestCookie: { bits: 4096 } })).toMatchObject({ pushTimeoutMs: 0, digestCookie: { bits: 4096 } });
    for (const [options, name] of [
      [{ pushTimeoutMs: 2 ** 31 }, /"pushTimeoutMs"/],
      [{ maxConcurrentPushesPerConnection: -1 }, /"maxConcurrentPushesPerConnection"/],
      [{ digestCookie: { bits: 56 } }, /"digestCookie.bits"/],
      [{ digestCookie: { bits: 4104 } }, /"digestCookie.bits"/],
      [{ digestCookie: { bits: 65 } }, /"digestCookie.bits"/],
      [{ digestCookie: { maxAge: 1.5 } }, /"digestCookie.maxAge"/],
      [{ learnedHints: { maxPaths: 0 } }, /"learnedHints.maxPaths" must be an integer >= 1, got 0\.$/],
      [{ connectionPushBudget: { burst: 1.5 } }, /"connectionPushBudget.burst" must be an integer >= 1, got 1.5\.$/],
      [{ connectionPushBudget: { perSecond: '5' } }, /"connectionPushBudget.perSecond" must be a number >= 0, got "5"\.$/],
      [{ authorities: ['a.test:65536'] }, /"authorities" has "a.test:65536"/],
      [{ authorities: ['a.test:123456'] }, /"authorities" has "a.test:123456"/],
    ] as [PushModuleOptions, RegExp][]) {
      rejects(() => resolvePushOptions(options), 'ERR_PUSH_INVALID_MODULE_OPTION', name);
    }
    expect(message(() => resolvePushOptions({ diarySize: 1.5 }))).toBe('PushModule option "diarySize" must be an integer >= 0, got 1.5.');
  });
});

describe('error messages', () => {
  it('quote the value given, escaped onto one line, and say how to fix it', () => {
    expect(message(() => normalizePush('/a b'))).toBe('Invalid push path "/a b": percent-encode spaces, control and non-ASCII characters.');
    expect(message(() => normalizePush('a'))).toBe('Invalid push path "a": it must be absolute: start with a single "/".');
    expect(message(() => normalizePush('/a\u2028\u0085\u007f'))).toBe(
      'Invalid push path "/a\\u2028\\u0085\\u007f": percent-encode spaces, control and non-ASCII characters.',
    );
    expect(message(() => normalizePush('/x', {}, { method: 'POST' as never }))).toMatch(/^Cannot push with method "POST": /);
    expect(message(() => normalizePush('/x', {}, { port: 0 }))).toBe('Invalid push option "port" 0: give an integer from 1 to 65535.');
    expect(message(() => normalizePush('/x', { accept: 7 as never }))).toBe('Push header "accept" must be a string or an array of strings, got 7.');
    expect(message(() => normalizePush('/x', { 'user-agent': ['a', 'b'] }))).toBe('Push header "user-agent" takes a single value, got 2.');
    expect(message(() => normalizePush('/x', { accept: [] }))).toBe('Push header "accept" has no value: leave it out instead.');
    expect(message(() => normalizePush('/x', {}, { hostname: 'a' } as never))).toBe(
      'Unknown push option "hostname": allowed are method, scheme, host, port, qs.',
    );
  });

  it('describe non-strings by kind, and cut long values', () => {
    expect(message(() => normalizePush(null as never))).toBe('Push path must be a string, got null.');
    expect(message(() => normalizePush(true as never))).toBe('Push path must be a string, got true.');
    expect(message(() => normalizePush(undefined as never))).toBe('Push path must be a string, got undefined.');
    expect(message(() => normalizePush(10n as never))).toBe('Push path must be a string, got 10.');
    expect(message(() => normalizePush(Symbol('s') as never))).toBe('Push path must be a string, got Symbol(s).');
    expect(message(() => normalizePush((() => '/x') as never))).toBe('Push path must be a string, got a function.');
    expect(message(() => normalizePush(['/a', '/b'] as never))).toBe('Push path must be a string, got an array of 2 items.');
    expect(message(() => normalizePush({ path: '/x' } as never))).toBe('Push path must be a string, got an object.');
    // A value is quoted up to 100 characters, and the quote cut at 80 (77 and "...").
    const quoted = message(() => normalizePush(`/${' '.repeat(200)}`)).match(/^Invalid push path (.*): percent-encode/)![1];
    expect(quoted).toBe(`"/${' '.repeat(75)}...`);
    expect(message(() => normalizePush('/x', {}, { method: 'x'.repeat(78) as never }))).toContain(`"${'x'.repeat(78)}":`);
    expect(message(() => normalizePush('/x', {}, { method: 'x'.repeat(79) as never }))).toContain(`"${'x'.repeat(76)}...:`);
  });
});

describe('what is accepted, and how it comes out', () => {
  it('every preload "as" value and crossorigin form of a @Push resource, in its link', () => {
    for (const as of ['style', 'script', 'font', 'image', 'fetch', 'document', 'audio', 'video', 'track', 'worker']) {
      expect(normalizeResource({ path: '/x', as: as as never }).link).toMatch(new RegExp(`^</x>; rel=preload; as=${as}(;|$)`));
    }
    rejects(() => normalizeResource({ path: '/x', as: 'stylesheet' as never }), 'ERR_PUSH_INVALID_OPTION', /preload "as" "stylesheet": use one of style, script, font/);
    expect(normalizeResource({ path: '/x', as: 'style', crossorigin: true }).link).toBe('</x>; rel=preload; as=style; crossorigin');
    expect(normalizeResource({ path: '/x', as: 'style', crossorigin: 'anonymous' }).link).toBe('</x>; rel=preload; as=style; crossorigin');
    expect(normalizeResource({ path: '/x', as: 'style', crossorigin: 'use-credentials' }).link).toBe('</x>; rel=preload; as=style; crossorigin=use-credentials');
    rejects(() => normalizeResource({ path: '/x', crossorigin: 'yes' as never }), 'ERR_PUSH_INVALID_OPTION', /"crossorigin" "yes"/);
    expect(normalizeResource({ path: '/x', version: 'abc 123' }).version).toBe('abc 123');
    rejects(() => normalizeResource({ path: '/x', version: 'abc ' }), 'ERR_PUSH_INVALID_OPTION', /"version" "abc "/);
    rejects(() => normalizeResource({ path: '/x', version: 1 as never }), 'ERR_PUSH_INVALID_OPTION', /"version" 1/);
  });

  it('HEAD pushes and pushes to another authority get no relative link; the latter a preload for the full URL', () => {
    expect(normalizePush('/x.css', {}, { method: 'HEAD' })).toMatchObject({ link: undefined, preload: undefined });
    expect(normalizePush('/x.css', {}, { host: 'cdn.test' })).toMatchObject({ link: undefined, preload: '; rel=preload; as=style' });
    expect(normalizePush('/x.css', {}, { port: 8443 })).toMatchObject({ link: undefined, preload: '; rel=preload; as=style' });
    expect(normalizePush('/x.css', {}, { scheme: 'https' })).toMatchObject({ link: undefined, preload: '; rel=preload; as=style' });
    expect(normalizePush('/x', { accept: 'text/css' })).toMatchObject({ link: '</x>; rel=preload; as=style', preload: undefined });
    expect(normalizePush('/x', { accept: ['text/css'] }).link).toBe('</x>; rel=preload; as=fetch; crossorigin');
  });

  it('the module options as given, each kind of value', () => {
    const onPush = () => undefined;
    expect(resolvePushOptions({
      requestContext: true, onPush, logEvents: true, pushLinkHeaders: true, learnedHints: false, digestCookie: false,
      inheritHeaders: ['accept', 'x-tenant'], fallback: { earlyHints: false, linkHeader: false, nopush: true },
    })).toMatchObject({
      requestContext: true, onPush, logEvents: true, pushLinkHeaders: true, learnedHints: undefined, digestCookie: undefined,
      inheritHeaders: ['accept', 'x-tenant'], fallback: { earlyHints: false, linkHeader: false, nopush: true },
    });
    expect(resolvePushOptions({ requestContext: false, logEvents: false, pushLinkHeaders: 'yes' as never })).toMatchObject({
      requestContext: false, logEvents: false, pushLinkHeaders: false,
    });
    expect(resolvePushOptions({ fallback: false }).fallback).toEqual({ earlyHints: false, linkHeader: false, nopush: false });
    expect(resolvePushOptions({ fallback: { nopush: true } }).fallback).toEqual({ earlyHints: true, linkHeader: true, nopush: true });
    expect(resolvePushOptions({ digestCookie: { name: 'Seen' } }).digestCookie).toEqual({ name: 'Seen', maxAge: 604800, bits: 512 });
    expect(resolvePushOptions({ inheritHeaders: [] }).inheritHeaders).toEqual([]);
  });

  it('rejects every conditional and range header, non-strings and a non-array in inheritHeaders', () => {
    for (const name of ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range', 'range']) {
      rejects(() => resolvePushOptions({ inheritHeaders: [name] }), 'ERR_PUSH_INVALID_MODULE_OPTION', new RegExp(`"${name}": conditional, range and body headers`));
    }
    rejects(() => resolvePushOptions({ inheritHeaders: [5 as never] }), 'ERR_PUSH_INVALID_MODULE_OPTION', /cannot contain 5: it is not a string\.$/);
    rejects(() => resolvePushOptions({ inheritHeaders: 'cookie' as never }), 'ERR_PUSH_INVALID_MODULE_OPTION', /"inheritHeaders" must be an array/);
    rejects(() => resolvePushOptions({ inheritHeaders: ['host'] }), 'ERR_PUSH_INVALID_MODULE_OPTION', /cannot contain "host": the authority comes/);
    rejects(() => resolvePushOptions({ fallback: { nopush: 'yes' as never } }), 'ERR_PUSH_INVALID_MODULE_OPTION', /"fallback.nopush" is not a known boolean/);
    rejects(() => resolvePushOptions({ authorities: [5 as never] }), 'ERR_PUSH_INVALID_MODULE_OPTION', /"authorities" has 5: give "host" or "host:port"\.$/);
  });

  it('authorities: an empty one is none; the default port of each scheme is left out', () => {
    expect(parseAuthority('')).toBeUndefined();
    expect(parseAuthority('a.test:')).toBeUndefined();
    expect(parseAuthority('a.test:1')).toEqual({ host: 'a.test', port: 1 });
    expect(parseAuthority('a.test:65535')).toEqual({ host: 'a.test', port: 65535 });
    expect(parseAuthority('a.test:65536')).toBeUndefined();
    expect(parseAuthority('[::1]')).toEqual({ host: '[::1]', port: undefined });
    expect(parseAuthority('a:b:1')).toBeUndefined();
    expect(formatAuthority('a.test', 80, 'http')).toBe('a.test');
    expect(formatAuthority('a.test', 80, 'https')).toBe('a.test:80');
    expect(formatAuthority('a.test', 8080, 'http')).toBe('a.test:8080');
  });
});
