/**
 * Reads the resources a `Link` response header asks to preload, as h2o and Apache mod_http2 do before
 * pushing them: `rel=preload` links to a path of the same origin, except those marked `nopush`.
 */
export function preloadTargets(header: unknown): string[] {
  const values = Array.isArray(header) ? header.map(String) : header === undefined ? [] : [String(header)];
  const targets: string[] = [];
  for (const value of values) {
    // `<uri>; params` entries, separated by commas outside the angle brackets.
    for (const match of value.matchAll(/<([^>]*)>([^<]*)/g)) {
      const [, uri, rawParams] = match;
      const params = rawParams.replace(/,\s*$/, '').split(';').map((p) => p.trim().toLowerCase());
      const rel = params.find((p) => p.startsWith('rel='));
      const rels = rel?.slice(4).replace(/^"|"$/g, '').split(/\s+/) ?? [];
      if (!rels.includes('preload') || params.includes('nopush')) continue;
      if (uri.startsWith('/') && !uri.startsWith('//')) targets.push(uri);
    }
  }
  return targets;
}
