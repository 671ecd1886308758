/** `<uri>; params` entries of a Link header, separated by commas outside the angle brackets. */
const LINK_VALUE = /<([^>]*)>([^<]*)/g;
/** What a Link value may hold to be repeated in a 103: visible ASCII, spaces and tabs, nothing that ends a header. */
const SAFE_LINK = /^[\t\x20-\x7e]*$/;
/** The form Node's writeEarlyHints() accepts for each link (no quoted value with spaces), or it throws. */
const EARLY_HINT_LINK = /^<[^>]*>(?:\s*;\s*[^;"\s]+(?:=(")?[^;"\s]*\1)?)*$/;

function linkValues(header: unknown): string[] {
  return Array.isArray(header) ? header.map(String) : header === undefined ? [] : [String(header)];
}

/** A link's parameters (`; rel=preload; as=style`), lowercased and split; `rels` from its `rel`. */
function paramsOf(rawParams: string): { params: string[]; rels: string[] } {
  const params = rawParams.replace(/,\s*$/, '').split(';').map((p) => p.trim().toLowerCase());
  const rel = params.find((p) => p.startsWith('rel='));
  return { params, rels: rel?.slice(4).replace(/^"|"$/g, '').split(/\s+/) ?? [] };
}

/**
 * Reads the resources a `Link` response header asks to preload, as h2o and Apache mod_http2 do before
 * pushing them: `rel=preload` links to a path of the same origin, except those marked `nopush`.
 */
export function preloadTargets(header: unknown): string[] {
  const targets: string[] = [];
  for (const value of linkValues(header)) {
    for (const [, uri, rawParams] of value.matchAll(LINK_VALUE)) {
      const { params, rels } = paramsOf(rawParams);
      if (!rels.includes('preload') || params.includes('nopush')) continue;
      if (uri.startsWith('/') && !uri.startsWith('//')) targets.push(uri);
    }
  }
  return targets;
}

/**
 * The link values of a `Link` response header that a browser acts on in a 103 Early Hints: `rel=preload`
 * and `rel=preconnect` (Chromium and Firefox ignore the other relations there), each as written.
 */
export function earlyHintLinks(header: unknown): string[] {
  const links: string[] = [];
  for (const value of linkValues(header)) {
    for (const [whole, , rawParams] of value.matchAll(LINK_VALUE)) {
      const { rels } = paramsOf(rawParams);
      const link = whole.trim().replace(/\s*,$/, '');
      if ((rels.includes('preload') || rels.includes('preconnect')) && SAFE_LINK.test(link) && EARLY_HINT_LINK.test(link)) links.push(link);
    }
  }
  return links;
}
