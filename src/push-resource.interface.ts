/** Request headers of a pushed request: lowercase names, string values (HTTP/2 allows repeated `cookie`). */
export type PushHeaders = Readonly<Record<string, string | readonly string[]>>;

/** The methods a promised request may use: safe and cacheable (RFC 9113 §8.4). */
export type PushMethod = 'GET' | 'HEAD';

/**
 * Cowboy's `push_opts()`: what to change from the client's request. Unset fields default to GET, an empty
 * query string and the scheme, host and port of the current request.
 */
export interface PushOptions {
  method?: PushMethod;
  scheme?: 'http' | 'https';
  host?: string;
  port?: number;
  /** Query string without the leading `?`. */
  qs?: string;
}

/** One resource given to `@Push()`. */
export interface PushResource extends PushOptions {
  /** Absolute path (`/static/style.css`), case sensitive, without query string. */
  path: string;
  headers?: PushHeaders;
}

/** A resource after validation: what the issuer works with. */
export interface NormalizedPush {
  readonly method: PushMethod;
  readonly path: string;
  readonly qs: string;
  readonly scheme?: 'http' | 'https';
  readonly host?: string;
  readonly port?: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
}
