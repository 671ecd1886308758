/**
 * OpenTelemetry with the real SDK: a Nest + Fastify h2c app with @Push() and PushService, a node:http2 client,
 * a MeterProvider read on demand and a BasicTracerProvider exporting to memory, with the AsyncLocalStorage
 * context manager. Then the module without `@opentelemetry/api` at all, in a child process.
 */
import { Controller, Get, Module, Req } from '@nestjs/common';
import { context, metrics, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type Histogram, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { FastifyRequest } from 'fastify';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants as h2 } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Push, PushModule, PushService, isPushedRequest, type PushEvent, type PushModuleOptions } from '../src';
import { PACKAGE_VERSION } from '../src/monitor/opentelemetry-api';
import { connect, fetchWithPushes } from './support/h2-client';
import { startApp, type StartedApp } from './support/start-app';

/** A metric reader collected by the test itself: no timer. */
class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const tracer = () => trace.getTracer('test');

/** Span ids of the active span in each pushed request's handler, by path. */
const activeInPushed = new Map<string, string | undefined>();
/** Opened by a test when it is done with /asset/held, whose handler waits for it. */
let releaseHeld: () => void = () => undefined;

@Controller()
class TelemetryController {
  constructor(private readonly pushes: PushService) {}

  @Get('/page')
  @Push('/asset/a')
  @Push('/asset/bb')
  page() {
    return 'page';
  }

  /** Pushes from code, inside a span of its own: that span is the push's parent. */
  @Get('/service-page')
  servicePage() {
    return tracer().startActiveSpan('service-page', (span) => {
      this.pushes.push('/asset/a');
      span.end();
      return { spanId: span.spanContext().spanId, traceId: span.spanContext().traceId };
    });
  }

  @Get('/held-page')
  @Push('/asset/held')
  heldPage() {
    return 'page';
  }

  @Get('/asset/:name')
  async asset(@Req() request: FastifyRequest & { params: { name: string } }) {
    if (isPushedRequest(request)) activeInPushed.set(request.url, trace.getActiveSpan()?.spanContext().spanId);
    if (request.params.name === 'held') await new Promise<void>((resolve) => (releaseHeld = resolve));
    return request.params.name.repeat(10);
  }
}

function telemetryModule(options: PushModuleOptions = {}) {
  @Module({ imports: [PushModule.forRoot(options)], controllers: [TelemetryController] })
  class TelemetryModule {}
  return TelemetryModule;
}

/** The page's span as an HTTP instrumentation would make it: active from Fastify's first hook on. */
const pageSpans = new Map<string, Span>();
function startPageSpans(server: StartedApp['app']): void {
  const fastify = server.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (isPushedRequest(request)) return done();
    const span = tracer().startSpan(`page ${request.url}`);
    pageSpans.set(request.url, span);
    context.with(trace.setSpan(context.active(), span), done);
  });
  fastify.addHook('onResponse', (request, _reply, done) => {
    if (!isPushedRequest(request)) pageSpans.get(request.url)?.end();
    done();
  });
}

let reader: TestReader;
let spans: InMemorySpanExporter;
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => context.setGlobalContextManager(contextManager.enable()));
afterAll(() => context.disable());

/** Fresh global providers for each test, registered before the app is created (as an SDK's start does). */
beforeEach(() => {
  reader = new TestReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  spans = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
  activeInPushed.clear();
  pageSpans.clear();
});
afterEach(() => {
  metrics.disable();
  trace.disable();
});

async function withServer(options: PushModuleOptions, test: (server: StartedApp, events: PushEvent[]) => Promise<void>) {
  const events: PushEvent[] = [];
  const server = await startApp(telemetryModule({ onPush: (event) => events.push(event), ...options }), { configure: startPageSpans });
  try {
    await test(server, events);
  } finally {
    releaseHeld();
    await server.close();
  }
}

/** A push ends on its stream's 'close', after the client saw it end: wait for the server's events. */
/** `/held-page`, whose one push the client resets with `code` as it is promised; back once the module saw it cancelled. */
async function fetchHeldPageResettingItsPush(server: StartedApp, events: PushEvent[], code: number): Promise<void> {
  const client = await connect(server.url);
  client.on('stream', (stream) => stream.close(code));
  await fetchWithPushes(client, '/held-page');
  await settled(events, 'cancelled', 1);
  client.close();
}

async function settled(events: PushEvent[], type: PushEvent['type'], count: number): Promise<void> {
  for (let i = 0; i < 400 && events.filter((e) => e.type === type).length < count; i++) await new Promise((r) => setTimeout(r, 5));
  expect(events.filter((e) => e.type === type)).toHaveLength(count);
}

async function collected(): Promise<{ scope: { name: string; version?: string }; metrics: Map<string, MetricData> }> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const scopes = resourceMetrics.scopeMetrics.filter((s) => s.scope.name === 'nestjs-http2-push');
  expect(scopes).toHaveLength(1);
  return { scope: scopes[0].scope, metrics: new Map(scopes[0].metrics.map((m) => [m.descriptor.name, m])) };
}

/** Sum of a counter's points, by their attributes as `key=value` (`''` for none). */
function counter(all: Map<string, MetricData>, name: string): Record<string, number> {
  const metric = all.get(name);
  if (!metric) return {};
  return Object.fromEntries(
    metric.dataPoints.map((p) => [Object.entries(p.attributes).map(([k, v]) => `${k}=${v}`).join(','), p.value as number]),
  );
}

describe('OpenTelemetry metrics', () => {
  it('counts promised and completed pushes, their body bytes and durations, under the package scope', () =>
    withServer({}, async (server, events) => {
      const client = await connect(server.url);
      const page = await fetchWithPushes(client, '/page');
      client.close();
      // A new connection: on this one /asset/a was pushed already (cached).
      const other = await connect(server.url);
      await fetchWithPushes(other, '/service-page');
      other.close();
      expect(page.pushes.map((p) => p.body).sort()).toEqual(['a'.repeat(10), 'bb'.repeat(10)]);
      await settled(events, 'completed', 3);
      const { scope, metrics: all } = await collected();
      expect(scope.version).toBe(PACKAGE_VERSION);
      expect(counter(all, 'http2.server.push.promised')).toEqual({ '': 3 });
      expect(counter(all, 'http2.server.push.completed')).toEqual({ 'http.response.status_code=200': 3 });
      expect(all.get('http2.server.push.promised')!.descriptor.unit).toBe('{push}');
      const bytes = all.get('http2.server.push.body.size')!;
      expect(bytes.descriptor.unit).toBe('By');
      expect((bytes.dataPoints[0].value as Histogram).sum).toBe(10 + 20 + 10);
      expect((bytes.dataPoints[0].value as Histogram).count).toBe(3);
      const duration = all.get('http2.server.push.duration')!;
      expect(duration.descriptor.unit).toBe('s');
      const durations = duration.dataPoints[0].value as Histogram;
      expect(durations.count).toBe(3);
      // Seconds, not milliseconds: the events' durations, summed.
      const ms = events.reduce((sum, e) => sum + (e.type === 'completed' ? e.durationMs : 0), 0);
      expect(durations.sum).toBeCloseTo(ms / 1000, 6);
      expect(server.app.get(PushService).stats()).toMatchObject({ promised: 3, completed: 3, bytes: 40 });
    }));

  it('counts a push the client resets as cancelled, with the reset code as error.type', () =>
    withServer({}, async (server, events) => {
      await fetchHeldPageResettingItsPush(server, events, h2.NGHTTP2_CANCEL);
      const { metrics: all } = await collected();
      expect(counter(all, 'http2.server.push.cancelled')).toEqual({ 'error.type=CANCEL': 1 });
      expect(counter(all, 'http2.server.push.completed')).toEqual({});
    }));

  it('counts refusals by reason, and the resources hinted instead', () =>
    withServer({}, async (server) => {
      const noPush = await connect(server.url, { enablePush: false });
      await fetchWithPushes(noPush, '/page');
      noPush.close();
      const client = await connect(server.url);
      await fetchWithPushes(client, '/page');
      await fetchWithPushes(client, '/page');
      client.close();
      const { metrics: all } = await collected();
      expect(counter(all, 'http2.server.push.refused')).toEqual({ 'http2.push.refusal.reason=disabled': 2, 'http2.push.refusal.reason=cached': 2 });
      expect(counter(all, 'http2.server.push.hinted')).toEqual({ '': 2 });
      expect(server.app.get(PushService).stats()).toMatchObject({ hinted: 2, refused: { disabled: 2, cached: 2 } });
    }));

  it('counts a push whose handler does not answer within pushTimeoutMs as failed; its span is an error', () =>
    withServer({ pushTimeoutMs: 20 }, async (server, events) => {
      const client = await connect(server.url);
      await fetchWithPushes(client, '/held-page');
      await settled(events, 'failed', 1);
      client.close();
      const { metrics: all } = await collected();
      expect(counter(all, 'http2.server.push.failed')).toEqual({ '': 1 });
      expect(counter(all, 'http2.server.push.cancelled')).toEqual({});
      const [pushed] = spans.getFinishedSpans().filter((s) => s.instrumentationScope.name === 'nestjs-http2-push');
      expect(pushed.status).toMatchObject({ code: 2, message: expect.stringContaining('pushTimeoutMs') }); // ERROR
      expect(pushed.attributes['error.type']).toBe('timeout');
    }));

  it('providers registered only after the application started get nothing: pushes pay for no no-op instruments', async () => {
    metrics.disable();
    trace.disable();
    const events: PushEvent[] = [];
    const server = await startApp(telemetryModule({ onPush: (event) => events.push(event) }), { configure: startPageSpans });
    try {
      reader = new TestReader();
      metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
      const client = await connect(server.url);
      await fetchWithPushes(client, '/page');
      client.close();
      await settled(events, 'completed', 2);
      const { resourceMetrics } = await reader.collect();
      expect(resourceMetrics.scopeMetrics.filter((s) => s.scope.name === 'nestjs-http2-push')).toEqual([]);
      expect(spans.getFinishedSpans().filter((s) => s.instrumentationScope.name === 'nestjs-http2-push')).toEqual([]);
      // The page's own span (the test's tracer is taken per request) is recorded: the providers work.
      expect(spans.getFinishedSpans().map((s) => s.name)).toContain('page /page');
    } finally {
      await server.close();
    }
  });

  it('telemetry: false records nothing', () =>
    withServer({ telemetry: false }, async (server, events) => {
      const client = await connect(server.url);
      await fetchWithPushes(client, '/page');
      client.close();
      await settled(events, 'completed', 2);
      const { resourceMetrics } = await reader.collect();
      expect(resourceMetrics.scopeMetrics.filter((s) => s.scope.name === 'nestjs-http2-push')).toEqual([]);
      expect(spans.getFinishedSpans().filter((s) => s.instrumentationScope.name === 'nestjs-http2-push')).toEqual([]);
    }));
});

describe('OpenTelemetry traces', () => {
  const pushSpans = () => spans.getFinishedSpans().filter((s) => s.instrumentationScope.name === 'nestjs-http2-push');
  const byPath = (list: ReadableSpan[]): Record<string, ReadableSpan> => Object.fromEntries(list.map((s) => [String(s.attributes['url.path']), s]));

  it('each pushed request of @Push() runs in a SERVER span, child of the page span active when it was pushed', () =>
    withServer({}, async (server, events) => {
      const client = await connect(server.url);
      await fetchWithPushes(client, '/page');
      client.close();
      await settled(events, 'completed', 2);
      const page = pageSpans.get('/page')!.spanContext();
      const pushed = byPath(pushSpans());
      expect(Object.keys(pushed).sort()).toEqual(['/asset/a', '/asset/bb']);
      for (const [path, span] of Object.entries(pushed)) {
        // Named by the route Fastify found, as HTTP's semantic conventions name server spans.
        expect(span.name).toBe('GET /asset/:name');
        expect(span.kind).toBe(1); // SpanKind.SERVER
        expect(span.spanContext().traceId).toBe(page.traceId);
        expect(span.parentSpanContext?.spanId).toBe(page.spanId);
        expect(span.attributes).toMatchObject({
          'http.request.method': 'GET',
          'url.scheme': 'http',
          'server.address': '127.0.0.1',
          'server.port': server.port,
          'network.protocol.version': '2',
          'http.response.status_code': 200,
          'http.route': '/asset/:name',
        });
        expect(span.status.code).toBe(0); // UNSET
        // The pushed request's own handling sees the push's span as the active one.
        expect(activeInPushed.get(path)).toBe(span.spanContext().spanId);
      }
    }));

  it('a push from PushService.push() is a child of the span active in the handler', () =>
    withServer({}, async (server, events) => {
      const client = await connect(server.url);
      const page = await fetchWithPushes(client, '/service-page');
      client.close();
      await settled(events, 'completed', 1);
      const handler = JSON.parse(page.body) as { spanId: string; traceId: string };
      const [pushed] = pushSpans();
      expect(pushed.spanContext().traceId).toBe(handler.traceId);
      expect(pushed.parentSpanContext?.spanId).toBe(handler.spanId);
      expect(pageSpans.get('/service-page')!.spanContext().traceId).toBe(handler.traceId);
    }));

  it('a cancelled push ends its span with the reset code as error.type', () =>
    withServer({}, async (server, events) => {
      await fetchHeldPageResettingItsPush(server, events, h2.NGHTTP2_REFUSED_STREAM);
      const [pushed] = pushSpans();
      expect(pushed.attributes['error.type']).toBe('REFUSED_STREAM');
      expect(pushed.attributes['http.response.status_code']).toBeUndefined();
      expect(pushed.parentSpanContext?.spanId).toBe(pageSpans.get('/held-page')!.spanContext().spanId);
    }));
});

describe('without @opentelemetry/api', () => {
  const root = process.cwd();
  let dir: string;
  beforeAll(() => {
    const built = statSync(join(root, 'dist', 'index.js'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
    const stale = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(root, 'src', f)).mtimeMs > built);
    if (stale.length > 0) throw new Error(`dist/ is older than src/${stale[0]}: run \`npm run build\` first (npm test does).`);
    dir = mkdtempSync(join(tmpdir(), 'nestjs-http2-push-no-otel-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Runs the built module in a Node process where `@opentelemetry/api` cannot be resolved (as in an app that
   * does not have it), serves one page with a push to a node:http2 client and prints what happened.
   */
  async function runWithoutApi(name: string, telemetry: string): Promise<{ attempts: number; stats: Record<string, unknown>; pushed: string[]; warnings: string[] }> {
    const script = join(dir, `${name}.cjs`);
    writeFileSync(script, `
const Module = require('node:module');
let attempts = 0;
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '@opentelemetry/api' || request.startsWith('@opentelemetry/')) {
    attempts++;
    throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' });
  }
  return resolve.call(this, request, ...rest);
};
// The application's own dependencies, from the project's node_modules (the script lives in a temporary folder).
const appRequire = Module.createRequire(${JSON.stringify(join(root, 'package.json'))});
appRequire('reflect-metadata');
const http2 = require('node:http2');
const { Controller, Get, Module: NestModule } = appRequire('@nestjs/common');
const { NestFactory } = appRequire('@nestjs/core');
const { FastifyAdapter } = appRequire('@nestjs/platform-fastify');
const { PushModule, PushService, Push } = require(${JSON.stringify(join(root, 'dist', 'index.js'))});
class Pages { page() { return 'page'; } asset() { return 'asset'; } }
Get('/page')(Pages.prototype, 'page', Object.getOwnPropertyDescriptor(Pages.prototype, 'page'));
Push('/asset')(Pages.prototype, 'page', Object.getOwnPropertyDescriptor(Pages.prototype, 'page'));
Get('/asset')(Pages.prototype, 'asset', Object.getOwnPropertyDescriptor(Pages.prototype, 'asset'));
Controller()(Pages);
class App {}
NestModule({ imports: [PushModule.forRoot(${telemetry})], controllers: [Pages] })(App);
const warnings = [];
const logger = { log() {}, error: (m) => warnings.push('error ' + m), warn: (m) => warnings.push(String(m)), debug() {}, verbose() {} };
(async () => {
  const app = await NestFactory.create(App, new FastifyAdapter({ http2: true }), { logger, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const client = http2.connect('http://127.0.0.1:' + app.getHttpServer().address().port);
  const pushed = [];
  const ends = [];
  client.on('stream', (stream, headers) => { pushed.push(headers[':path']); stream.resume(); ends.push(new Promise((r) => stream.on('close', r))); });
  await new Promise((done) => client.request({ ':path': '/page' }).on('end', done).resume());
  await Promise.all(ends);
  client.close();
  await new Promise((r) => setImmediate(r));
  const stats = app.get(PushService).stats();
  await app.close();
  process.stdout.write(JSON.stringify({ attempts, stats, pushed, warnings }));
})().catch((error) => { console.error(error); process.exit(1); });
`);
    const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: root, encoding: 'utf8' });
    return JSON.parse(stdout);
  }

  it('loads, pushes and counts as before: the module asked for the API and went on without it', async () => {
    const run = await runWithoutApi('default', '{}');
    expect(run.attempts).toBeGreaterThan(0);
    expect(run.pushed).toEqual(['/asset']);
    expect(run.stats).toMatchObject({ promised: 1, completed: 1, failed: 0 });
    expect(run.warnings).toEqual([]);
  });

  it('telemetry: true without the API warns once at start-up, and pushes all the same', async () => {
    const run = await runWithoutApi('telemetry-true', '{ telemetry: true }');
    expect(run.pushed).toEqual(['/asset']);
    expect(run.warnings).toEqual([expect.stringContaining('@opentelemetry/api cannot be loaded')]);
  });

  it('the instrumentation scope has the package version', () => {
    expect(PACKAGE_VERSION).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });
});
