import { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream, ServerStreamResponseOptions } from 'node:http2';
import { releaseWaiterOnClose } from '../vulcain/pushed-documents';

/** Fastify's own entry point for a request: router, hooks, handler. */
export type FastifyRouting = (request: Http2ServerRequest, response: Http2ServerResponse) => void;

/** Body bytes written so far, kept only on a pushed stream whose response has no `content-length`. */
const BODY_BYTES = Symbol('nestjs-http2-push:body-bytes');

type PushedStream = ServerHttp2Stream & { [BODY_BYTES]?: number };

/** Node's own `respond` (ServerHttp2Stream's), taken from the first pushed stream: the class is not exported. */
let nodeRespond: ServerHttp2Stream['respond'];

/**
 * `respond` of a pushed stream (an own property: the response object stays Node's own class, as for client
 * requests). Node's compatibility layer always asks to wait for trailers, so after the body nghttp2 calls
 * back into JavaScript, which ends the stream with an extra empty DATA frame; a pushed response that
 * declares no `trailer` ends on its last DATA frame instead. A response without `content-length` has its
 * body bytes counted for the `completed` event.
 */
function respondPushed(this: PushedStream, headers: OutgoingHttpHeaders, options?: ServerStreamResponseOptions): void {
  if (options?.waitForTrailers && headers.trailer === undefined) options.waitForTrailers = false;
  if (headers['content-length'] === undefined) {
    this[BODY_BYTES] = 0;
    this.write = countingWrite;
  }
  nodeRespond.call(this, headers, options);
}

function countingWrite(this: PushedStream, chunk: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean {
  this[BODY_BYTES]! += typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : chunk.byteLength;
  return (Object.getPrototypeOf(this).write as (...args: unknown[]) => boolean).call(this, chunk, encoding, callback);
}

/** Body bytes a pushed stream sent, once its response ended: its `content-length`, or the count. */
export function bodyBytes(stream: ServerHttp2Stream): number {
  const counted = (stream as PushedStream)[BODY_BYTES];
  if (counted !== undefined) return counted;
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
    nodeRespond ??= stream.respond;
    (stream as PushedStream).respond = respondPushed;
    // Known as pushed by its stream's even ID (isPushedRequest): nothing is added to Node's request object.
    const request = new Http2ServerRequest(stream, headers as IncomingHttpHeaders, {}, rawHeaders);
    const response = new Http2ServerResponse(stream);
    releaseWaiterOnClose(stream.session, sent[':path'] as string, response);
    this.routing(request, response);
    return response;
  }
}
