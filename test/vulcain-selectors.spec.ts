import { findRelations, MAX_RELATIONS, trimFields } from '../src/vulcain/vulcain-document';
import { formatPointer, MAX_SELECTORS, parsePointer, parseStringList, requestSelectors, WILDCARD } from '../src/vulcain/vulcain-selectors';

const selectors = (...pointers: string[]) => pointers.map((p) => parsePointer(p)!);
const summary = (document: unknown, preload: string[], fields: string[] = []) =>
  [...findRelations(document, selectors(...preload), selectors(...fields)).values()].map((r) => [r.link, [...r.preload], [...r.fields]]);

describe('Vulcain selectors', () => {
  it('parses Structured Field string lists, skipping members that are not strings and their parameters', () => {
    expect(parseStringList('"/a", "/b/*"; rel=author, token, "unterminated')).toEqual(['/a', '/b/*']);
    expect(parseStringList('"with \\"quote\\" and \\\\"')).toEqual(['with "quote" and \\']);
    expect(parseStringList('"bad \\x escape", "/ok"')).toEqual(['/ok']);
    expect(parseStringList('')).toEqual([]);
  });

  it('parses extended JSON Pointers: * is a wildcard, ~2 a star, ~1 a slash, ~0 a tilde; malformed ones are undefined', () => {
    expect(parsePointer('/member/*/author')).toEqual(['member', WILDCARD, 'author']);
    expect(parsePointer('/a~1b/~2/~0')).toEqual(['a/b', '*', '~']);
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('member')).toBeUndefined();
    expect(parsePointer('/a~3')).toBeUndefined();
    expect(parsePointer('/a~')).toBeUndefined();
    expect(parsePointer(`/${Array(17).fill('a').join('/')}`)).toBeUndefined();
    for (const pointer of ['/member/*/author', '/a~1b/~2/~0', '']) expect(formatPointer(parsePointer(pointer)!)).toBe(pointer);
  });

  it('reads the header and the query parameters, once each, at most MAX_SELECTORS', () => {
    expect(requestSelectors('preload', '"/a", "/b"', 'preload=%22%2Fa%22&preload=/c&fields=/x')).toEqual([['a'], ['b'], ['c']]);
    expect(requestSelectors('fields', undefined, 'preload=/a&fields=/x')).toEqual([['x']]);
    const many = Array.from({ length: 100 }, (_, i) => `"/${i}"`).join(', ');
    expect(requestSelectors('preload', many, undefined)).toHaveLength(MAX_SELECTORS);
  });
});

describe('Vulcain documents', () => {
  // The Preload example of the Vulcain specification.
  it('follows links through resources: /member/*/author on /books leaves /author for each book', () => {
    expect(summary({ member: ['/books/1', '/books/2'] }, ['/member/*/author'])).toEqual([
      ['/books/1', ['/author'], []],
      ['/books/2', ['/author'], []],
    ]);
  });

  it('takes a string or the strings of an array at the end of a selector; names each link once', () => {
    const document = { author: '/authors/1', tags: ['/tags/1', 2, '/tags/2'], again: '/authors/1', n: 3, o: { x: 1 } };
    expect(summary(document, ['/author', '/tags', '/again', '/n', '/o', '/missing'])).toEqual([
      ['/authors/1', [], []],
      ['/tags/1', [], []],
      ['/tags/2', [], []],
    ]);
    expect(summary({ a: { x: '/x', y: '/y' } }, ['/a/*'])).toEqual([
      ['/x', [], []],
      ['/y', [], []],
    ]);
  });

  it('gives each link the Fields selectors that go on through it', () => {
    expect(summary({ author: '/authors/1', genre: 'novel' }, ['/author'], ['/author/familyName', '/genre'])).toEqual([['/authors/1', [], ['/familyName']]]);
  });

  it('stops at MAX_RELATIONS links', () => {
    const document = { items: Array.from({ length: 500 }, (_, i) => `/i/${i}`) };
    expect(summary(document, ['/items'])).toHaveLength(MAX_RELATIONS);
  });

  // The Fields example of the Vulcain specification.
  it('trims a document to its selected fields; unknown fields are ignored; the handler object is unchanged', () => {
    const book = { title: '1984', genre: 'novel', author: '/authors/1' };
    expect(trimFields(book, selectors('/author/familyName', '/genre', '/nope'))).toEqual({ genre: 'novel', author: '/authors/1' });
    expect(book).toEqual({ title: '1984', genre: 'novel', author: '/authors/1' });
    expect(trimFields({ books: [{ a: 1, b: 2 }, { a: 3, b: 4 }] }, selectors('/books/*/a', '/books/1/b'))).toEqual({ books: [{ a: 1 }, { b: 4 }] });
    expect(trimFields({ when: new Date(0), x: 1 }, selectors('/when/year'))).toEqual({ when: new Date(0) });
    expect(trimFields({ a: 1 }, selectors(''))).toEqual({ a: 1 });
    expect(trimFields({ a: 1 }, [])).toEqual({ a: 1 });
  });

  // Ported from the Vulcain gateway's own tests (traverse_test.go): same documents, same selectors, same results.
  it.each([
    ['fields', ['/notexist', '/bar'], { foo: 'f', bar: 'b' }, { bar: 'b' }],
    ['fields key with dot', ['/a.b', '/c~1d'], { 'a.b': 'x', a: { b: 'y' }, 'c/d': 'z' }, { 'a.b': 'x', 'c/d': 'z' }],
    ['fields object wildcard', ['/links/*/href'], { links: { self: { href: '/a', title: 'A' }, author: { href: '/b' } }, x: 'y' }, { links: { self: { href: '/a' }, author: { href: '/b' } } }],
    ['fields exact match over wildcard', ['/m/*/a', '/m/b/c', '/m/~2/d'], { m: { b: { a: '1', c: '2' }, e: { a: '3', c: '4' }, '*': { a: '5', d: '6' } } }, { m: { b: { c: '2' }, e: { a: '3' }, '*': { d: '6' } } }],
    ['array index, single', ['/foo/2'], { foo: ['a', 'b', 'c', 'd'] }, { foo: [null, null, 'c'] }],
    ['array indices, multiple', ['/foo/3/id', '/foo/1/id'], { foo: [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }] }, { foo: [null, { id: 'b' }, null, { id: 'd' }] }],
    ['array indices, first', ['/foo/0', '/foo/2'], { foo: ['a', 'b', 'c', 'd'] }, { foo: ['a', null, 'c'] }],
    ['array index, missing', ['/foo/8'], { foo: ['a', 'b', 'c'] }, { foo: [] }],
  ])('Fields as the gateway: %s', (_name, pointers, document, expected) => {
    expect(trimFields(document, selectors(...(pointers as string[])))).toEqual(expected);
  });

  it.each([
    ['preload', ['/notexist', '/bar'], { foo: '/foo', bar: '/bar' }, [['/bar', [], []]]],
    ['preload array index', ['/foo/1/rel'], { foo: ['/a', '/b'] }, [['/b', ['/rel'], []]]],
    ['preload object wildcard', ['/links/*/href/rel'], { links: { self: { href: '/a' }, author: { href: '/b' } } }, [['/a', ['/rel'], []], ['/b', ['/rel'], []]]],
    ['preload rewrites', ['/foo/*/rel', '/bar/baz'], { foo: ['/a', '/b'], bar: '/bar' }, [['/a', ['/rel'], []], ['/b', ['/rel'], []], ['/bar', ['/baz'], []]]],
  ])('Preload as the gateway: %s (the gateway rewrites the links; the module pushes them with the rest)', (_name, pointers, document, expected) => {
    expect(summary(document, pointers as string[])).toEqual(expected);
  });

  it('Preload and Fields as the gateway: the kept fields, and the rest of both selectors for each link', () => {
    const document = { foo: ['/a', '/b'], bar: '/bar', baz: '/baz' };
    const fields = ['/foo/*', '/bar/baz', '/notexist'];
    expect(summary(document, ['/notexist', '/foo/*/rel', '/bar/baz', '/baz'], fields)).toEqual([
      ['/a', ['/rel'], []],
      ['/b', ['/rel'], []],
      ['/bar', ['/baz'], ['/baz']],
      ['/baz', [], []],
    ]);
    expect(trimFields(document, selectors(...fields))).toEqual({ foo: ['/a', '/b'], bar: '/bar' });
  });
});
