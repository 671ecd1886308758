import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HintedRequest } from '../hints/learned/learned-hints';
import { PushContext } from '../context/push-context';
import { pushContextStorage } from '../context/push-context.storage';
import type { PushAdapter, PushAdapterParts } from './push-adapter';

/** Express's request: Node's, plus what Express adds (the scheme, `trust proxy` aware; the URL before any mount). */
type ExpressRequest = IncomingMessage & { readonly protocol: string; readonly originalUrl?: string };
type Middleware = (request: ExpressRequest, response: ServerResponse, next: (error?: unknown) => void) => void;

/** What the module needs of Nest's ExpressAdapter. */
export interface ExpressHttpAdapter {
  getType(): string;
  use(handler: Middleware): unknown;
}

/**
 * `@nestjs/platform-express`: hints only. Express serves HTTP/1.1, so nothing is pushed (every push is
 * refused as `http1`) and each resource becomes a preload hint: the one 103 before the handler, and the
 * final response's `Link` header, added just before Node writes the headers (Express has no hook there).
 * A middleware the module registers, after the body parsers and before Nest middleware, guards and
 * handlers, enters each request's context (only when PushService is used: it costs every request) and
 * looks up learned hints (only with `learnedHints`), which a guard then sends.
 */
export class ExpressPushAdapter implements PushAdapter {
  readonly name = 'Express';
  readonly seesRouteBeforeGuards = false;
  readonly dispatcher = undefined;
  /** Whether a response's headers need completing: links, or learning from them. */
  private readonly completesHeaders: boolean;

  constructor(
    private readonly http: ExpressHttpAdapter,
    private readonly parts: PushAdapterParts,
  ) {
    this.completesHeaders = parts.fallback.addsLinkHeader || parts.learnedHints.enabled;
  }

  /** Whether `http` is Nest's Express adapter. */
  static fits(http: { getType?(): string }): http is ExpressHttpAdapter {
    return http.getType?.() === 'express';
  }

  install(enterContexts: boolean): void {
    const learnedHints = this.parts.learnedHints;
    if (learnedHints.enabled) {
      // A request that may get or teach learned hints needs a context: for its pending hints, and for its
      // final headers to be learned from.
      this.http.use((request, response, next) => {
        const hinted = hintedRequest(request);
        if (learnedHints.wants(hinted)) {
          const links = learnedHints.lookup(hinted);
          const context = this.contextOf(request, response);
          if (links) context.pendingHints = links;
        }
        if (enterContexts) pushContextStorage.run(this.contextOf(request, response), next);
        else next();
      });
    } else if (enterContexts) {
      this.http.use((request, response, next) => pushContextStorage.run(this.contextOf(request, response), next));
    }
  }

  readonly contextOf = (request: object, reply: object): PushContext =>
    PushContext.peek(request) ??
    this.created(PushContext.of(request as ExpressRequest, reply, request as ExpressRequest, reply as ServerResponse));

  /** A new context: what it collects must reach the final headers, which Express writes with no hook of its own. */
  private created(context: PushContext): PushContext {
    if (this.completesHeaders) this.completeBeforeHeaders(context);
    return context;
  }

  /**
   * Wraps this response's `writeHead` (through which Node writes every response's headers, implicit ones
   * too; other middleware may wrap it again): the first call learns from the headers as the application set
   * them, then adds the context's preload links.
   */
  private completeBeforeHeaders(context: PushContext): void {
    const { fallback, learnedHints } = this.parts;
    const request = context.raw as ExpressRequest;
    const response = context.rawReply as ServerResponse;
    const writeHead = response.writeHead;
    let completed = false;
    response.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      if (!completed) {
        completed = true;
        if (learnedHints.enabled) {
          const status = typeof args[0] === 'number' ? args[0] : response.statusCode;
          learnedHints.learn(hintedRequest(request), { status, cacheControl: response.getHeader('cache-control'), link: response.getHeader('link') }, context);
        }
        const link = fallback.linkHeader(context, response.getHeader('link'));
        if (link !== undefined) response.setHeader('link', link);
      }
      return (writeHead as (...args: unknown[]) => ServerResponse).apply(this, args);
    } as typeof writeHead;
  }
}

/** The request as learned hints see it: the URL the client sent, before any mount point was stripped. */
function hintedRequest(request: ExpressRequest): HintedRequest {
  return { method: request.method ?? 'GET', url: request.originalUrl ?? request.url ?? '/', headers: request.headers as HintedRequest['headers'] };
}
