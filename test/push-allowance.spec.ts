import {
  DEFAULT_CONNECTION_PUSH_BUDGET,
  PushAllowance,
  UNWANTED_CANCELLATIONS,
  UNWANTED_PROBE_EVERY,
  UNWANTED_WINDOW,
  type PushAllowanceVerdict,
} from '../src/connection/push-allowance';

/** Asks `count` times at `now`; returns how often each verdict came. */
function takeMany(allowance: PushAllowance, count: number, now = 0): Record<PushAllowanceVerdict, number> {
  const verdicts = { allowed: 0, budget: 0, unwanted: 0 };
  for (let i = 0; i < count; i++) verdicts[allowance.take(now)]++;
  return verdicts;
}

describe('PushAllowance: the budget', () => {
  it('allows a burst at once, then refuses until time refills it', () => {
    const allowance = new PushAllowance({ burst: 5, perSecond: 2 }, 0);
    expect(takeMany(allowance, 7, 0)).toEqual({ allowed: 5, budget: 2, unwanted: 0 });
    expect(allowance.take(499)).toBe('budget'); // 0.998 of a push refilled
    expect(allowance.take(500)).toBe('allowed'); // one whole push after half a second at 2 per second
    expect(allowance.take(500)).toBe('budget');
  });

  it('refills at perSecond up to the burst, never beyond', () => {
    const allowance = new PushAllowance({ burst: 5, perSecond: 2 }, 0);
    takeMany(allowance, 5, 0);
    expect(takeMany(allowance, 10, 60_000)).toEqual({ allowed: 5, budget: 5, unwanted: 0 });
  });

  it('with a default budget and a client resetting every push, allowed pushes stay under the transport bucket (1000 + 33/s)', () => {
    const allowance = new PushAllowance(DEFAULT_CONNECTION_PUSH_BUDGET, 0);
    let allowed = 0;
    let firstTooMany: number | undefined; // one expect at the end: 120,000 of them would take seconds
    for (let ms = 0; ms <= 600_000; ms += 5) {
      if (allowance.take(ms) === 'allowed') allowed++;
      // nghttp2 refills whole seconds only: what it allows by the end of second s is 1000 + 33 s.
      if (allowed > 1000 + 33 * Math.floor(ms / 1000) - 400) firstTooMany ??= ms;
    }
    expect(firstTooMany).toBeUndefined();
    expect(allowed).toBeGreaterThan(12_000); // 500 + 20/s for 600 s
  });

  it('false: no budget', () => {
    const allowance = new PushAllowance(false, 0);
    expect(takeMany(allowance, 10_000)).toEqual({ allowed: 10_000, budget: 0, unwanted: 0 });
  });
});

describe('PushAllowance: unwanted', () => {
  it(`a connection becomes unwanted once the client cancelled ${UNWANTED_CANCELLATIONS} of the last ${UNWANTED_WINDOW} pushes`, () => {
    const allowance = new PushAllowance(false, 0);
    for (let i = 0; i < UNWANTED_CANCELLATIONS - 1; i++) allowance.ended(true);
    expect(allowance.take(0)).toBe('allowed');
    allowance.ended(true);
    expect(allowance.unwanted).toBe(true);
    expect(allowance.take(0)).toBe('unwanted');
  });

  it('a client that cancels one push in ten is never unwanted', () => {
    const allowance = new PushAllowance(false, 0);
    for (let i = 1; i <= 10_000; i++) {
      expect(allowance.take(0)).toBe('allowed');
      allowance.ended(i % 10 === 0);
    }
  });

  it('a client that cancels every other push is unwanted; old cancellations leave the window', () => {
    const allowance = new PushAllowance(false, 0);
    for (let i = 0; i < UNWANTED_WINDOW; i++) allowance.ended(i % 2 === 0);
    expect(allowance.unwanted).toBe(true);
    allowance.ended(false); // the oldest ending (a cancellation) leaves the window
    expect(allowance.unwanted).toBe(false);
  });

  it(`while unwanted, one attempt in ${UNWANTED_PROBE_EVERY} is allowed, and accepted pushes bring the connection back`, () => {
    const allowance = new PushAllowance(false, 0);
    for (let i = 0; i < UNWANTED_WINDOW; i++) allowance.ended(true);
    expect(takeMany(allowance, UNWANTED_PROBE_EVERY * 3)).toEqual({ allowed: 3, budget: 0, unwanted: UNWANTED_PROBE_EVERY * 3 - 3 });
    // The client now keeps what it is pushed: each probe completes.
    let probes = 0;
    while (allowance.unwanted) {
      if (allowance.take(0) === 'allowed') {
        probes++;
        allowance.ended(false);
      }
    }
    expect(probes).toBe(UNWANTED_WINDOW - UNWANTED_CANCELLATIONS + 1);
    expect(takeMany(allowance, 100)).toEqual({ allowed: 100, budget: 0, unwanted: 0 });
  });

  it(`a connection unwanted again starts a new round of probes: its first ${UNWANTED_PROBE_EVERY - 1} attempts are refused`, () => {
    const allowance = new PushAllowance(false, 0);
    for (let i = 0; i < UNWANTED_CANCELLATIONS; i++) allowance.ended(true);
    expect(takeMany(allowance, 10)).toEqual({ allowed: 0, budget: 0, unwanted: 10 });
    // Pushes promised before end well: the oldest cancellation leaves the window, 7 are left.
    for (let i = 0; i <= UNWANTED_WINDOW - UNWANTED_CANCELLATIONS; i++) allowance.ended(false);
    expect(allowance.unwanted).toBe(false);
    for (let i = 0; i < UNWANTED_WINDOW; i++) allowance.ended(true);
    expect(takeMany(allowance, UNWANTED_PROBE_EVERY - 1)).toEqual({ allowed: 0, budget: 0, unwanted: UNWANTED_PROBE_EVERY - 1 });
    expect(allowance.take(0)).toBe('allowed');
  });

  it('a push ending while the connection is unwanted does not restart the count to the next probe', () => {
    const allowance = new PushAllowance(false, 0);
    for (let i = 0; i < UNWANTED_WINDOW; i++) allowance.ended(true);
    expect(takeMany(allowance, 20)).toEqual({ allowed: 0, budget: 0, unwanted: 20 });
    allowance.ended(true);
    expect(takeMany(allowance, UNWANTED_PROBE_EVERY - 20)).toEqual({ allowed: 1, budget: 0, unwanted: UNWANTED_PROBE_EVERY - 21 });
  });

  it('an unwanted connection spends no budget; its probes do', () => {
    const allowance = new PushAllowance({ burst: 2, perSecond: 0 }, 0);
    for (let i = 0; i < UNWANTED_WINDOW; i++) allowance.ended(true);
    expect(takeMany(allowance, UNWANTED_PROBE_EVERY * 4)).toEqual({ allowed: 2, budget: 2, unwanted: UNWANTED_PROBE_EVERY * 4 - 4 });
  });
});
