import { Inject, Injectable, Logger } from '@nestjs/common';
import { constants as h2, type Http2Session, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { CREDENTIAL_HEADERS, RESOLVED_PUSH_OPTIONS } from './push.constants';
import { PushAfterResponseError, PushValidationError } from './push.errors';
import type { PushContext } from './push-context';
import type { ResolvedPushOptions } from './push-module-options.interface';
import type { PushOutcome } from './push-outcome';
import type { NormalizedPush } from './push-resource.interface';
import { formatAuthority, parseAuthority } from './push-validation';
import type { PushedRequestDispatcher } from './pushed-request.dispatcher';

/** Where a push goes, once the current request's scheme and authority filled in what the caller left out. */
interface PushTarget {
  readonly scheme: string;
  readonly authority: string;
  /** True when the push goes to the client's own authority: only then are credentials copied. */
  readonly sameAuthority: boolean;
}

/**
 * Issues PUSH_PROMISE frames. Every decision a push needs is made here, in this order: errors of the
 * application (too late, unknown authority) throw whatever the client does; then what the client or the
 * limits decide (HTTP/1.1, push disabled, pushed request, duplicate, caps) skips the push quietly.
 */
@Injectable()
export class PushIssuer {
  private readonly logger = new Logger('PushModule');
  /** Pushed streams still open per session, to respect the client's SETTINGS_MAX_CONCURRENT_STREAMS. */
  private readonly openPushes = new WeakMap<Http2Session, number>();
  private dispatcher: PushedRequestDispatcher | undefined;

  constructor(@Inject(RESOLVED_PUSH_OPTIONS) private readonly options: ResolvedPushOptions) {}

  useDispatcher(dispatcher: PushedRequestDispatcher): void {
    this.dispatcher = dispatcher;
  }

  /** False until the Fastify hooks are installed (no HTTP app, or not Fastify): pushes then do nothing. */
  get active(): boolean {
    return this.dispatcher !== undefined;
  }

  /**
   * Promises `push` on the context's stream and records the outcome on the context. Throws for the
   * application's errors; every other reason not to push is an outcome.
   */
  issue(context: PushContext, push: NormalizedPush): PushOutcome {
    if (context.responseStarted) throw new PushAfterResponseError(push.path);
    const target = this.resolveTarget(context, push);
    const outcome = this.promise(context, push, target);
    context.record(push, outcome);
    return outcome;
  }

  private promise(context: PushContext, push: NormalizedPush, target: PushTarget): PushOutcome {
    const stream = context.stream;
    const skip = (outcome: PushOutcome, reason: string): PushOutcome => {
      this.logger.debug(`push ${push.path} not promised (${outcome}): ${reason}`);
      return outcome;
    };
    if (!stream || !this.dispatcher) return skip('http1', 'not an HTTP/2 request');
    if (context.pushed) return skip('nested', 'pushed requests cannot push');
    if (stream.destroyed || stream.closed) return skip('closed', 'the client closed the stream');
    if (!stream.pushAllowed) return skip('disabled', 'the client disabled push');
    if (context.promisedCount >= this.options.maxPushesPerRequest) {
      return skip('limit', `maxPushesPerRequest (${this.options.maxPushesPerRequest}) reached`);
    }
    const path = push.qs ? `${push.path}?${push.qs}` : push.path;
    const key = `${push.method} ${target.scheme}://${target.authority}${path}`;
    if (context.isPromised(key)) return skip('duplicate', 'already promised for this response');
    const session = stream.session;
    if (!session) return skip('closed', 'the connection is closed');
    const open = this.openPushes.get(session) ?? 0;
    if (open >= (session.remoteSettings.maxConcurrentStreams ?? Infinity)) {
      return skip('limit', 'the client\'s SETTINGS_MAX_CONCURRENT_STREAMS reached');
    }
    const headers = this.requestHeaders(context, push, target, path);
    // Counted from the promise on, so pushes issued in one tick cannot overshoot the client's limit.
    this.openPushes.set(session, open + 1);
    try {
      stream.pushStream(headers, (error, pushStream, promisedHeaders) => {
        if (error) {
          this.release(session);
          this.logger.debug(`push ${path} failed: ${error.message}`);
          return;
        }
        this.watch(session, pushStream, path);
        this.serve(pushStream, promisedHeaders, path);
      });
    } catch (error) {
      // The connection went away between our checks and the frame (GOAWAY, RST, settings change).
      this.release(session);
      return skip('failed', (error as Error).message);
    }
    context.markPromised(key);
    return 'promised';
  }

  private resolveTarget(context: PushContext, push: NormalizedPush): PushTarget {
    const clientHeaders = context.request.raw.headers;
    const currentScheme = (clientHeaders[':scheme'] as string | undefined) ?? context.request.protocol;
    const current = parseAuthority(clientHeaders[':authority'] ?? clientHeaders.host);
    const scheme = push.scheme ?? currentScheme;
    const host = push.host ?? current?.host;
    const port = push.port ?? current?.port;
    if (host === undefined) {
      throw new PushValidationError(
        'ERR_PUSH_UNKNOWN_AUTHORITY',
        `Cannot push ${push.path}: the request has no authority (":authority"/"host"); give the "host" option.`,
      );
    }
    const authority = formatAuthority(host, port, scheme);
    const sameAuthority = current !== undefined && authority === formatAuthority(current.host, current.port, currentScheme);
    if (!sameAuthority && !this.options.authorities.some((a) => a.host === host && (a.port === undefined || a.port === port))) {
      throw new PushValidationError(
        'ERR_PUSH_UNKNOWN_AUTHORITY',
        `Cannot push ${push.path} for "${authority}": the server only pushes for the current request's authority ` +
          'unless PushModule.forRoot({ authorities: [...] }) lists others.',
      );
    }
    return { scheme, authority, sameAuthority };
  }

  private requestHeaders(context: PushContext, push: NormalizedPush, target: PushTarget, path: string): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {
      ':method': push.method,
      ':scheme': target.scheme,
      ':authority': target.authority,
      ':path': path,
    };
    const clientHeaders = context.request.raw.headers;
    for (const name of this.options.inheritHeaders) {
      if (!target.sameAuthority && CREDENTIAL_HEADERS.has(name)) continue;
      const value = clientHeaders[name];
      if (value !== undefined) headers[name] = value;
    }
    return Object.assign(headers, push.headers);
  }

  private release(session: Http2Session): void {
    this.openPushes.set(session, (this.openPushes.get(session) ?? 1) - 1);
  }

  private watch(session: Http2Session, pushStream: ServerHttp2Stream, path: string): void {
    pushStream.once('close', () => {
      this.release(session);
      if (pushStream.rstCode !== undefined && pushStream.rstCode !== h2.NGHTTP2_NO_ERROR) {
        this.logger.debug(`push ${path} reset (code ${pushStream.rstCode})`);
      }
    });
    // A client cancelling a push is a normal event: never let it become an unhandled 'error'.
    pushStream.on('error', (error) => this.logger.debug(`push ${path} stream error: ${error.message}`));
  }

  private serve(pushStream: ServerHttp2Stream, headers: OutgoingHttpHeaders, path: string): void {
    try {
      this.dispatcher!.dispatch(pushStream, headers);
    } catch (error) {
      this.logger.debug(`push ${path} could not be dispatched: ${(error as Error).message}`);
      if (!pushStream.destroyed) pushStream.close(h2.NGHTTP2_INTERNAL_ERROR);
    }
  }
}
