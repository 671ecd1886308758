/**
 * What every benchmarked server serves: a page and three assets of about 4 KiB each, in three page shapes.
 * Deterministic, so the load driver can check every body it reads by its length.
 */

function filler(prefix: string, line: (i: number) => string, bytes: number): string {
  let text = prefix;
  for (let i = 0; text.length < bytes; i++) text += line(i);
  return text.slice(0, bytes - 1) + '\n';
}

export const CSS_BODY = filler('/* bench */\n', (i) => `.c${i} { margin: ${i % 7}px; color: #${(i * 2654435761 % 0xffffff).toString(16).padStart(6, '0')}; }\n`, 4096);
export const JS_BODY = filler('// bench\n', (i) => `export function f${i}(x) { return x * ${i} + ${i % 13}; }\n`, 4096);
/** What the Nest handler returns; Fastify serializes it (the JSON body is ~3.3 KB). */
export const JSON_VALUE = {
  items: Array.from({ length: 60 }, (_, i) => ({ id: i, name: `item-${i}`, price: (i * 37) % 1000, tags: ['a', 'b'] })),
};
export const JSON_BODY = JSON.stringify(JSON_VALUE);
export const PAGE_BODY = filler(
  '<!doctype html><link rel="stylesheet" href="app.css"><script type="module" src="app.js"></script>\n',
  (i) => `<p id="p${i}">paragraph ${i} of the benchmark page</p>\n`,
  2048,
);
export const PLAIN_BODY = 'hello\n';

export const PAGE_PATH = '/page';
/** A route that pushes nothing (overhead measurement). */
export const PLAIN_PATH = '/plain';

/** Nest handlers: `/asset/...`. Files served by @fastify/static: `/static/...` (the prefix is stripped: `<root>/app.css`). */
export const NEST_PREFIX = '/asset/';
export const STATIC_PREFIX = '/static/';

/**
 * The three page shapes. `nest`: three plain Nest handlers (two return strings, one an object Fastify
 * serializes). `static`: three files through @fastify/static with `wildcard: false` (one route per file,
 * made at start-up). `mixed`: the shape of the first benchmark, one file through @fastify/static with its
 * default `wildcard: true` (it checks the path's spelling with `readdir` on every request), two Nest handlers.
 */
export type Shape = 'nest' | 'static' | 'mixed';
export const SHAPES: readonly Shape[] = ['nest', 'static', 'mixed'];

export const SHAPE_ASSETS: Record<Shape, readonly string[]> = {
  nest: ['/asset/app.css', '/asset/app.js', '/asset/data.json'],
  static: ['/static/app.css', '/static/app.js', '/static/data.json'],
  mixed: ['/static/app.css', '/asset/app.js', '/asset/data.json'],
};

export const SHAPE_LABELS: Record<Shape, string> = {
  nest: '(i) 3 Nest handlers',
  static: '(ii) 3 @fastify/static files, `wildcard: false`',
  mixed: '(iii) mixed: 1 @fastify/static file (default `wildcard: true`) + 2 Nest handlers',
};

/** Body and content type of each asset file name, wherever it is served from. */
export const ASSET_FILES: Record<string, { body: string; type: string }> = {
  'app.css': { body: CSS_BODY, type: 'text/css; charset=utf-8' },
  'app.js': { body: JS_BODY, type: 'text/javascript; charset=utf-8' },
  'data.json': { body: JSON_BODY, type: 'application/json; charset=utf-8' },
};

export const fileNameOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);

export const BODY_LENGTHS: Record<string, number> = {
  [PAGE_PATH]: Buffer.byteLength(PAGE_BODY),
  [PLAIN_PATH]: Buffer.byteLength(PLAIN_BODY),
  ...Object.fromEntries(Object.values(SHAPE_ASSETS).flat().map((path) => [path, Buffer.byteLength(ASSET_FILES[fileNameOf(path)].body)])),
};
