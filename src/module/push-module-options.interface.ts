import type { PushBudget } from '../connection/push-allowance';
import type { PushEvent } from '../monitor/push-event.interface';

export interface PushModuleOptions {
  /**
   * Most resources promised for one response; further pushes are skipped (a `refused` event).
   * Default 16.
   */
  maxPushesPerRequest?: number;
  /**
   * Most pushed streams open at once on one connection, whatever the client allows (its
   * SETTINGS_MAX_CONCURRENT_STREAMS is respected too); further pushes are skipped. Default 32.
   */
  maxConcurrentPushesPerConnection?: number;
  /**
   * Most pushes one connection gets: `burst` at once, then `perSecond` more each second; further pushes are
   * skipped (reason `budget`, hinted). Node's HTTP/2 ends a connection whose client sends more than 1,000
   * RST_STREAM frames at once (33 more each second), counting resets of pushes that had already completed,
   * which the module cannot see. By default, on Node 22.10+ and 24 (whose servers take `streamResetBurst`
   * and `streamResetRate`), the module grows that bucket by room for one reset per push and keeps the
   * 1,000/33 limit for the client's own requests itself: the budget is then 100,000 and 10,000 per second,
   * so a client that keeps its pushes gets them all. On Node 20, or a server whose options set either
   * limit, the default is 500 and 20 per second, within the transport's bucket. Either way a client that
   * resets every push keeps its connection. `false` turns the budget off (for clients known to keep their
   * pushes); an object sets it (missing fields from 500 and 20).
   */
  connectionPushBudget?: false | Partial<PushBudget>;
  /**
   * A pushed request whose handler has not answered (sent the response headers) after this many
   * milliseconds is cancelled (RST_STREAM CANCEL) and counted as failed, so a hanging handler cannot hold a
   * stream forever; its request emits 'close'. A slow client reading a large body is left to HTTP/2 flow
   * control. Default 30000; 0 turns it off.
   */
  pushTimeoutMs?: number;
  /**
   * Request headers a pushed request copies from the client's request. Default: `cookie`, `authorization`,
   * `user-agent`, `accept-language`, `accept-encoding`. Credentials (`cookie`, `authorization`) are only
   * copied when the push goes to the client's own authority. Conditional, range, body, pseudo and
   * connection-specific headers are refused here.
   */
  inheritHeaders?: string[];
  /**
   * Authorities (`host` or `host:port`) besides the current request's one that pushes may name with the
   * `host`/`port` options. A `host` entry allows any port.
   */
  authorities?: string[];
  /**
   * What a resource that cannot be pushed (HTTP/1.1, push disabled by the client, a push limit reached)
   * becomes instead; `false` turns all of it off.
   * - `earlyHints` (default true): one 103 Early Hints response with a `Link: <...>; rel=preload` per such
   *   resource — for `@Push()` resources before the handler runs.
   * - `linkHeader` (default true): the same links on the final response.
   * - `nopush` (default false): also link the resources that *were* pushed, marked `nopush`, so that a
   *   proxy in front does not push them again.
   */
  fallback?: false | PreloadFallbackOptions;
  /**
   * How many resources to remember per HTTP/2 connection so that none is pushed twice on it (a cancelled
   * push is forgotten again). Default 256; 0 turns the diary off.
   */
  diarySize?: number;
  /**
   * Push the same-origin resources that a response's own `Link: <...>; rel=preload` header names (set by a
   * handler, `@Header()`, an interceptor or a Fastify hook), except links marked `nopush`, as h2o and
   * Apache mod_http2 do. Same validation and limits as `@Push()`; an invalid link is skipped. Default false.
   */
  pushLinkHeaders?: boolean;
  /**
   * Off by default. A cookie holding a small Bloom filter of the resources already pushed to this client,
   * so a returning client is not pushed them again (they may be in its cache). A resource's key is its
   * path, query and `version` (give one per `@Push()` resource, e.g. a content hash, so a new version is
   * pushed again). Privacy: the cookie tells this site which of its assets a client was pushed; it is
   * first-party, HttpOnly and SameSite=Lax, but count it among the cookies your consent rules cover.
   */
  digestCookie?: boolean | DigestCookieOptions;
  /**
   * Whether each request enters an AsyncLocalStorage context, which `PushService.push()` needs to find the
   * current request. Default: only when some provider, controller or enhancer injects PushService, since on
   * Node 20 AsyncLocalStorage slows every request (see the README). Set `true` when PushService is reached
   * in a way the module cannot see (e.g. `moduleRef.get(PushService)`).
   */
  requestContext?: boolean;
  /** Called with every push event (also available as `PushMonitor.events$`). Must not throw. */
  onPush?: (event: PushEvent) => void;
  /**
   * Off by default. Remember, per page (authority and path, without the query), the preload links its
   * latest response ended with, and send them in the page's one 103 Early Hints *before the handler runs*
   * on the next request: useful when a page names its assets only after some work (`PushService.push()`
   * after an `await`, or its own `Link` header). Learns only what a shared cache could store (a 2xx GET, not
   * `private` or `no-store`, no `cookie`/`authorization` unless `cache-control: public`); a route's
   * guards run before its learned 103. Needs `fallback.earlyHints`. `true` or the limits below.
   */
  learnedHints?: boolean | LearnedHintsOptions;
  /**
   * Log one line per push event (and per `Link` it could not push) at Nest's `verbose`
   * level, under the `PushModule` context. Default false: Nest's default logger prints every level, so
   * per-push lines are opt-in.
   */
  logEvents?: boolean;
  /**
   * OpenTelemetry metrics and traces (docs/opentelemetry.md), through `@opentelemetry/api`, an optional
   * peer dependency. Default: on when the application has `@opentelemetry/api` installed, for the
   * MeterProvider and TracerProvider registered before the application starts (as an SDK's start does);
   * without them it costs nothing. `false` turns it off; `true` also warns at start-up when the API cannot
   * be loaded.
   */
  telemetry?: boolean;
}

export interface LearnedHintsOptions {
  /** Most pages remembered; the least recently used leaves first. Default 1000. */
  maxPaths?: number;
  /** Most links remembered (and hinted) per page. Default 16. */
  maxLinksPerPath?: number;
  /** Most bytes of paths and links remembered in all. Default 262144 (256 KiB). */
  maxBytes?: number;
  /**
   * Send learned hints only to navigations (`sec-fetch-mode: navigate`) and to requests without
   * `sec-fetch-mode` (curl, nghttp, proxies), the only requests browsers use a 103 for. Default true;
   * false sends them to any GET.
   */
  navigationsOnly?: boolean;
}

export interface DigestCookieOptions {
  /** Cookie name; default `h2push`. */
  name?: string;
  /** Cookie lifetime in seconds; default 7 days. */
  maxAge?: number;
  /** Filter size in bits, a multiple of 8 from 64 to 4096; default 512 (a 86-character cookie). */
  bits?: number;
}

export interface PreloadFallbackOptions {
  earlyHints?: boolean;
  linkHeader?: boolean;
  nopush?: boolean;
}

/** Options after defaults were applied and checked once, at module creation. */
export interface ResolvedPushOptions {
  readonly maxPushesPerRequest: number;
  readonly maxConcurrentPushesPerConnection: number;
  /** undefined: the default, chosen at start-up for the server (transport-reset-limit.ts). */
  readonly connectionPushBudget: PushBudget | false | undefined;
  readonly pushTimeoutMs: number;
  readonly inheritHeaders: readonly string[];
  readonly authorities: readonly { host: string; port?: number }[];
  readonly fallback: Readonly<Required<PreloadFallbackOptions>>;
  readonly diarySize: number;
  readonly pushLinkHeaders: boolean;
  readonly requestContext: boolean | undefined;
  readonly digestCookie: Readonly<Required<DigestCookieOptions>> | undefined;
  readonly onPush?: (event: PushEvent) => void;
  readonly learnedHints: Readonly<Required<LearnedHintsOptions>> | undefined;
  readonly logEvents: boolean;
  readonly telemetry: boolean | undefined;
}
