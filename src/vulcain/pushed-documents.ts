import type { Http2Session } from 'node:http2';
import type { Relation } from './vulcain-document';

/**
 * How a page learns the links of the documents it pushed, so that it can push the next level itself: a
 * pushed stream cannot push (RFC 9113 §8.4), so every promise must be made on the page's stream, before its
 * headers. The page registers, per connection and pushed path, a waiter; the pushed request's interceptor,
 * when its handler returned its document, hands its relations to the waiter instead of linking them.
 * Per connection: the connection's diary never pushes one path twice at once, so a path names one push.
 */
const waiters = new WeakMap<Http2Session, Map<string, (relations: Map<string, Relation> | undefined) => void>>();

/** Resolves with the relations the pushed request for `path` found, or undefined after `timeoutMs`. */
export function awaitPushedDocument(session: Http2Session, path: string, timeoutMs: number): Promise<Map<string, Relation> | undefined> {
  let byPath = waiters.get(session);
  if (!byPath) waiters.set(session, (byPath = new Map()));
  const registry = byPath;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (registry.get(path) === settle) registry.delete(path);
      resolve(undefined);
    }, timeoutMs);
    const settle = (relations: Map<string, Relation> | undefined) => {
      clearTimeout(timer);
      resolve(relations);
    };
    registry.set(path, settle);
  });
}

/** For a pushed request: gives its relations to the page waiting for them; false when none waits (any more). */
export function handOverPushedDocument(session: Http2Session | undefined, path: string, relations: Map<string, Relation> | undefined): boolean {
  const byPath = session && waiters.get(session);
  const waiter = byPath?.get(path);
  if (!waiter) return false;
  byPath!.delete(path);
  waiter(relations);
  return true;
}

/**
 * For the dispatcher: a pushed request that ends without handing over its document (a guard denied it, its
 * handler failed, it returned no JSON) releases the page waiting for it when its response closes.
 */
export function releaseWaiterOnClose(session: Http2Session | undefined, path: string, response: NodeJS.EventEmitter): void {
  if (!session || !waiters.get(session)?.has(path)) return;
  response.once('close', () => handOverPushedDocument(session, path, undefined));
}
