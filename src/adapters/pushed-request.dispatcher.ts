import { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { PUSHED_REQUEST } from '../push.constants';

/** Fastify's own entry point for a request: router, hooks, handler. */
export type FastifyRouting = (request: Http2ServerRequest, response: Http2ServerResponse) => void;

/** Counts the body bytes written, for the push's `completed` event. Fastify writes through write/end. */
export class PushedResponse extends Http2ServerResponse {
  bytesSent = 0;

  override write(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
    this.bytesSent += typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8') : chunk.byteLength;
    return (super.write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }
}

/**
 * Serves a promised stream as if the client had sent its request. Node never emits 'stream' or 'request'
 * for a stream the server pushes itself, so we build the request/response pair its compatibility layer
 * would have built and hand it to Fastify's router: Fastify hooks, Nest middleware, guards, pipes,
 * interceptors, exception filters, the handler and Fastify plugins such as @fastify/static all run for it.
 */
export class PushedRequestDispatcher {
  constructor(private readonly routing: FastifyRouting) {}

  /** `headers` are the promised request's headers, as `pushStream()` hands them back. */
  dispatch(stream: ServerHttp2Stream, headers: OutgoingHttpHeaders): PushedResponse {
    const rawHeaders: string[] = [];
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (Array.isArray(value)) for (const item of value) rawHeaders.push(name, item);
      else if (value !== undefined) rawHeaders.push(name, String(value));
    }
    const request = new Http2ServerRequest(stream, headers as IncomingHttpHeaders, {}, rawHeaders);
    (request as Http2ServerRequest & { [PUSHED_REQUEST]: boolean })[PUSHED_REQUEST] = true;
    const response = new PushedResponse(stream);
    this.routing(request, response);
    return response;
  }
}
