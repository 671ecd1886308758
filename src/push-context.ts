import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerHttp2Stream } from 'node:http2';
import { isPushedRequest } from './is-pushed-request';

/**
 * What this module knows about one request being handled: its stream, whether it was itself pushed, and
 * which resources were promised for its response. Created per request by a Fastify hook and found again
 * through AsyncLocalStorage, so PushService stays a singleton.
 */
export class PushContext {
  /** The client's HTTP/2 stream; undefined over HTTP/1.1. */
  readonly stream: ServerHttp2Stream | undefined;
  /** Pushed requests cannot push again (RFC 9113 §8.4: no push on a pushed stream). */
  readonly pushed: boolean;
  /** De-duplication keys of the resources already promised (or skipped as duplicates) for this response. */
  private promisedKeys: Set<string> | undefined;

  constructor(
    readonly request: FastifyRequest,
    readonly reply: FastifyReply,
  ) {
    this.stream = (request.raw as { stream?: ServerHttp2Stream }).stream;
    this.pushed = isPushedRequest(request);
  }

  /** True once the response's headers went out: from then on, a push is an error. */
  get responseStarted(): boolean {
    return this.reply.raw.headersSent || this.reply.sent;
  }

  get promisedCount(): number {
    return this.promisedKeys?.size ?? 0;
  }

  /** Records a resource for this response; false when it was promised already. */
  claim(key: string): boolean {
    this.promisedKeys ??= new Set();
    if (this.promisedKeys.has(key)) return false;
    this.promisedKeys.add(key);
    return true;
  }
}
