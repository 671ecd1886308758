import { Inject, Injectable } from '@nestjs/common';
import type { OutgoingHttpHeaders } from 'node:http2';
import type { PromisedPush } from '../connection/push-connections';
import { OPENTELEMETRY_API } from '../push.constants';
import { INSTRUMENTATION_SCOPE, PACKAGE_VERSION, type OpenTelemetryApi } from './opentelemetry-api';
import { errorCodeName } from './push.telemetry';

type Span = ReturnType<OpenTelemetryApi['trace']['getActiveSpan']> & object;
type Tracer = ReturnType<OpenTelemetryApi['trace']['getTracer']>;

/** `host`, `[v6]`, optionally `:port`. */
const AUTHORITY = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/;

/**
 * A pushed request starts outside the page's async context (PromisedStreamServer), so an OpenTelemetry
 * instrumentation would see it as a request of its own, the root of a trace nobody asked for. Here each
 * pushed request is handled inside a SERVER span whose parent is the context that was active when the page
 * asked for the push: the push shows in the page's trace, follows its sampling decision, and the spans of
 * the pushed request's own handling (Fastify's, Nest's, the application's) nest under it.
 * Does nothing without `@opentelemetry/api`, with `telemetry: false`, or without a TracerProvider
 * registered before the application started (as an SDK's start does).
 */
@Injectable()
export class PushTracing {
  private readonly api: OpenTelemetryApi | undefined;
  private readonly tracer: Tracer | undefined;

  /** `api` is typed `object` so that no declaration file of this package names `@opentelemetry/api`. */
  constructor(@Inject(OPENTELEMETRY_API) api: object | undefined) {
    const tracer = (api as OpenTelemetryApi | undefined)?.trace.getTracer(INSTRUMENTATION_SCOPE, PACKAGE_VERSION);
    // A proxy means no TracerProvider was registered before the application started: then spans would all
    // be no-ops, and pushes pay nothing for them.
    const recording = tracer !== undefined && !(tracer instanceof (api as OpenTelemetryApi).ProxyTracer);
    this.api = recording ? (api as OpenTelemetryApi) : undefined;
    this.tracer = recording ? tracer : undefined;
  }

  /**
   * False without `@opentelemetry/api`, with `telemetry: false`, or when no TracerProvider was registered
   * before the application started: then nothing here does anything.
   */
  get enabled(): boolean {
    return this.api !== undefined;
  }

  /** Open spans by pushed stream, for `routed` (the Fastify hook sees the request, not the push). */
  private readonly byStream = new WeakMap<object, Span>();

  /** At push time, in the page's async context: the context the push's span will be a child of. */
  capture(push: PromisedPush): void {
    if (this.api) push.trace = this.api.context.active();
  }

  /** Runs the pushed request's `dispatch` inside its span, which is kept on `push` until its end. */
  dispatch<T>(push: PromisedPush, headers: OutgoingHttpHeaders, dispatch: () => T): T {
    const { api, tracer } = this;
    if (!api || !tracer) return dispatch();
    const parent = (push.trace as ReturnType<OpenTelemetryApi['context']['active']> | undefined) ?? api.ROOT_CONTEXT;
    const method = String(headers[':method']);
    const path = String(headers[':path']);
    const query = path.indexOf('?');
    const [, host, port] = AUTHORITY.exec(String(headers[':authority'])) ?? [];
    const attributes: Record<string, string | number> = {
      'http.request.method': method,
      'url.scheme': String(headers[':scheme']),
      'url.path': query < 0 ? path : path.slice(0, query),
      'network.protocol.name': 'http',
      'network.protocol.version': '2',
    };
    if (query >= 0) attributes['url.query'] = path.slice(query + 1);
    if (host) attributes['server.address'] = host;
    if (port) attributes['server.port'] = Number(port);
    // HTTP's semantic conventions name a server span `{method} {http.route}`, never by its path.
    const span = tracer.startSpan(method, { kind: api.SpanKind.SERVER, attributes }, parent);
    push.trace = span;
    if (push.stream) this.byStream.set(push.stream, span);
    return api.context.with(api.trace.setSpan(parent, span), dispatch);
  }

  /** Fastify routed the pushed request on `stream`: `{method} {route}` names its span, as for client requests. */
  routed(stream: object, method: string, route: string | undefined): void {
    const span = this.byStream.get(stream);
    if (!span || route === undefined) return;
    span.setAttribute('http.route', route).updateName(`${method} ${route}`);
  }

  completed(push: PromisedPush, status: number): void {
    const span = this.take(push);
    if (!span) return;
    span.setAttribute('http.response.status_code', status);
    // A server span is an error for 5xx only (HTTP semantic conventions).
    if (status >= 500) span.setAttribute('error.type', String(status)).setStatus({ code: this.api!.SpanStatusCode.ERROR });
    span.end();
  }

  /** The client reset the push (its choice, as a cache hit is): named by `error.type`, status left unset. */
  cancelled(push: PromisedPush, code: number): void {
    this.take(push)?.setAttribute('error.type', errorCodeName(code)).end();
  }

  /** The handler threw at dispatch or did not answer within `pushTimeoutMs`. */
  failed(push: PromisedPush, type: string, message: string): void {
    this.take(push)?.setAttribute('error.type', type).setStatus({ code: this.api!.SpanStatusCode.ERROR, message }).end();
  }

  /** The push's span, which it no longer holds (an ended push holds nothing: PromisedStreamServer). */
  private take(push: PromisedPush): Span | undefined {
    const span = push.trace as Span | undefined;
    push.trace = undefined;
    return this.api && span && typeof span.end === 'function' ? span : undefined;
  }
}
