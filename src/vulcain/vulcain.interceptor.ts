import { Injectable, Optional, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { mergeMap, type Observable } from 'rxjs';
import { PushIssuer } from '../push/push.issuer';
import { normalizePush } from '../push/push-validation';
import type { PushContext } from '../context/push-context';
import { findRelations, trimFields, type Relation } from './vulcain-document';
import { awaitPushedDocument, handOverPushedDocument } from './pushed-documents';
import { formatStringList, requestSelectors } from './vulcain-selectors';

/** What the interceptor reads of the adapter's request (Fastify's or Express's). */
interface VulcainRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly url?: string;
  readonly originalUrl?: string;
}

/** What it writes on the adapter's response: both Fastify's reply and Express's response have these. */
interface VulcainResponse {
  getHeader(name: string): unknown;
  header(name: string, value: string): unknown;
}

/**
 * How long a page waits, at most, for the documents it pushed to name their own links (deeper selectors):
 * their pushes must be promised on the page's stream, before its headers.
 */
export const HOLD_MS = 200;

/** Push outcomes after which the client still needs a link: it was not pushed, and has not got it. */
const LINKED_OUTCOMES = new Set(['http1', 'disabled', 'limit', 'unwanted', 'budget', 'nested', 'failed']);

/**
 * Vulcain (draft-dunglas-vulcain-01) on the routes `@Vulcain()` marks: the client's `Preload` selectors are
 * resolved against the object the handler returned, and each same-origin link found is pushed as a request
 * of its own (through the router, guards, pipes, interceptors and filters, with `PushService`'s limits,
 * diary and events), carrying the rest of the selectors in its `Preload` and `Fields` headers; a link that
 * is not pushed (HTTP/1.1, push disabled, limits, another origin, or this request was itself pushed and
 * cannot push) becomes `Link: <url>; rel=preload; as=fetch` on the response. `Fields` trims the returned
 * object. An interceptor, as only one sees the handler's result before it is serialised.
 */
@Injectable()
export class VulcainInterceptor implements NestInterceptor {
  // Optional: without PushModule, the route still trims its fields and hints its links.
  constructor(@Optional() private readonly issuer?: PushIssuer) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<VulcainRequest>();
    const response = http.getResponse<VulcainResponse>();
    // Caches must key these responses by the selectors too.
    appendHeader(response, 'vary', 'Preload, Fields');
    const url = request.originalUrl ?? request.url ?? '';
    const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : undefined;
    const preload = requestSelectors('preload', request.headers.preload, query);
    const fields = requestSelectors('fields', request.headers.fields, query);
    if (preload.length === 0 && fields.length === 0) return next.handle();
    return next.handle().pipe(
      mergeMap(async (body: unknown) => {
        // Only what becomes JSON: objects and arrays the handler returned (not strings, buffers, streams, @Res()).
        if (body === null || typeof body !== 'object' || Buffer.isBuffer(body) || typeof (body as { pipe?: unknown }).pipe === 'function') return body;
        if (preload.length > 0) await this.preload(findRelations(body, preload, fields), request, response);
        return trimFields(body, fields);
      }),
    );
  }

  private async preload(relations: Map<string, Relation>, request: VulcainRequest, response: VulcainResponse): Promise<void> {
    if (relations.size === 0) return;
    const pushContext = this.issuer?.active ? this.issuer.contextOf(request, response) : undefined;
    // A pushed request cannot push: the page that pushed it waits for its links and pushes them itself.
    if (pushContext?.pushed && handOverPushedDocument(pushContext.stream?.session, String(request.headers[':path']), relations)) return;
    const origin = pushContext?.origin ?? originOf(request);
    const links: string[] = [];
    const deadline = performance.now() + HOLD_MS;
    let level: Map<string, Relation> | undefined = relations;
    while (level) {
      const waits: Promise<Map<string, Relation> | undefined>[] = [];
      for (const relation of level.values()) {
        const target = sameOriginTarget(relation.link, origin);
        if (target === undefined) {
          // Another origin's resource, or no URL at all (a name, a sentence): only a URL is hinted.
          if (/^https?:\/\/[^/]/i.test(relation.link) && URL.canParse(relation.link)) links.push(`<${relation.link}>; rel=preload; as=fetch`);
          continue;
        }
        const pushed = pushContext ? this.push(pushContext, target, relation) : { outcome: 'http1', url: target };
        if (pushed === undefined) continue;
        if (LINKED_OUTCOMES.has(pushed.outcome)) links.push(`<${target}>; rel=preload; as=fetch`);
        const session = pushContext?.stream?.session;
        // Its own document links what the rest of the selectors asks for: wait for it, within the page's hold.
        if (pushed.outcome === 'promised' && relation.preload.size > 0 && session && !pushContext!.pushed) {
          waits.push(awaitPushedDocument(session, pushed.url, Math.max(0, deadline - performance.now())));
        }
      }
      level = waits.length > 0 ? mergeRelations(await Promise.all(waits)) : undefined;
    }
    for (const link of links) appendHeader(response, 'link', link, true);
  }

  /** The push's outcome and pushed path; undefined when the link is not a path the module can push (it is then left alone). */
  private push(context: PushContext, target: string, relation: Relation): { outcome: string; url: string } | undefined {
    const headers: Record<string, string> = {};
    if (relation.preload.size > 0) headers.preload = formatStringList(relation.preload);
    if (relation.fields.size > 0) headers.fields = formatStringList(relation.fields);
    const at = target.indexOf('?');
    try {
      const push = normalizePush(at < 0 ? target : target.slice(0, at), headers, at < 0 ? undefined : { qs: target.slice(at + 1) });
      return { outcome: this.issuer!.issue(context, push), url: push.url };
    } catch {
      // A link the module refuses to push (a malformed path, a header too large): the document keeps it.
      return undefined;
    }
  }
}

/** The next level's relations, from every pushed document that handed its own over; undefined when none did. */
function mergeRelations(documents: (Map<string, Relation> | undefined)[]): Map<string, Relation> | undefined {
  const merged = new Map<string, Relation>();
  for (const relations of documents) {
    for (const [link, relation] of relations ?? []) {
      const known = merged.get(link);
      if (!known) merged.set(link, { link, preload: new Set(relation.preload), fields: new Set(relation.fields) });
      else {
        for (const pointer of relation.preload) known.preload.add(pointer);
        for (const pointer of relation.fields) known.fields.add(pointer);
      }
    }
  }
  return merged.size > 0 ? merged : undefined;
}

interface Origin {
  readonly scheme: string;
  readonly authority?: string;
}

/** Path and query of `link` when it names a resource of `origin`: a path (`/authors/1`) or an absolute URL of the same origin. */
function sameOriginTarget(link: string, origin: Origin): string | undefined {
  if (link.startsWith('/') && !link.startsWith('//')) return link.includes('#') ? link.slice(0, link.indexOf('#')) : link;
  if (!/^https?:\/\//i.test(link) || !URL.canParse(link) || origin.authority === undefined) return undefined;
  const url = new URL(link);
  const base = new URL(`${origin.scheme}://${origin.authority}`);
  return url.origin === base.origin ? `${url.pathname}${url.search}` : undefined;
}

function originOf(request: VulcainRequest): Origin {
  const headers = request.headers;
  const scheme = (headers[':scheme'] as string | undefined) ?? ((request as { protocol?: string }).protocol || 'http');
  return { scheme, authority: (headers[':authority'] ?? headers.host) as string | undefined };
}

/** Adds `value` to the response's `name` header (a list), unless it is there already. */
function appendHeader(response: VulcainResponse, name: string, value: string, separate = false): void {
  const existing = response.getHeader(name);
  const values = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  if (values.some((v) => v.includes(separate ? value.slice(0, value.indexOf('>') + 1) : value))) return;
  response.header(name, [...values, value].join(', '));
}
