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

/** The `as` of a preload link (the request destination the browser will use the resource for). */
export type PreloadAs = 'style' | 'script' | 'font' | 'image' | 'fetch' | 'document' | 'audio' | 'video' | 'track' | 'worker';

/** One resource given to `@Push()`. */
export interface PushResource extends PushOptions {
  /** Absolute path (`/static/style.css`), case sensitive, without query string. */
  path: string;
  headers?: PushHeaders;
  /** For the preload fallback: the link's `as`; inferred from the extension or `accept` when left out. */
  as?: PreloadAs;
  /** For the preload fallback: the link's `type` (a MIME type). */
  type?: string;
  /** For the preload fallback: the link's `crossorigin` (fonts and fetches need it; inferred for them). */
  crossorigin?: true | 'anonymous' | 'use-credentials';
  /** For `digestCookie`: a version of the resource (etag, content hash), so a new version is pushed again. */
  version?: string;
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
  /** Path and query string (`:path`). */
  readonly url: string;
  /** `headerListSize(headers)`, counted once at validation. */
  readonly headersSize: number;
  /**
   * `Link` value preloading this resource (`</a.css>; rel=preload; as=style`), built once at validation;
   * undefined when it cannot be hinted (HEAD, or another scheme/host/port than the current request's).
   */
  readonly link?: string;
  /**
   * The preload parameters (`; rel=preload; as=script`) of a GET resource that names its own scheme, host
   * or port: its link is made once the authority is known (a relative one, or a cross-origin hint).
   */
  readonly preload?: string;
  readonly version?: string;
}
