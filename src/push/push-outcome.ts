/** What became of one push at the moment it was asked for. */
export type PushOutcome =
  /** A PUSH_PROMISE was issued and the promised request dispatched. */
  | 'promised'
  /** The client's request came over HTTP/1.1, or the adapter cannot push (Express). */
  | 'http1'
  /** The client sent SETTINGS_ENABLE_PUSH=0, as every current browser does. */
  | 'disabled'
  /** `maxPushesPerRequest` or the client's SETTINGS_MAX_CONCURRENT_STREAMS was reached. */
  | 'limit'
  /** The same resource was already promised for this response. */
  | 'duplicate'
  /** The same resource was already pushed on this connection (see `diarySize`). */
  | 'cached'
  /** Asked from a pushed request, which cannot push (RFC 9113 §8.4). */
  | 'nested'
  /** The client already closed the stream or the connection. */
  | 'closed'
  /** The client cancelled half of the last 16 pushes on this connection (see PushAllowance). */
  | 'unwanted'
  /** The connection's push budget is spent (`connectionPushBudget`), so client resets stay under Node's reset limit. */
  | 'budget'
  /** Node's http2 refused the frame (e.g. GOAWAY in between). */
  | 'failed';

/** Outcomes for which a browser is still helped by a preload hint (103 Early Hints, `Link` header). */
export const HINTED_OUTCOMES: ReadonlySet<PushOutcome> = new Set<PushOutcome>(['http1', 'disabled', 'limit', 'unwanted', 'budget']);
