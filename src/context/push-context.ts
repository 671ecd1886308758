import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, ServerHttp2Stream } from 'node:http2';
import { isPushedRequest } from '../push/is-pushed-request';
import { PUSH_CONTEXT } from '../push.constants';
import { HINTED_OUTCOMES, type PushOutcome } from '../push/push-outcome';
import type { PushDigest } from '../cache/push-digest';
import { formatAuthority, parseAuthority } from '../push/push-validation';

type RequestWithContext = { [PUSH_CONTEXT]?: PushContext };

/** What the module reads from an adapter's request object (Fastify's request, Express's request). */
export interface AdapterRequest {
  /** `http` or `https`, as the adapter sees it (behind a trusted proxy, its forwarded scheme). */
  readonly protocol: string;
}

/** What the module reads from an adapter's response object (Fastify's reply, Express's response). */
export interface AdapterReply {
  /** Fastify: true once the reply was sent or hijacked; Express has no such property. */
  readonly sent?: boolean;
}

/** The Node request and response under the adapter's objects (HTTP/1.1 or HTTP/2 compatibility API). */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
export type NodeResponse = ServerResponse | Http2ServerResponse;

/** Counts of a response's pushes that its pushes update after the page's handler is done. */
export interface PushCounts {
  /** Pushes of this response the client cancelled so far. */
  cancelled: number;
}

/** Scheme and authority of the client's request; `authority` undefined when it named none. */
export interface RequestOrigin {
  readonly scheme: string;
  readonly host?: string;
  readonly port?: number;
  /** `host[:port]` without the scheme's default port. */
  readonly authority?: string;
  /** For a push target: the request's own origin. */
  readonly sameOrigin: true;
}

/**
 * What this module knows about one request being handled: its stream, whether it was itself pushed, what
 * was promised for its response and which preload links it owes the client instead. Created on first use
 * (a request that nothing pushes for never gets one) and kept on the request; PushService finds it
 * through AsyncLocalStorage, so PushService stays a singleton.
 */
export class PushContext {
  /**
   * The request's context, created on first use and kept on the adapter's request object. `raw` and
   * `rawReply` are the Node objects under `request` and `reply` (the same objects on Express).
   */
  static of(request: AdapterRequest, reply: AdapterReply, raw: NodeRequest, rawReply: NodeResponse): PushContext {
    return ((request as RequestWithContext)[PUSH_CONTEXT] ??= new PushContext(request, reply, raw, rawReply));
  }

  /** The request's context if something created one. */
  static peek(request: object): PushContext | undefined {
    return (request as RequestWithContext)[PUSH_CONTEXT];
  }

  /** The client's HTTP/2 stream; undefined over HTTP/1.1. */
  readonly stream: ServerHttp2Stream | undefined;
  /** Pushed requests cannot push again (RFC 9113 §8.4: no push on a pushed stream). */
  readonly pushed: boolean;
  /** True once the `@Push()` resources of this request were issued. */
  declaredIssued = false;
  /** True once this response's 103 Early Hints went out (at most one per response). */
  earlyHintsSent = false;
  /** De-duplication keys (method, scheme, authority, path, query) of the resources promised so far. */
  private promisedKeys: Set<string> | undefined;
  /** `Link` values of resources that could not be pushed, to be hinted instead. */
  hintLinks: string[] | undefined;
  /** `Link` values of resources that were pushed (sent with `nopush` when asked for). */
  pushedLinks: string[] | undefined;
  /** `Link` values of resources not pushed because the client has them already (diary, digest cookie). */
  cachedLinks: string[] | undefined;
  /** Learned hints for this request, left by the adapter's hook for the last guard to send (learnedHints). */
  pendingHints: readonly string[] | undefined;
  /** What became of this response's pushes so far; shared with each push, which outlives the page. */
  readonly counts: PushCounts = { cancelled: 0 };
  /** The client's digest cookie, read on the first push (`digestCookie`). */
  digest: PushDigest | undefined;
  private parsedOrigin: RequestOrigin | undefined;

  constructor(
    readonly request: AdapterRequest,
    readonly reply: AdapterReply,
    /** The Node request: headers, HTTP/2 stream. */
    readonly raw: NodeRequest,
    /** The Node response: headers sent, 103 Early Hints. */
    readonly rawReply: NodeResponse,
  ) {
    this.stream = (raw as { stream?: ServerHttp2Stream }).stream;
    this.pushed = isPushedRequest(raw);
  }

  /** True once the response's headers went out: from then on, a push is an error. */
  get responseStarted(): boolean {
    return this.rawReply.headersSent || this.reply.sent === true;
  }

  /** The request's scheme and authority, parsed once for all its pushes. */
  get origin(): RequestOrigin {
    if (this.parsedOrigin) return this.parsedOrigin;
    const headers = this.raw.headers;
    const scheme = (headers[':scheme'] as string | undefined) ?? this.request.protocol;
    const current = parseAuthority(headers[':authority'] ?? headers.host);
    const authority = current && formatAuthority(current.host, current.port, scheme);
    return (this.parsedOrigin = { scheme, host: current?.host, port: current?.port, authority, sameOrigin: true });
  }

  get promisedCount(): number {
    return this.promisedKeys?.size ?? 0;
  }

  isPromised(key: string): boolean {
    return this.promisedKeys?.has(key) ?? false;
  }

  markPromised(key: string): void {
    (this.promisedKeys ??= new Set()).add(key);
  }

  /**
   * Remembers what became of a push whose preload link is `link` (several link values for a resource on
   * another origin; undefined: it cannot be hinted), for the links of the response. Returns true when the
   * resource became a new hint (only when `hints` are on: the fallback sends them).
   */
  record(link: string | readonly string[] | undefined, outcome: PushOutcome, hints: boolean): boolean {
    if (link === undefined) return false;
    if (typeof link !== 'string') return link.map((value) => this.record(value, outcome, hints)).includes(true);
    if (outcome === 'promised') (this.pushedLinks ??= []).push(link);
    else if (outcome === 'cached') (this.cachedLinks ??= []).push(link);
    else if (hints && HINTED_OUTCOMES.has(outcome) && !this.hintLinks?.includes(link)) {
      (this.hintLinks ??= []).push(link);
      return true;
    }
    return false;
  }

  /** The links of every resource pushed, hinted or found cached for this response, in that order. */
  askedLinks(): string[] {
    return [...(this.pushedLinks ?? []), ...(this.hintLinks ?? []), ...(this.cachedLinks ?? [])];
  }
}
