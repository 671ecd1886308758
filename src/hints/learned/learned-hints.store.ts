/** The bounds of a LearnedHintsStore; every one is a hard cap. */
export interface LearnedHintsLimits {
  /** Most pages remembered; the least recently used one leaves first. */
  readonly maxPaths: number;
  /** Most links kept for one page (the first ones of its response). */
  readonly maxLinksPerPath: number;
  /** Most bytes of keys and links held in all: the least recently used pages leave until it fits. */
  readonly maxBytes: number;
}

interface Entry {
  readonly links: readonly string[];
  readonly bytes: number;
}

const NOTHING_LEARNED: readonly string[] = Object.freeze([]);

/**
 * What each page's latest response ended with: its preload (and preconnect) links, keyed by page. A
 * bounded LRU map: lookups and updates are O(1) (a Map keeps insertion order, so the first key is the
 * least recently used one), and neither the number of pages nor the bytes can pass the limits, however
 * many distinct paths clients ask for. Pure logic: no Node, Nest or HTTP here.
 */
export class LearnedHintsStore {
  private readonly entries = new Map<string, Entry>();
  private heldBytes = 0;
  /** The most recently used key: a page asked for again and again needs no reordering. */
  private newest: string | undefined;

  constructor(private readonly limits: LearnedHintsLimits) {}

  /** Pages remembered. */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes of keys and links held (string lengths: header values are ASCII). */
  get bytes(): number {
    return this.heldBytes;
  }

  /** The links learned for `key`, which becomes the most recently used page; undefined when none. */
  get(key: string): readonly string[] | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (key !== this.newest) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      this.newest = key;
    }
    return entry.links;
  }

  /**
   * Replaces what was learned for `key` by `links` (duplicates dropped, capped by maxLinksPerPath, then
   * by maxBytes): the latest response is what counts, so a link it no longer has is no longer hinted. No
   * links forgets the page. Returns what is now remembered for it.
   */
  learn(key: string, links: readonly string[]): readonly string[] {
    const kept = new Set<string>();
    let bytes = key.length;
    for (const link of links) {
      if (kept.size >= this.limits.maxLinksPerPath || bytes + link.length > this.limits.maxBytes) break;
      if (kept.has(link)) continue;
      kept.add(link);
      bytes += link.length;
    }
    if (kept.size === 0) {
      this.forget(key);
      return NOTHING_LEARNED;
    }
    const previous = this.entries.get(key);
    const learned = [...kept];
    if (previous !== undefined && sameLinks(previous.links, learned)) {
      this.get(key); // unchanged: only its recency moves
      return previous.links;
    }
    this.forget(key);
    const entry: Entry = { links: Object.freeze(learned), bytes };
    this.entries.set(key, entry);
    this.newest = key;
    this.heldBytes += bytes;
    this.evict();
    return entry.links;
  }

  /** Forgets what was learned for `key`. */
  forget(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.heldBytes -= entry.bytes;
  }

  /** Drops the least recently used pages until both caps hold. */
  private evict(): void {
    while (this.entries.size > this.limits.maxPaths || this.heldBytes > this.limits.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.forget(oldest);
    }
  }
}

function sameLinks(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((link, i) => link === b[i]);
}
