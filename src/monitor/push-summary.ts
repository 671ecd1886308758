import { PushContext } from '../context/push-context';

/** What the module did for one response: for logs such as `pushed 2, hinted 0, cancelled 0`. */
export interface PushSummary {
  /** Resources promised (PUSH_PROMISE sent). */
  pushed: number;
  /** Resources sent as preload hints instead (103 Early Hints / `Link`). */
  hinted: number;
  /** Pushes the client cancelled so far (pushes still in flight may be cancelled later). */
  cancelled: number;
}

/**
 * The push summary of a request the module saw (Fastify's request, e.g. in an `onResponse` hook; Express's
 * request, e.g. on the response's `finish`); else undefined.
 */
export function pushSummary(request: object): PushSummary | undefined {
  const context = PushContext.peek(request);
  if (!context) return undefined;
  return { pushed: context.promisedCount, hinted: context.hintLinks?.length ?? 0, cancelled: context.counts.cancelled };
}
