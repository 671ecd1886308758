/**
 * Whether one connection may get another push, so that a client resetting our pushes never costs it the
 * connection. Node's HTTP/2 (nghttp2) answers RST_STREAM frames received faster than a token bucket allows
 * (1,000 at once, 33 more each second, on Node 20, 22 and 24) with GOAWAY; it counts every reset the
 * client sends, also for a push that had already completed, which the module never hears of. Two rules:
 *
 * - a budget of pushes per connection (`connectionPushBudget`, a smaller bucket: 500 at once, 20 more each
 *   second), so that even a client resetting every push stays well under the transport's bucket;
 * - `unwanted`: once the client cancelled half of the last 16 pushes whose end the module saw, the
 *   connection gets no more pushes, but one attempt in 32, so a client that changes its mind gets pushes
 *   again. A client that cancels a push now and then is never affected.
 *
 * Pure arithmetic on numbers: no timers, no allocation per push.
 */

export interface PushBudget {
  /** Pushes a connection may get at once. */
  readonly burst: number;
  /** Pushes added back to the budget each second, up to `burst`. */
  readonly perSecond: number;
}

/** Half the transport's burst and 60 % of its refill (1,000 and 33 per second): room for the client's own resets. */
export const DEFAULT_CONNECTION_PUSH_BUDGET: PushBudget = Object.freeze({ burst: 500, perSecond: 20 });

/** How many of the last push endings the `unwanted` rule looks at (at most 32: one bit each). */
export const UNWANTED_WINDOW = 16;
/** Cancellations among them that make a connection `unwanted`. */
export const UNWANTED_CANCELLATIONS = 8;
/** While `unwanted`, one push attempt in this many is promised anyway, to notice a client that changed its mind. */
export const UNWANTED_PROBE_EVERY = 32;

export type PushAllowanceVerdict = 'allowed' | 'budget' | 'unwanted';

const WINDOW_MASK = 2 ** UNWANTED_WINDOW - 1;
const OLDEST_BIT = 2 ** (UNWANTED_WINDOW - 1);

export class PushAllowance {
  private tokens: number;
  private refilledAt: number;
  /** The last UNWANTED_WINDOW endings, newest in bit 0: 1 = cancelled by the client. */
  private history = 0;
  private cancellations = 0;
  private refusedAsUnwanted = 0;

  /** `budget` false: no budget, only the `unwanted` rule. `now` in milliseconds (`performance.now()`). */
  constructor(
    private readonly budget: PushBudget | false,
    now: number,
  ) {
    this.tokens = budget ? budget.burst : 0;
    this.refilledAt = now;
  }

  /** True while the client cancels too many of the pushes it is sent. */
  get unwanted(): boolean {
    return this.cancellations >= UNWANTED_CANCELLATIONS;
  }

  /** Asked just before a push is promised; an allowed push spends one unit of the budget. */
  take(now: number): PushAllowanceVerdict {
    if (this.unwanted && ++this.refusedAsUnwanted % UNWANTED_PROBE_EVERY !== 0) return 'unwanted';
    const budget = this.budget;
    if (budget) {
      this.tokens = Math.min(budget.burst, this.tokens + ((now - this.refilledAt) * budget.perSecond) / 1000);
      this.refilledAt = now;
      if (this.tokens < 1) return 'budget';
      this.tokens--;
    }
    return 'allowed';
  }

  /** How a promised push ended, when the module saw it: cancelled by the client (reset before it completed) or completed. */
  ended(cancelled: boolean): void {
    const dropped = this.history & OLDEST_BIT ? 1 : 0;
    const added = cancelled ? 1 : 0;
    this.history = ((this.history << 1) | added) & WINDOW_MASK;
    this.cancellations += added - dropped;
    if (!this.unwanted) this.refusedAsUnwanted = 0;
  }
}
