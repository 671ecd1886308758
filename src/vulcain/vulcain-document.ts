import { formatPointer, WILDCARD, type Selector } from './vulcain-selectors';

/** Values of a document one request may visit while resolving its selectors: a bound on the work per request. */
export const MAX_VISITED_VALUES = 10_000;

/**
 * Links one request may preload, and their characters in all: each one becomes a push or a `Link` value,
 * and a response header block the client refuses (its SETTINGS_MAX_HEADER_LIST_SIZE) costs it the response.
 */
export const MAX_RELATIONS = 64;
export const MAX_RELATION_CHARACTERS = 4096;

/** A link found by a Preload selector, and what its own request should be asked (the rest of the selectors). */
export interface Relation {
  /** The string found in the document, as it was. */
  readonly link: string;
  /** Pointers left of the Preload selectors that went on through it (its push's `Preload`). */
  readonly preload: Set<string>;
  /** Pointers left of the Fields selectors that reached it (its push's `Fields`). */
  readonly fields: Set<string>;
}

/**
 * The links `preload` selects in `document`, in document order, once each, the first MAX_RELATIONS of them. A selector that meets a string
 * before its end has met a link to another resource: the rest of the selector is that resource's
 * (`/books/*\/author/name` meets `"/authors/1"` at `author`: `/name` is left for it). At its end a selector
 * takes the string there, or the strings of an array there; other values (numbers, objects) are no links.
 */
export function findRelations(document: unknown, preload: readonly Selector[], fields: readonly Selector[]): Map<string, Relation> {
  const relations = new Map<string, Relation>();
  const budget = { left: MAX_VISITED_VALUES };
  let characters = 0;
  for (const selector of preload) {
    walk(document, selector, 0, budget, (link, rest) => {
      let relation = relations.get(link);
      if (!relation) {
        if (relations.size >= MAX_RELATIONS || characters + link.length > MAX_RELATION_CHARACTERS) return;
        characters += link.length;
        relations.set(link, (relation = { link, preload: new Set(), fields: new Set() }));
      }
      // Nothing left: the resource itself was asked for ("" would ask for all of its links).
      if (rest.length > 0) relation.preload.add(formatPointer(rest));
    });
  }
  // Fields selectors that go through a preloaded link continue on its resource.
  for (const selector of fields) {
    walk(document, selector, 0, budget, (link, rest) => {
      if (rest.length > 0) relations.get(link)?.fields.add(formatPointer(rest));
    });
  }
  return relations;
}

function walk(value: unknown, selector: Selector, at: number, budget: { left: number }, found: (link: string, rest: Selector) => void): void {
  if (--budget.left < 0) return;
  if (typeof value === 'string') {
    found(value, selector.slice(at));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (at === selector.length) {
    // The selector ends on an array: each of its strings is a link.
    if (Array.isArray(value)) for (const item of value) if (typeof item === 'string' && --budget.left >= 0) found(item, []);
    return;
  }
  const token = selector[at];
  if (token === WILDCARD) {
    for (const item of Array.isArray(value) ? value : Object.values(value)) {
      if (budget.left <= 0) return;
      walk(item, selector, at + 1, budget, found);
    }
  } else if (Object.prototype.hasOwnProperty.call(value, token)) {
    walk((value as Record<string, unknown>)[token], selector, at + 1, budget, found);
  }
}

/** What Fields keeps of a value: everything (`true`), or per key (WILDCARD for every element or value). */
type FieldTree = true | Map<string | typeof WILDCARD, FieldTree>;

/**
 * `document` with only the fields `fields` selects (Vulcain's `Fields`): a selector keeps the value at its
 * end whole, and the path to it; `*` applies to every element of an array or value of an object; fields
 * that do not exist are ignored. A string met before a selector's end (a link) is kept as it is. Returns
 * `document` itself when there is nothing to trim, else a trimmed copy (the handler's object is not changed).
 */
export function trimFields(document: unknown, fields: readonly Selector[]): unknown {
  if (fields.length === 0) return document;
  let tree: FieldTree = new Map();
  for (const selector of fields) tree = addToTree(tree, selector, 0);
  const budget = { left: MAX_VISITED_VALUES };
  return trim(document, tree, budget);
}

function addToTree(tree: FieldTree, selector: Selector, at: number): FieldTree {
  if (tree === true) return true;
  if (at === selector.length) return true;
  const token = selector[at];
  tree.set(token, addToTree(tree.get(token) ?? new Map(), selector, at + 1));
  return tree;
}

function trim(value: unknown, tree: FieldTree, budget: { left: number }): unknown {
  if (tree === true || value === null || typeof value !== 'object' || --budget.left < 0) return value;
  // A value that serialises itself (Date, Buffer, a class with toJSON) is one field, not a document.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const every = tree.get(WILDCARD);
  // A field named exactly takes its own selectors, not the wildcard's (as Vulcain's gateway does).
  const subtreeOf = (key: string) => tree.get(key) ?? every;
  if (Array.isArray(value)) {
    if (every) return value.map((item, index) => trim(item, subtreeOf(String(index))!, budget));
    // Selected elements keep their index: the others up to the last selected one become null.
    const kept: unknown[] = [];
    value.forEach((item, index) => {
      const subtree = tree.get(String(index));
      if (subtree !== undefined) kept[index] = trim(item, subtree, budget);
    });
    return Array.from(kept, (item) => item ?? null);
  }
  const kept: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const subtree = subtreeOf(key);
    if (subtree !== undefined) kept[key] = trim((value as Record<string, unknown>)[key], subtree, budget);
  }
  return kept;
}
