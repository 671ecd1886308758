/**
 * What every benchmarked server serves: a page and three assets of a few KB each. Deterministic, so the
 * load driver can check every body it reads by its length.
 */

function filler(prefix: string, line: (i: number) => string, bytes: number): string {
  let text = prefix;
  for (let i = 0; text.length < bytes; i++) text += line(i);
  return text.slice(0, bytes - 1) + '\n';
}

/** The page's three pushed assets. `/static/app.css` is served by @fastify/static from a file. */
export const CSS_PATH = '/static/app.css';
export const JS_PATH = '/asset/app.js';
export const JSON_PATH = '/asset/data.json';
export const ASSET_PATHS = [CSS_PATH, JS_PATH, JSON_PATH] as const;

export const PAGE_PATH = '/page';
/** A route that pushes nothing (overhead measurement). */
export const PLAIN_PATH = '/plain';

export const CSS_BODY = filler('/* bench */\n', (i) => `.c${i} { margin: ${i % 7}px; color: #${(i * 2654435761 % 0xffffff).toString(16).padStart(6, '0')}; }\n`, 4096);
export const JS_BODY = filler('// bench\n', (i) => `export function f${i}(x) { return x * ${i} + ${i % 13}; }\n`, 4096);
/** What the Nest handler returns; Fastify serializes it (the JSON body is ~4 KB). */
export const JSON_VALUE = {
  items: Array.from({ length: 60 }, (_, i) => ({ id: i, name: `item-${i}`, price: (i * 37) % 1000, tags: ['a', 'b'] })),
};
export const JSON_BODY = JSON.stringify(JSON_VALUE);
export const PAGE_BODY = filler(
  `<!doctype html><link rel="stylesheet" href="${CSS_PATH}"><script type="module" src="${JS_PATH}"></script>\n`,
  (i) => `<p id="p${i}">paragraph ${i} of the benchmark page</p>\n`,
  2048,
);
export const PLAIN_BODY = 'hello\n';

export const BODY_LENGTHS: Record<string, number> = {
  [CSS_PATH]: Buffer.byteLength(CSS_BODY),
  [JS_PATH]: Buffer.byteLength(JS_BODY),
  [JSON_PATH]: Buffer.byteLength(JSON_BODY),
  [PAGE_PATH]: Buffer.byteLength(PAGE_BODY),
  [PLAIN_PATH]: Buffer.byteLength(PLAIN_BODY),
};
