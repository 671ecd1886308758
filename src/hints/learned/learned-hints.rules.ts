/**
 * When learned hints may be learned and sent: pure functions over header values, no HTTP objects.
 * Learning follows the rules of a shared HTTP cache (RFC 9111), since a learned hint reaches every later
 * client of the page: one user's resource URLs must never be hinted to another.
 */

/** A header value as Node gives it. */
export type HeaderValue = string | readonly string[] | number | undefined;

/** What `mayLearnFrom` looks at in one request and its response. */
export interface LearnableExchange {
  /** The request method: only GET pages are learned (and hinted). */
  readonly method: string;
  /** The request's `cookie` and `authorization` headers: credentials. */
  readonly cookie: HeaderValue;
  readonly authorization: HeaderValue;
  /** The final response's status code. */
  readonly status: number;
  /** The final response's `cache-control` header. */
  readonly cacheControl: HeaderValue;
}

/**
 * Whether a shared cache could store this response, so its links may be hinted to any client: a GET, a
 * 2xx status, no `private` or `no-store`, and no credentials in the request unless the response says
 * `public` (RFC 9111 §3, §3.5; stricter than §3.5, which also lets `s-maxage` and `must-revalidate` through).
 */
export function mayLearnFrom(exchange: LearnableExchange): boolean {
  if (exchange.method !== 'GET' || exchange.status < 200 || exchange.status > 299) return false;
  const directives = cacheDirectives(exchange.cacheControl);
  if (directives.has('no-store') || directives.has('private')) return false;
  const credentials = present(exchange.cookie) || present(exchange.authorization);
  return !credentials || directives.has('public');
}

/**
 * Whether a request gets learned hints: a GET that is a navigation (`sec-fetch-mode: navigate`) or that
 * says nothing about its mode (curl, nghttp, proxies); with `navigationsOnly` off, any GET. Browsers use a
 * 103 only for navigations, so a script's `fetch()` of the same URL is not sent one.
 */
export function wantsLearnedHints(method: string, secFetchMode: HeaderValue, navigationsOnly: boolean): boolean {
  if (method !== 'GET') return false;
  return !navigationsOnly || secFetchMode === undefined || secFetchMode === 'navigate';
}

/** The page a request is for: authority and path, without the query string (as Cloudflare keys its hints). */
export function pageKey(authority: HeaderValue, url: string): string {
  const query = url.indexOf('?');
  return `${typeof authority === 'string' ? authority : ''}${query === -1 ? url : url.slice(0, query)}`;
}

/** Lowercase directive names of a `cache-control` value (`max-age=60, Public` → max-age, public). */
function cacheDirectives(value: HeaderValue): Set<string> {
  const directives = new Set<string>();
  if (value === undefined) return directives;
  for (const item of typeof value === 'object' ? value : [String(value)]) {
    for (const part of item.split(',')) {
      const name = part.split('=', 1)[0].trim().toLowerCase();
      if (name) directives.add(name);
    }
  }
  return directives;
}

function present(value: HeaderValue): boolean {
  return value !== undefined && value !== '' && !(typeof value === 'object' && value.length === 0);
}
