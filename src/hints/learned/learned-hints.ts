import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_PUSH_OPTIONS } from '../../push.constants';
import type { PushContext } from '../../context/push-context';
import type { ResolvedPushOptions } from '../../module/push-module-options.interface';
import { earlyHintLinks } from '../preload-link-parser';
import { LearnedHintsStore } from './learned-hints.store';
import { mayLearnFrom, pageKey, wantsLearnedHints, type HeaderValue } from './learned-hints.rules';

/** A request as learned hints see it: plain values, whatever the HTTP adapter. */
export interface HintedRequest {
  readonly method: string;
  /** Path and query, as the client sent them. */
  readonly url: string;
  /** Request headers (Node's lowercase names; HTTP/2 pseudo-headers included). */
  readonly headers: Readonly<Record<string, HeaderValue>>;
}

/** What a response ended with, for learning. */
export interface FinalResponse {
  readonly status: number;
  readonly cacheControl: HeaderValue;
  /** The `Link` header the application set itself (before the module adds its own links). */
  readonly link: HeaderValue;
}

/**
 * `learnedHints`: remembers, per page (authority and path, no query), the preload links its latest
 * shareable response ended with, and gives them back for the next request to that page, so that its one
 * 103 Early Hints goes out before the handler runs, not when the handler finally names its assets.
 * Knows nothing of the HTTP adapter: the adapters (src/adapters/) hand it plain values.
 */
@Injectable()
export class LearnedHints {
  private readonly store: LearnedHintsStore | undefined;
  private readonly navigationsOnly: boolean;

  constructor(@Inject(RESOLVED_PUSH_OPTIONS) options: ResolvedPushOptions) {
    const learned = options.learnedHints;
    this.store = learned && new LearnedHintsStore(learned);
    this.navigationsOnly = learned?.navigationsOnly ?? true;
  }

  get enabled(): boolean {
    return this.store !== undefined;
  }

  /** Pages remembered and the bytes they take (for tests and diagnostics). */
  get size(): { pages: number; bytes: number } {
    return { pages: this.store?.size ?? 0, bytes: this.store?.bytes ?? 0 };
  }

  /** Whether `request` is one that gets learned hints, and teaches them (a GET navigation, by default). */
  wants(request: HintedRequest): boolean {
    return this.store !== undefined && wantsLearnedHints(request.method, request.headers['sec-fetch-mode'], this.navigationsOnly);
  }

  /** The links learned for the page of `request`, if it is a request that gets them. O(1). */
  lookup(request: HintedRequest): readonly string[] | undefined {
    if (!this.store || !wantsLearnedHints(request.method, request.headers['sec-fetch-mode'], this.navigationsOnly)) return undefined;
    return this.store.get(pageKey(authorityOf(request), request.url));
  }

  /**
   * Learns from a response about to be sent: its own `Link: rel=preload|preconnect` values, then every
   * resource the module was asked to push or hint for it (pushed, hinted, or already pushed on the
   * connection: which of these happened depends on the client, what the page asked for does not). A
   * response a shared cache could not store teaches nothing and leaves what was learned as it was.
   */
  learn(request: HintedRequest, response: FinalResponse, context: PushContext | undefined): void {
    if (!this.store || context?.pushed || !wantsLearnedHints(request.method, request.headers['sec-fetch-mode'], this.navigationsOnly)) return;
    const exchange = {
      method: request.method,
      cookie: request.headers.cookie,
      authorization: request.headers.authorization,
      status: response.status,
      cacheControl: response.cacheControl,
    };
    if (!mayLearnFrom(exchange)) return;
    const links = earlyHintLinks(response.link);
    if (context) links.push(...context.askedLinks());
    this.store.learn(pageKey(authorityOf(request), request.url), links);
  }
}

function authorityOf(request: HintedRequest): HeaderValue {
  return request.headers[':authority'] ?? request.headers.host;
}
