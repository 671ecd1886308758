import { AsyncLocalStorage } from 'node:async_hooks';
import { constants as h2, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { PromisedPush, PushConnection } from '../connection/push-connections';
import type { PushMonitor } from '../monitor/push.monitor';
import type { PushTracing } from '../monitor/push.tracing';
import { bodyBytes, type PushedRequestDispatcher } from './pushed-request.dispatcher';

/**
 * A client cancelling a push is a normal event: never let it become an unhandled 'error'. The request that
 * Node's compatibility layer builds for a dispatched push listens for its stream's 'error' (and ignores it);
 * this one covers a stream whose dispatch failed. The push's end is reported by its 'close' (a `cancelled`
 * event with the reset code), so nothing is logged here.
 */
function onPushedStreamError(): void {}

/**
 * The async context of code that runs outside any request, taken when this file loads. A pushed request
 * starts in it, as a client's request does (Node's 'stream' event), not in the async context of the page
 * that pushed it: the pushed request's code must not see the page's AsyncLocalStorage stores, and its
 * promises and timers must not keep the page's context alive. On Node 24 the inherited context also cost
 * about a fifth of the server CPU of a page that pushes Nest handlers: bench/CHANGES.md.
 */
const outsideAnyRequest = AsyncLocalStorage.snapshot();

/**
 * The life of a promised stream after its PUSH_PROMISE: its request is dispatched through Fastify, a
 * handler that never answers is cut off after `pushTimeoutMs`, and its end is reported exactly once:
 * completed, cancelled (the client reset it or the connection went) or failed. A push costs one 'close'
 * listener; the timeout is one timer per connection, armed for the oldest push still waiting.
 */
export class PromisedStreamServer {
  constructor(
    private readonly dispatcher: PushedRequestDispatcher,
    private readonly monitor: PushMonitor,
    private readonly pushTimeoutMs: number,
    private readonly tracing: PushTracing,
  ) {}

  /** Counted from the promise on, so pushes issued in one tick cannot overshoot the client's limit. */
  promised(push: PromisedPush): void {
    push.connection.open.add(push);
  }

  /** Node could not open the promised stream (the callback of `pushStream` had an error). */
  notOpened(push: PromisedPush, error: Error): void {
    push.trace = undefined;
    push.connection.open.delete(push);
    push.connection.forget(push.key);
    this.monitor.failed(push.url, error.message);
  }

  /** `headers` as `pushStream()` hands them back; `sent` the same headers as the module built them. */
  serve(push: PromisedPush, pushStream: ServerHttp2Stream, headers: OutgoingHttpHeaders, sent: OutgoingHttpHeaders): void {
    outsideAnyRequest(() => this.start(push, pushStream, headers, sent));
  }

  private start(push: PromisedPush, pushStream: ServerHttp2Stream, headers: OutgoingHttpHeaders, sent: OutgoingHttpHeaders): void {
    push.stream = pushStream;
    pushStream.on('close', () => this.closed(push));
    if (this.pushTimeoutMs > 0 && push.connection.sweep === undefined) this.armSweep(push.connection, this.pushTimeoutMs);
    try {
      // The request Node's compatibility layer builds listens for the stream's 'error' from here on.
      push.response = this.dispatch(push, pushStream, headers, sent);
    } catch (error) {
      this.fail(push, (error as Error).message, h2.NGHTTP2_INTERNAL_ERROR, (error as Error).constructor?.name ?? 'Error');
    }
  }

  /**
   * In a method of its own: a closure over `pushStream` made in `start` would share its scope with the
   * 'close' listener, which would then hold the stream (see `closed`).
   */
  private dispatch(push: PromisedPush, pushStream: ServerHttp2Stream, headers: OutgoingHttpHeaders, sent: OutgoingHttpHeaders) {
    return this.tracing.dispatch(push, headers, () => this.dispatcher.dispatch(pushStream, headers, sent));
  }

  private closed(push: PromisedPush): void {
    push.connection.open.delete(push);
    const stream = push.stream!;
    const response = push.response;
    // An ended push holds nothing of its request. V8 comes to allocate a stream's listener table in the old
    // generation (allocation-site pretenuring), where it outlives the stream until the next full GC, and
    // with it the 'close' listener that holds this push: through the push, the request's objects survived
    // every scavenge until then, and V8 pretenured those too (pushed static files: bench/CHANGES.md).
    push.stream = undefined;
    push.response = undefined;
    if (push.settled) return;
    push.settled = true;
    if (response?.writableEnded && stream.rstCode === h2.NGHTTP2_NO_ERROR) {
      push.connection.allowance.ended(false);
      const status = Number(stream.sentHeaders?.[':status'] ?? response.statusCode);
      this.monitor.completed(push.url, status, bodyBytes(stream), push.started);
      this.tracing.completed(push, status);
    } else {
      push.connection.allowance.ended(true);
      push.connection.forget(push.key);
      push.counts.cancelled++;
      const code = stream.rstCode ?? h2.NGHTTP2_CANCEL;
      this.monitor.cancelled(push.url, code);
      this.tracing.cancelled(push, code);
    }
  }

  /** `type`: the span's `error.type` (the thrown error's class, or `timeout`). */
  private fail(push: PromisedPush, error: string, code: number, type: string): void {
    push.settled = true;
    push.connection.forget(push.key);
    this.monitor.failed(push.url, error);
    this.tracing.failed(push, type, error);
    const stream = push.stream!;
    if (stream.listenerCount('error') === 0) stream.on('error', onPushedStreamError);
    if (!stream.destroyed) stream.close(code);
  }

  private armSweep(connection: PushConnection, delayMs: number): void {
    connection.sweep = setTimeout(() => this.sweep(connection), delayMs).unref();
  }

  /**
   * Cuts off the handlers that have not answered within `pushTimeoutMs` (a slow client reading a large
   * body is flow control's job) and re-arms for the oldest one still waiting. Open pushes are in promise
   * order, so the first one not yet due gives the next deadline.
   */
  private sweep(connection: PushConnection): void {
    connection.sweep = undefined;
    const now = performance.now();
    for (const push of connection.open) {
      const stream = push.stream;
      if (push.settled || !stream || stream.closed || stream.headersSent) continue;
      const due = push.started + this.pushTimeoutMs - now;
      if (due > 0) {
        this.armSweep(connection, due);
        return;
      }
      this.fail(push, `not finished after pushTimeoutMs (${this.pushTimeoutMs} ms)`, h2.NGHTTP2_CANCEL, 'timeout');
    }
  }
}
