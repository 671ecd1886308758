import type { PushOutcome } from '../push/push-outcome';

/** Why a push was not promised: every outcome but `promised` and `failed`. */
export type PushRefusal = Exclude<PushOutcome, 'promised' | 'failed'>;

interface PushEventBase {
  /** Path and query string of the pushed resource. */
  readonly path: string;
}

/**
 * The life of one push: `promised`, then exactly one of `completed` / `cancelled` / `failed`; or a single
 * `refused` (or `failed`) when it was never promised.
 */
export type PushEvent =
  | (PushEventBase & { readonly type: 'promised'; readonly authority: string })
  | (PushEventBase & { readonly type: 'completed'; readonly status: number; readonly bytes: number; readonly durationMs: number })
  /** The client reset the pushed stream (RST_STREAM code) or the connection went away before the end. */
  | (PushEventBase & { readonly type: 'cancelled'; readonly code: number })
  | (PushEventBase & { readonly type: 'refused'; readonly reason: PushRefusal })
  | (PushEventBase & { readonly type: 'failed'; readonly error: string });

/** Counters since start-up, for dashboards (see the README's prom-client example). */
export interface PushStats {
  promised: number;
  completed: number;
  cancelled: number;
  failed: number;
  refused: Record<PushRefusal, number>;
  /** Resources sent as preload hints (103 Early Hints / `Link`) instead of pushes. */
  hinted: number;
  /** Body bytes of completed pushes. */
  bytes: number;
}
