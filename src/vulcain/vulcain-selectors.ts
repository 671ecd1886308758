/**
 * Vulcain's selectors (draft-dunglas-vulcain-01): the `Preload` and `Fields` request headers are Structured
 * Field lists of strings, each an extended JSON Pointer (`/books/*\/author`: `*` is every element of an array
 * or every value of an object, `~2` a literal `*`, `~1` a `/`, `~0` a `~`); the `preload` and `fields` query
 * parameters carry the same values, quoted or not, one per parameter. Parameters of a list member (`; rel=`)
 * are ignored. Malformed members are ignored, not answered with 400: a client asking for hints must never
 * lose the resource itself.
 */

/** A parsed selector: its reference tokens, WILDCARD for `*`. The empty selector `""` has none. */
export type Selector = readonly (string | typeof WILDCARD)[];

export const WILDCARD = Symbol('*');

/** Selectors read per request and kind (Preload, Fields): the rest are ignored. */
export const MAX_SELECTORS = 32;
/** Reference tokens per selector: a deeper one is ignored. */
export const MAX_SELECTOR_DEPTH = 16;
/** Characters of one header or query value looked at. */
const MAX_VALUE_LENGTH = 8192;

/**
 * The selectors of `kind` (`preload` or `fields`) a request carries: its header, then its query parameters.
 * `header` is the header as Node gives it (lines joined by ", "), `query` the query string without `?`.
 */
export function requestSelectors(kind: 'preload' | 'fields', header: string | string[] | undefined, query: string | undefined): Selector[] {
  const selectors: Selector[] = [];
  const add = (pointer: string) => {
    const selector = parsePointer(pointer);
    if (selector && selectors.length < MAX_SELECTORS && !selectors.some((s) => sameSelector(s, selector))) selectors.push(selector);
  };
  for (const value of header === undefined ? [] : Array.isArray(header) ? header : [header]) {
    for (const member of parseStringList(value.slice(0, MAX_VALUE_LENGTH))) add(member);
  }
  if (query) {
    for (const value of new URLSearchParams(query).getAll(kind)) {
      const trimmed = value.trim().slice(0, MAX_VALUE_LENGTH);
      for (const member of trimmed.startsWith('"') ? parseStringList(trimmed) : [trimmed.split(';')[0].trim()]) add(member);
    }
  }
  return selectors;
}

/**
 * The sf-string members of a Structured Field list (RFC 8941 §3.1, §3.3.3), parameters dropped. A member
 * that is not a well-formed string is skipped; parsing goes on after the next comma.
 */
export function parseStringList(value: string): string[] {
  const members: string[] = [];
  let i = 0;
  const skipSpaces = () => {
    while (value[i] === ' ' || value[i] === '\t') i++;
  };
  /** `quoted`: called from inside a string (a bad escape or character): its closing quote is still ahead. */
  const skipToNextMember = (quoted = false) => {
    for (; i < value.length; i++) {
      const c = value[i];
      if (c === '\\' && quoted) i++;
      else if (c === '"') quoted = !quoted;
      else if (c === ',' && !quoted) break;
    }
    i++;
  };
  while (i < value.length) {
    skipSpaces();
    if (value[i] !== '"') {
      skipToNextMember();
      continue;
    }
    let text = '';
    let closed = false;
    for (i++; i < value.length; i++) {
      const c = value[i];
      if (c === '\\') {
        const next = value[++i];
        if (next !== '"' && next !== '\\') break;
        text += next;
      } else if (c === '"') {
        closed = true;
        i++;
        break;
      } else if (c < ' ' || c > '~') {
        break;
      } else text += c;
    }
    if (closed) members.push(text);
    // Parameters (`; rel=author`) and anything else up to the next member are skipped.
    skipToNextMember(!closed);
  }
  return members;
}

/** An extended JSON Pointer; undefined when malformed (not starting with `/`, a bad `~` escape, too deep). */
export function parsePointer(pointer: string): Selector | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  const tokens = pointer.slice(1).split('/');
  if (tokens.length > MAX_SELECTOR_DEPTH) return undefined;
  const selector: (string | typeof WILDCARD)[] = [];
  for (const token of tokens) {
    if (token === '*') {
      selector.push(WILDCARD);
      continue;
    }
    if (/~[^012]|~$/.test(token)) return undefined;
    selector.push(token.replace(/~2/g, '*').replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  return selector;
}

/** The pointer text of `selector` (the inverse of parsePointer). */
export function formatPointer(selector: Selector): string {
  return selector.map((token) => `/${token === WILDCARD ? '*' : token.replace(/~/g, '~0').replace(/\//g, '~1').replace(/\*/g, '~2')}`).join('');
}

/** A Structured Field list of `pointers` as strings, for the `Preload`/`Fields` header of a pushed request. */
export function formatStringList(pointers: Iterable<string>): string {
  return [...pointers].map((pointer) => `"${pointer.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(', ');
}

function sameSelector(a: Selector, b: Selector): boolean {
  return a.length === b.length && a.every((token, i) => token === b[i]);
}
