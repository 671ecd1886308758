import { mayLearnFrom, pageKey, wantsLearnedHints, type LearnableExchange } from '../src/hints/learned/learned-hints.rules';
import { earlyHintLinks } from '../src/hints/preload-link-parser';

const ok: LearnableExchange = { method: 'GET', cookie: undefined, authorization: undefined, status: 200, cacheControl: undefined };

describe('mayLearnFrom: the shared-cache rules', () => {
  it('learns from a GET 2xx without credentials or cache-control', () => {
    expect(mayLearnFrom(ok)).toBe(true);
    expect(mayLearnFrom({ ...ok, status: 203 })).toBe(true);
    expect(mayLearnFrom({ ...ok, cacheControl: 'max-age=60' })).toBe(true);
  });

  it.each([100, 199, 301, 304, 403, 404, 500])('learns nothing from a %i response', (status) => {
    expect(mayLearnFrom({ ...ok, status })).toBe(false);
  });

  it.each(['HEAD', 'POST'])('learns nothing from a %s request', (method) => {
    expect(mayLearnFrom({ ...ok, method })).toBe(false);
  });

  it.each(['private', 'no-store', 'max-age=60, Private', 'public, no-store', 'private="set-cookie"', ['max-age=1', 'no-store']])(
    'learns nothing from a response with cache-control %j',
    (cacheControl) => {
      expect(mayLearnFrom({ ...ok, cacheControl })).toBe(false);
    },
  );

  it.each([
    ['cookie', { cookie: 'session=1' }],
    ['authorization', { authorization: 'Bearer x' }],
    ['cookies in several fields', { cookie: ['a=1', 'b=2'] }],
  ])('learns nothing from a request with %s unless the response says public', (_name, credentials) => {
    expect(mayLearnFrom({ ...ok, ...credentials })).toBe(false);
    expect(mayLearnFrom({ ...ok, ...credentials, cacheControl: 'max-age=60' })).toBe(false);
    expect(mayLearnFrom({ ...ok, ...credentials, cacheControl: 'must-revalidate, s-maxage=60' })).toBe(false);
    expect(mayLearnFrom({ ...ok, ...credentials, cacheControl: 'Public, max-age=60' })).toBe(true);
    expect(mayLearnFrom({ ...ok, ...credentials, cacheControl: 'public, private' })).toBe(false);
  });

  it('an empty cookie header is not a credential', () => {
    expect(mayLearnFrom({ ...ok, cookie: '' })).toBe(true);
  });
});

describe('wantsLearnedHints: which requests get the learned 103', () => {
  it('navigations and requests that say nothing about their mode, by default', () => {
    expect(wantsLearnedHints('GET', 'navigate', true)).toBe(true);
    expect(wantsLearnedHints('GET', undefined, true)).toBe(true);
    expect(wantsLearnedHints('GET', 'cors', true)).toBe(false);
    expect(wantsLearnedHints('GET', 'no-cors', true)).toBe(false);
    expect(wantsLearnedHints('GET', 'same-origin', true)).toBe(false);
  });

  it('any GET with navigationsOnly off; never another method', () => {
    expect(wantsLearnedHints('GET', 'cors', false)).toBe(true);
    expect(wantsLearnedHints('HEAD', undefined, false)).toBe(false);
    expect(wantsLearnedHints('POST', 'navigate', true)).toBe(false);
  });
});

describe('pageKey', () => {
  it('is the authority and the path, without the query', () => {
    expect(pageKey('example.test:8443', '/a/b?x=1&y=2')).toBe('example.test:8443/a/b');
    expect(pageKey('example.test', '/a/b')).toBe('example.test/a/b');
    expect(pageKey('example.test', '/?')).toBe('example.test/');
    expect(pageKey(undefined, '/a')).toBe('/a');
    expect(pageKey('a.test', '/x')).not.toBe(pageKey('b.test', '/x'));
  });
});

describe('earlyHintLinks (what an app\'s own Link header contributes)', () => {
  it('keeps preload and preconnect links as written, drops other relations and unsafe values', () => {
    expect(
      earlyHintLinks([
        '</a.css>; rel=preload; as=style, </b.js>; rel=preload; as=script; nopush, </c>; rel=prefetch',
        '<https://cdn.test>; rel=preconnect; crossorigin, </next>; rel=next, </d.woff2>; rel="preload"; as=font; crossorigin',
        '</e.js>; rel=preload; as=script\u0001',
        '</f.css>; rel="preload stylesheet"; as=style', // Node's writeEarlyHints() refuses a quoted value with a space
      ]),
    ).toEqual([
      '</a.css>; rel=preload; as=style',
      '</b.js>; rel=preload; as=script; nopush',
      '<https://cdn.test>; rel=preconnect; crossorigin',
      '</d.woff2>; rel="preload"; as=font; crossorigin',
    ]);
  });

  it('reads nothing from what is not a Link header', () => {
    expect(earlyHintLinks(undefined)).toEqual([]);
    expect(earlyHintLinks('garbage')).toEqual([]);
  });
});
