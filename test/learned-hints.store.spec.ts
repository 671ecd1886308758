import { LearnedHintsStore } from '../src/hints/learned/learned-hints.store';

const LIMITS = { maxPaths: 3, maxLinksPerPath: 4, maxBytes: 10_000 };
const link = (n: number) => `</static/${n}.css>; rel=preload; as=style`;

describe('LearnedHintsStore', () => {
  it('returns what was learned for a page, and nothing for a page it never learned', () => {
    const store = new LearnedHintsStore(LIMITS);
    store.learn('h/a', [link(1), link(2)]);
    expect(store.get('h/a')).toEqual([link(1), link(2)]);
    expect(store.get('h/b')).toBeUndefined();
  });

  it('replaces a page\'s links by the latest response\'s: a link that disappeared is no longer returned', () => {
    const store = new LearnedHintsStore(LIMITS);
    store.learn('h/a', [link(1), link(2)]);
    store.learn('h/a', [link(2), link(3)]);
    expect(store.get('h/a')).toEqual([link(2), link(3)]);
    expect(store.size).toBe(1);
  });

  it('forgets a page whose latest response has no links', () => {
    const store = new LearnedHintsStore(LIMITS);
    store.learn('h/a', [link(1)]);
    expect(store.learn('h/a', [])).toEqual([]);
    expect(store.get('h/a')).toBeUndefined();
    expect(store.size).toBe(0);
    expect(store.bytes).toBe(0);
  });

  it('evicts the least recently used page beyond maxPaths; a lookup counts as a use', () => {
    const store = new LearnedHintsStore(LIMITS);
    store.learn('h/a', [link(1)]);
    store.learn('h/b', [link(2)]);
    store.learn('h/c', [link(3)]);
    expect(store.get('h/a')).toEqual([link(1)]); // a is now the most recently used; b the least
    store.learn('h/d', [link(4)]);
    expect(store.size).toBe(3);
    expect(store.get('h/b')).toBeUndefined();
    expect(store.get('h/a')).toEqual([link(1)]);
    expect(store.get('h/c')).toEqual([link(3)]);
    expect(store.get('h/d')).toEqual([link(4)]);
  });

  it('re-learning the same links refreshes the page without changing anything else', () => {
    const store = new LearnedHintsStore(LIMITS);
    store.learn('h/a', [link(1)]);
    store.learn('h/b', [link(2)]);
    const bytes = store.bytes;
    store.learn('h/a', [link(1)]);
    expect(store.bytes).toBe(bytes);
    store.learn('h/c', [link(3)]);
    store.learn('h/d', [link(4)]); // evicts b, not a
    expect(store.get('h/a')).toEqual([link(1)]);
    expect(store.get('h/b')).toBeUndefined();
  });

  it('keeps the first maxLinksPerPath distinct links of a response', () => {
    const store = new LearnedHintsStore(LIMITS);
    expect(store.learn('h/a', [link(1), link(1), link(2), link(3), link(4), link(5), link(6)])).toEqual([link(1), link(2), link(3), link(4)]);
  });

  it('counts the bytes of keys and links, exactly, through replacements, forgetting and eviction', () => {
    const store = new LearnedHintsStore(LIMITS);
    const size = (key: string, links: string[]) => key.length + links.reduce((sum, l) => sum + l.length, 0);
    store.learn('h/a', [link(1), link(22)]);
    store.learn('h/bb', [link(3)]);
    expect(store.bytes).toBe(size('h/a', [link(1), link(22)]) + size('h/bb', [link(3)]));
    store.learn('h/a', [link(333)]);
    expect(store.bytes).toBe(size('h/a', [link(333)]) + size('h/bb', [link(3)]));
    store.forget('h/bb');
    expect(store.bytes).toBe(size('h/a', [link(333)]));
    store.learn('h/c', [link(1)]);
    store.learn('h/d', [link(1)]);
    store.learn('h/e', [link(1)]); // evicts h/a
    expect(store.bytes).toBe(3 * size('h/c', [link(1)]));
  });

  it('evicts the least recently used pages until maxBytes holds, and never holds a page larger than maxBytes', () => {
    const one = 'h/a'.length + link(1).length;
    const store = new LearnedHintsStore({ maxPaths: 100, maxLinksPerPath: 10, maxBytes: 2 * one });
    store.learn('h/a', [link(1)]);
    store.learn('h/b', [link(1)]);
    expect(store.bytes).toBe(2 * one);
    store.learn('h/c', [link(1)]);
    expect(store.size).toBe(2);
    expect(store.get('h/a')).toBeUndefined();
    expect(store.bytes).toBeLessThanOrEqual(2 * one);
    // A response with more links than fit keeps the ones that fit; a key alone too large keeps nothing.
    expect(store.learn('h/d', [link(1), link(2), link(3)])).toEqual([link(1), link(2)]); // 3 + 2 × 38 bytes fit in 82, a third link would not
    expect(store.learn(`h/${'x'.repeat(3 * one)}`, [link(1)])).toEqual([]);
    expect(store.bytes).toBeLessThanOrEqual(2 * one);
  });

  it('a flood of distinct paths never holds more than maxPaths pages or maxBytes bytes, and keeps the latest', () => {
    const limits = { maxPaths: 100, maxLinksPerPath: 4, maxBytes: 4000 };
    const store = new LearnedHintsStore(limits);
    let peakSize = 0;
    let peakBytes = 0;
    for (let i = 0; i < 100_000; i++) {
      store.learn(`h/page/${i}`, [link(i), link(i + 1)]);
      peakSize = Math.max(peakSize, store.size);
      peakBytes = Math.max(peakBytes, store.bytes);
    }
    expect(peakSize).toBeLessThanOrEqual(limits.maxPaths);
    expect(peakBytes).toBeLessThanOrEqual(limits.maxBytes);
    expect(store.get('h/page/99999')).toEqual([link(99999), link(100000)]);
    expect(store.get('h/page/0')).toBeUndefined();
  });

  it('looks a page up in constant time, however many pages it holds', () => {
    // Counted, not timed: Map operations per lookup do not grow with the number of pages.
    const store = new LearnedHintsStore({ maxPaths: 50_000, maxLinksPerPath: 1, maxBytes: 10_000_000 });
    for (let i = 0; i < 50_000; i++) store.learn(`h/${i}`, [link(i)]);
    const calls = { get: 0, delete: 0, set: 0, keys: 0 };
    const entries = (store as unknown as { entries: Map<string, unknown> }).entries;
    for (const name of Object.keys(calls) as (keyof typeof calls)[]) {
      const original = entries[name].bind(entries) as (...args: unknown[]) => unknown;
      (entries as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => (calls[name]++, original(...args));
    }
    store.get('h/0');
    store.get('h/49999');
    store.get('h/missing');
    expect(calls).toEqual({ get: 3, delete: 2, set: 2, keys: 0 });
  });
});
