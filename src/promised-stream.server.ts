import { Logger } from '@nestjs/common';
import { constants as h2, type Http2Session, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { PushConnections } from './push-connections';
import type { PushContext } from './push-context';
import type { PushMonitor } from './push.monitor';
import type { PushedRequestDispatcher, PushedResponse } from './pushed-request.dispatcher';

/** What the issuer knows of a push it promised. */
export interface PromisedPush {
  readonly context: PushContext;
  readonly session: Http2Session;
  /** Diary key: method, scheme, authority, path and query. */
  readonly key: string;
  /** Path and query, for events. */
  readonly url: string;
  /** `performance.now()` when the push was promised. */
  readonly started: number;
}

/**
 * The life of a promised stream after its PUSH_PROMISE: its request is dispatched through Fastify, a
 * handler that never answers is cut off after `pushTimeoutMs`, and its end is reported exactly once:
 * completed, cancelled (the client reset it or the connection went) or failed.
 */
export class PromisedStreamServer {
  private readonly logger = new Logger('PushModule');

  constructor(
    private readonly dispatcher: PushedRequestDispatcher,
    private readonly connections: PushConnections,
    private readonly monitor: PushMonitor,
    private readonly pushTimeoutMs: number,
  ) {}

  serve(push: PromisedPush, pushStream: ServerHttp2Stream, headers: OutgoingHttpHeaders): void {
    const { context, session, key, url, started } = push;
    let response: PushedResponse | undefined;
    let settled = false;
    const timeout = this.pushTimeoutMs > 0
      ? setTimeout(() => {
          // Only a handler that has not answered: a slow client reading a large body is flow control's job.
          if (settled || pushStream.closed || pushStream.headersSent) return;
          settled = true;
          this.connections.forget(session, key);
          this.monitor.emit({ type: 'failed', path: url, error: `not finished after pushTimeoutMs (${this.pushTimeoutMs} ms)` });
          pushStream.close(h2.NGHTTP2_CANCEL);
        }, this.pushTimeoutMs).unref()
      : undefined;
    pushStream.once('close', () => {
      clearTimeout(timeout);
      this.connections.closed(session);
      if (settled) return;
      if (response?.writableEnded && pushStream.rstCode === h2.NGHTTP2_NO_ERROR) {
        const status = Number(pushStream.sentHeaders?.[':status'] ?? response.statusCode);
        this.monitor.emit({ type: 'completed', path: url, status, bytes: response.bytesSent, durationMs: performance.now() - started });
      } else {
        this.connections.forget(session, key);
        context.cancelledCount++;
        this.monitor.emit({ type: 'cancelled', path: url, code: pushStream.rstCode ?? h2.NGHTTP2_CANCEL });
      }
    });
    // A client cancelling a push is a normal event: never let it become an unhandled 'error'.
    pushStream.on('error', (error) => this.logger.debug(`push ${url} stream error: ${error.message}`));
    try {
      response = this.dispatcher.dispatch(pushStream, headers);
    } catch (error) {
      settled = true;
      this.connections.forget(session, key);
      this.monitor.emit({ type: 'failed', path: url, error: (error as Error).message });
      if (!pushStream.destroyed) pushStream.close(h2.NGHTTP2_INTERNAL_ERROR);
    }
  }
}
