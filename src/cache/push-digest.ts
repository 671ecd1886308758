import { createHash } from 'node:crypto';

const HASHES = 3;

/**
 * A small Bloom filter of the resources already pushed to one client (h2o's "casper" idea), kept in a
 * cookie. False positives only mean a push is skipped; there are no false negatives. Any value that is
 * not exactly a filter of the configured size (corrupt, hostile, another version) reads as empty.
 */
export class PushDigest {
  private changed = false;

  private constructor(private readonly bits: Uint8Array) {}

  static empty(sizeBits: number): PushDigest {
    return new PushDigest(new Uint8Array(sizeBits / 8));
  }

  static parse(value: string | undefined, sizeBits: number): PushDigest {
    const bytes = sizeBits / 8;
    if (value === undefined || value.length !== Math.ceil((bytes * 4) / 3) || !/^[A-Za-z0-9_-]+$/.test(value)) {
      return PushDigest.empty(sizeBits);
    }
    const decoded = Buffer.from(value, 'base64url');
    return decoded.length === bytes ? new PushDigest(new Uint8Array(decoded)) : PushDigest.empty(sizeBits);
  }

  has(key: string): boolean {
    return this.positions(key).every((bit) => (this.bits[bit >> 3] & (1 << (bit & 7))) !== 0);
  }

  add(key: string): void {
    for (const bit of this.positions(key)) this.bits[bit >> 3] |= 1 << (bit & 7);
    this.changed = true;
  }

  /** True when something was added since parsing: the cookie needs writing. */
  get dirty(): boolean {
    return this.changed;
  }

  toString(): string {
    return Buffer.from(this.bits).toString('base64url');
  }

  private positions(key: string): number[] {
    const hash = createHash('sha256').update(key).digest();
    const size = this.bits.length * 8;
    return Array.from({ length: HASHES }, (_, i) => hash.readUInt32BE(i * 4) % size);
  }
}

/** The value of cookie `name` in a `cookie` request header, or undefined. */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (!text) return undefined;
  for (const pair of text.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
