import type { LearnedHints } from '../hints/learned/learned-hints';
import type { LinkHeaderPusher } from '../hints/link-header.pusher';
import type { PreloadFallback } from '../hints/preload-fallback';
import type { DigestCookie } from '../cache/push-digest.cookie';
import type { IssuerAdapter } from '../push/push.issuer';
import type { PushTracing } from '../monitor/push.tracing';

/**
 * Where the module meets the HTTP adapter: the only code that differs between Fastify and Express.
 * Validation, the issuer, hints and links, learned hints, events, counters and PushService are shared;
 * they see a request only through its PushContext (whose 103 goes out through Node's `writeEarlyHints`,
 * the same call under both adapters).
 */
export interface PushAdapter extends IssuerAdapter {
  /** For logs: `Fastify`, `Express`. */
  readonly name: string;
  /**
   * Whether the adapter knows the matched route before Nest's guards run (Fastify: each route's handler,
   * wrapped as the route is registered, reads the route's config), so that an unguarded route's learned
   * hints can go out from there. Without (Express), a guard on every GET route sends them.
   */
  readonly seesRouteBeforeGuards: boolean;
  /**
   * At start-up: with `enterContexts`, enter each request's PushContext in AsyncLocalStorage before its
   * guards run (PushService finds the request there); look up learned hints; and complete each final
   * response's headers (preload links, digest cookie, learning) just before they are written.
   */
  install(enterContexts: boolean): void;
}

/** The shared parts an adapter calls from its hooks. */
export interface PushAdapterParts {
  readonly fallback: PreloadFallback;
  readonly linkPusher: LinkHeaderPusher;
  readonly digestCookie: DigestCookie;
  readonly learnedHints: LearnedHints;
  /** Names each pushed request's span after its route, once Fastify routed it (with OpenTelemetry only). */
  readonly tracing: PushTracing;
  /**
   * Guards given to `app.useGlobalGuards()` exist: they guard every route but were not there when the
   * routes were prepared, so no learned hint may go out before the guards anywhere.
   */
  readonly appGlobalGuards: boolean;
}
