import type { PreloadAs } from '../push/push-resource.interface';

/** Extension → `as`, for resources that name neither `as` nor an `accept` header. A Map: `/x.constructor` is no key. */
const AS_BY_EXTENSION: ReadonlyMap<string, PreloadAs> = new Map(Object.entries({
  css: 'style',
  js: 'script',
  mjs: 'script',
  woff2: 'font',
  woff: 'font',
  ttf: 'font',
  otf: 'font',
  png: 'image',
  jpg: 'image',
  jpeg: 'image',
  gif: 'image',
  webp: 'image',
  avif: 'image',
  svg: 'image',
  ico: 'image',
  json: 'fetch',
  vtt: 'track',
} satisfies Record<string, PreloadAs>));

function asFromAccept(accept: string): PreloadAs | undefined {
  if (accept.startsWith('text/css')) return 'style';
  if (/^(?:text|application)\/(?:javascript|ecmascript)/.test(accept)) return 'script';
  if (accept.startsWith('image/')) return 'image';
  if (accept.startsWith('font/')) return 'font';
  if (accept.startsWith('application/json')) return 'fetch';
  return undefined;
}

/** `as` for a path: explicit, else from the `accept` header, else from the extension, else `fetch`. */
export function inferPreloadAs(path: string, accept: string | undefined, given?: PreloadAs): PreloadAs {
  if (given) return given;
  const fromAccept = accept === undefined ? undefined : asFromAccept(accept);
  if (fromAccept) return fromAccept;
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (extension && AS_BY_EXTENSION.get(extension)) || 'fetch';
}

/**
 * The parameters of a preload link (`; rel=preload; as=style`). Fonts and fetches are CORS requests, so
 * their preloads need `crossorigin` to be reused by the page.
 */
export function preloadParams(as: PreloadAs, type?: string, crossorigin?: true | 'anonymous' | 'use-credentials'): string {
  let params = `; rel=preload; as=${as}`;
  if (type) params += `; type="${type}"`;
  const cors = crossorigin ?? (as === 'font' || as === 'fetch' ? true : undefined);
  if (cors === true || cors === 'anonymous') params += '; crossorigin';
  else if (cors === 'use-credentials') params += '; crossorigin=use-credentials';
  return params;
}

/**
 * The hint for a resource on another origin (`https://cdn.example:8443`): a preconnect to that origin
 * (anonymous, `crossorigin`, when the resource is fetched with CORS: browsers keep those connections
 * apart), plus a full-URL preload when the origin is https. Chromium preloads any http(s) URL from a 103,
 * Firefox only potentially trustworthy ones, and an https page would block an http resource anyway.
 */
export function crossOriginHint(origin: string, url: string, params: string): readonly string[] {
  const anonymous = /; crossorigin(?:;|$)/.test(params);
  const preconnect = `<${origin}>; rel=preconnect${anonymous ? '; crossorigin' : ''}`;
  return origin.startsWith('https:') ? [preconnect, `<${origin}${url}>${params}`] : [preconnect];
}
