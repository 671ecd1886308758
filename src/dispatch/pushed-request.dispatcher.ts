import { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream, ServerStreamResponseOptions } from 'node:http2';
import { releaseWaiterOnClose } from '../vulcain/pushed-documents';

/** Fastify's own entry point for a request: router, hooks, handler. */
export type FastifyRouting = (request: Http2ServerRequest, response: Http2ServerResponse) => void;

/** Body bytes written so far, kept only for a pushed stream whose response has no `content-length`. */
const counted = new WeakMap<ServerHttp2Stream, number>();

/** The promised streams this module serves: their `respond` may end on the last DATA frame. */
const dispatched = new WeakSet<ServerHttp2Stream>();

/**
 * Node's compatibility layer always asks to wait for trailers, so after a response's body nghttp2 calls back
 * into JavaScript, which ends the stream with an extra empty DATA frame. A pushed response that declares
 * no `trailer` ends on its last DATA frame instead. Done in ServerHttp2Stream's own `respond`, wrapped once
 * on its prototype (the class is not exported): a property set on each pushed stream instead would give
 * pushed and client streams different shapes, and every call site in Node's http2 code that sees both
 * slows down (measured: about 4 % of a pushed page's server CPU, bench/CHANGES.md). Streams this module
 * does not serve are passed through untouched.
 */
function skipTrailersOfPushes(stream: ServerHttp2Stream): void {
  const prototype = Object.getPrototypeOf(stream) as ServerHttp2Stream;
  if (wrapped.has(prototype)) return;
  wrapped.add(prototype);
  const nodeRespond = prototype.respond;
  prototype.respond = function respond(this: ServerHttp2Stream, headers?: OutgoingHttpHeaders, options?: ServerStreamResponseOptions): void {
    if (options?.waitForTrailers === true && dispatched.has(this)) {
      if (headers?.trailer === undefined) options.waitForTrailers = false;
      if (headers?.['content-length'] === undefined) countBody(this);
    }
    nodeRespond.call(this, headers, options);
  };
}
const wrapped = new WeakSet<object>();

/** A response without `content-length` has its body bytes counted for the `completed` event (rare: an own `write`). */
function countBody(stream: ServerHttp2Stream): void {
  counted.set(stream, 0);
  const write = stream.write;
  stream.write = function countingWrite(this: ServerHttp2Stream, chunk: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean {
    const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : chunk.byteLength;
    counted.set(this, counted.get(this)! + bytes);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, encoding, callback);
  } as ServerHttp2Stream['write'];
}

/** Body bytes a pushed stream sent, once its response ended: its `content-length`, or the count. */
export function bodyBytes(stream: ServerHttp2Stream): number {
  const bytes = counted.get(stream);
  if (bytes !== undefined) return bytes;
  const status = Number(stream.sentHeaders[':status']);
  // A HEAD push was promised with END_STREAM (Node's `headRequest`, set by pushStream): no body.
  const head = (stream as ServerHttp2Stream & { headRequest?: boolean }).headRequest === true;
  return head || status === 204 || status === 304 ? 0 : Number(stream.sentHeaders['content-length']);
}

/**
 * Serves a promised stream as if the client had sent its request. Node never emits 'stream' or 'request'
 * for a stream the server pushes itself, so we build the request/response pair its compatibility layer
 * would have built and hand it to Fastify's router: Fastify hooks, Nest middleware, guards, pipes,
 * interceptors, exception filters, the handler and Fastify plugins such as @fastify/static all run for it.
 */
export class PushedRequestDispatcher {
  constructor(private readonly routing: FastifyRouting) {}

  /**
   * `headers` are the promised request's headers as `pushStream()` hands them back (a null-prototype copy,
   * like a client request's); `sent` the same headers as the module built them, which are quicker to walk.
   */
  dispatch(stream: ServerHttp2Stream, headers: OutgoingHttpHeaders, sent: OutgoingHttpHeaders): Http2ServerResponse {
    const rawHeaders: string[] = [];
    for (const name in sent) {
      const value = sent[name];
      if (Array.isArray(value)) for (const item of value) rawHeaders.push(name, item);
      else if (value !== undefined) rawHeaders.push(name, String(value));
    }
    skipTrailersOfPushes(stream);
    dispatched.add(stream);
    // Marked pushed by its stream's even ID (isPushedRequest): nothing is added to Node's objects.
    const request = new Http2ServerRequest(stream, headers as IncomingHttpHeaders, {}, rawHeaders);
    const response = new Http2ServerResponse(stream);
    releaseWaiterOnClose(stream.session, sent[':path'] as string, response);
    this.routing(request, response);
    return response;
  }
}
