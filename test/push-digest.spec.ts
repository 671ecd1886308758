import { PushDigest, readCookie } from '../src/cache/push-digest';

describe('PushDigest', () => {
  it('remembers what was added, across a round trip through its cookie value', () => {
    const digest = PushDigest.empty(512);
    expect(digest.dirty).toBe(false);
    digest.add('GET /a.css ');
    expect(digest.dirty).toBe(true);
    const parsed = PushDigest.parse(digest.toString(), 512);
    expect(parsed.has('GET /a.css ')).toBe(true);
    expect(parsed.has('GET /b.css ')).toBe(false);
    expect(parsed.dirty).toBe(false);
    expect(digest.toString()).toMatch(/^[A-Za-z0-9_-]{86}$/);
  });

  it('keeps false positives rare at the default size', () => {
    const digest = PushDigest.empty(512);
    for (let i = 0; i < 20; i++) digest.add(`GET /asset-${i}.js `);
    const falsePositives = Array.from({ length: 1000 }, (_, i) => digest.has(`GET /other-${i}.js `)).filter(Boolean).length;
    expect(falsePositives).toBeLessThan(20);
  });

  it.each([
    [undefined],
    [''],
    ['garbage'],
    ['A'.repeat(85)],
    ['A'.repeat(86) + '='],
    ['!'.repeat(86)],
    ['A'.repeat(10_000)],
    ['%00%0d%0a'],
    // Node's base64url decoder also takes the base64 alphabet: the check must cover the first and last character.
    ['/' + 'A'.repeat(85)],
    ['A'.repeat(85) + '+'],
  ])('reads a corrupt or hostile value %j as empty', (value) => {
    const digest = PushDigest.parse(value, 512);
    expect(digest.has('GET /a.css ')).toBe(false);
    expect(digest.toString()).toBe('A'.repeat(86));
  });
});

describe('readCookie', () => {
  it('finds a cookie among others and tolerates junk', () => {
    expect(readCookie('a=1; h2push=xyz; b=2', 'h2push')).toBe('xyz');
    expect(readCookie(['a=1', 'h2push=q'], 'h2push')).toBe('q');
    expect(readCookie('h2pushx=1; =; ;;', 'h2push')).toBeUndefined();
    expect(readCookie(undefined, 'h2push')).toBeUndefined();
    // A pair without "=" is no cookie, even if the name is a prefix of it; whitespace around the value goes.
    expect(readCookie('h2pushx; h2push = xyz ; a=1', 'h2push')).toBe('xyz');
  });
});
