import { Inject, Injectable } from '@nestjs/common';
import type { OutgoingHttpHeaders } from 'node:http2';
import { CREDENTIAL_HEADERS, RESOLVED_PUSH_OPTIONS } from '../push.constants';
import { PushAfterResponseError, PushValidationError } from './push.errors';
import { PromisedPush, PushConnections } from '../connection/push-connections';
import { DEFAULT_CONNECTION_PUSH_BUDGET } from '../connection/push-allowance';
import { liftTransportResetLimit, PUSH_RESET_ROOM } from '../connection/transport-reset-limit';
import { PushMonitor } from '../monitor/push.monitor';
import { PushTracing } from '../monitor/push.tracing';
import { DigestCookie } from '../cache/push-digest.cookie';
import type { ResolvedPushOptions } from '../module/push-module-options.interface';
import type { PushOutcome } from './push-outcome';
import type { NormalizedPush } from './push-resource.interface';
import { formatAuthority, headerListSize } from './push-validation';
import { PromisedStreamServer } from '../dispatch/promised-stream.server';
import { crossOriginHint } from '../hints/preload-link';
import type { PushedRequestDispatcher } from '../dispatch/pushed-request.dispatcher';
import type { PushContext } from '../context/push-context';

/** What the issuer takes from the HTTP adapter (adapters/push-adapter.ts), which it does not otherwise know. */
export interface IssuerAdapter {
  /** The PushContext of a request being handled, created on first use. Called without `this`. */
  readonly contextOf: (request: object, reply: object) => PushContext;
  /** Serves promised streams through the adapter's router; undefined where it cannot push (hints mode). */
  readonly dispatcher: PushedRequestDispatcher | undefined;
  /** The HTTP server pushes go out on, where the adapter can push: its transport's reset limit may be lifted. */
  readonly server?: unknown;
}

/** Where a push goes, once the current request's scheme and authority filled in what the caller left out. */
interface PushTarget {
  readonly scheme: string;
  readonly authority: string;
  /** True when the push goes to the client's own origin (scheme and authority): only then are credentials copied. */
  readonly sameOrigin: boolean;
}

/** Node refuses to send a larger header block (maxSendHeaderBlockLength, 64 KiB), resetting the page's stream. */
const MAX_HEADER_BLOCK = 60_000;

/**
 * Issues PUSH_PROMISE frames. Every decision a push needs is made here, in this order: errors of the
 * application (too late, unknown authority) throw whatever the client does; then what the client or the
 * limits decide (HTTP/1.1, push disabled, pushed request, duplicate, caps) skips the push quietly. A
 * promised stream is then PromisedStreamServer's.
 */
@Injectable()
export class PushIssuer {
  private connections: PushConnections;
  private streams: PromisedStreamServer | undefined;
  private readonly hints: boolean;

  constructor(
    @Inject(RESOLVED_PUSH_OPTIONS) private readonly options: ResolvedPushOptions,
    private readonly monitor: PushMonitor,
    private readonly digest: DigestCookie,
    private readonly tracing: PushTracing,
  ) {
    this.connections = new PushConnections(options.diarySize, options.connectionPushBudget ?? DEFAULT_CONNECTION_PUSH_BUDGET);
    this.hints = options.fallback.earlyHints || options.fallback.linkHeader;
  }

  /** The PushContext of a request being handled, created on first use; the adapter's way. */
  contextOf: IssuerAdapter['contextOf'] = notAttached;

  /** Uses `adapter` from now on: its requests' contexts, and its router for pushed requests if it can push. */
  attach(adapter: IssuerAdapter): void {
    this.contextOf = adapter.contextOf;
    this.active = true;
    if (!adapter.dispatcher) return;
    this.streams = new PromisedStreamServer(adapter.dispatcher, this.monitor, this.options.pushTimeoutMs, this.tracing);
    // The default budget: room for a reset per push where the transport's bucket could grow, else a share of it.
    if (this.options.connectionPushBudget === undefined && liftTransportResetLimit(adapter.server)) {
      this.connections = new PushConnections(this.options.diarySize, PUSH_RESET_ROOM);
    }
  }

  /** False until an adapter is attached (no HTTP app, or an adapter the module does not support): pushes then do nothing. */
  active = false;

  /**
   * Promises `push` on the context's stream and records the outcome on the context. Throws for the
   * application's errors; every other reason not to push is an outcome.
   */
  issue(context: PushContext, push: NormalizedPush): PushOutcome {
    if (context.responseStarted) throw new PushAfterResponseError(push.path);
    const target = this.resolveTarget(context, push);
    const outcome = this.promise(context, push, target);
    if (context.record(linkOf(push, target), outcome, this.hints)) this.monitor.countHints(1);
    if (outcome !== 'promised' && outcome !== 'failed') this.monitor.refused(push.url, outcome);
    return outcome;
  }

  private promise(context: PushContext, push: NormalizedPush, target: PushTarget): PushOutcome {
    const stream = context.stream;
    const streams = this.streams;
    if (!stream || !streams) return 'http1';
    if (context.pushed) return 'nested';
    // Node closes the session on the client's GOAWAY; a push attempt then would destroy the page's stream.
    if (stream.destroyed || stream.closed || !stream.session || stream.session.closed || stream.session.destroyed) return 'closed';
    if (!stream.pushAllowed) return 'disabled';
    const url = push.url;
    const key = `${push.method} ${target.scheme}://${target.authority}${url}`;
    if (context.isPromised(key)) return 'duplicate';
    const session = stream.session;
    const connection = this.connections.of(session);
    if (connection.wasPushed(key) || this.digest.has(context, push, url)) return 'cached';
    if (context.promisedCount >= this.options.maxPushesPerRequest) return 'limit';
    const concurrent = Math.min(session.remoteSettings.maxConcurrentStreams ?? Infinity, this.options.maxConcurrentPushesPerConnection);
    if (connection.open.size >= concurrent) return 'limit';
    const headers = this.requestHeaders(context, push, target, Math.min(session.remoteSettings.maxHeaderListSize ?? Infinity, MAX_HEADER_BLOCK));
    // Inherited cookies can be large: a block the client refuses would cost it the connection.
    if (!headers) return 'limit';
    const started = performance.now();
    const allowance = connection.allowance.take(started);
    if (allowance !== 'allowed') return allowance;
    const promised = new PromisedPush(context.counts, connection, key, url, started);
    this.tracing.capture(promised);
    streams.promised(promised);
    try {
      stream.pushStream(headers, (error, pushStream, promisedHeaders) => {
        if (error) streams.notOpened(promised, error);
        else streams.serve(promised, pushStream, promisedHeaders, headers);
      });
    } catch (error) {
      // The connection went away between our checks and the frame (GOAWAY, RST, settings change).
      streams.notOpened(promised, error as Error);
      return 'failed';
    }
    context.markPromised(key);
    connection.remember(key);
    this.digest.remember(context, push, url);
    this.monitor.promised(url, target.authority);
    return 'promised';
  }

  private resolveTarget(context: PushContext, push: NormalizedPush): PushTarget {
    const origin = context.origin;
    if (push.scheme === undefined && push.host === undefined && push.port === undefined && origin.authority !== undefined) {
      return origin as PushTarget;
    }
    const scheme = push.scheme ?? origin.scheme;
    const host = push.host ?? origin.host;
    const port = push.port ?? origin.port;
    if (host === undefined) {
      throw new PushValidationError(
        'ERR_PUSH_UNKNOWN_AUTHORITY',
        `Cannot push ${push.path}: the request has no authority (":authority"/"host"); give the "host" option.`,
      );
    }
    const authority = formatAuthority(host, port, scheme);
    const sameAuthority = authority === origin.authority;
    if (!sameAuthority && !this.options.authorities.some((a) => a.host === host && (a.port === undefined || a.port === port))) {
      throw new PushValidationError(
        'ERR_PUSH_UNKNOWN_AUTHORITY',
        `Cannot push ${push.path} for "${authority}": the server only pushes for the current request's authority ` +
          'unless PushModule.forRoot({ authorities: [...] }) lists others.',
      );
    }
    return { scheme, authority, sameOrigin: sameAuthority && scheme === origin.scheme };
  }

  /**
   * The promised request's headers: pseudo-headers, those inherited from the client's request, the given
   * ones. Undefined when their header list size (name + value + 32 per field, as HPACK counts) exceeds
   * `limit`.
   */
  private requestHeaders(context: PushContext, push: NormalizedPush, target: PushTarget, limit: number): OutgoingHttpHeaders | undefined {
    const headers: OutgoingHttpHeaders = {
      ':method': push.method,
      ':scheme': target.scheme,
      ':authority': target.authority,
      ':path': push.url,
    };
    let size = 4 * 32 + 7 + push.method.length + 7 + target.scheme.length + 10 + target.authority.length + 5 + push.url.length + push.headersSize;
    const clientHeaders = context.raw.headers;
    for (const name of this.options.inheritHeaders) {
      const value = clientHeaders[name];
      // A given header replaces the inherited one.
      if (value === undefined || push.headers[name] !== undefined || (!target.sameOrigin && CREDENTIAL_HEADERS.has(name))) continue;
      headers[name] = value;
      size += typeof value === 'string' ? name.length + value.length + 32 : headerListSize({ [name]: value });
    }
    if (size > limit) return undefined;
    return push.headersSize === 0 ? headers : Object.assign(headers, push.headers);
  }
}

/** The preload link of a push: relative on the current origin, a preconnect (and full-URL preload) on another. */
function linkOf(push: NormalizedPush, target: PushTarget): string | readonly string[] | undefined {
  if (push.link !== undefined || push.preload === undefined) return push.link;
  return target.sameOrigin ? `<${push.url}>${push.preload}` : crossOriginHint(`${target.scheme}://${target.authority}`, push.url, push.preload);
}

function notAttached(): never {
  throw new Error('PushModule has no HTTP adapter attached');
}
