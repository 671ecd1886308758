/**
 * What OpenTelemetry costs a page with two pushes (docs/opentelemetry.md): CPU per page of one process that
 * serves 4,000 pages on one h2c connection and fetches them, with `telemetry: false` (off), with the API
 * but no SDK (on), and with the SDK registered (sdk: AsyncLocalStorage context manager, spans exported at
 * once to memory, metrics). Not part of `npm run bench`: run each mode several times, interleaved.
 */
const Module = require('node:module');
// Run from the repository after `npm run build`: node bench/opentelemetry-cost.cjs off|on|sdk
const root = require('node:path').resolve(__dirname, '..');
const r = Module.createRequire(root + '/package.json');
r('reflect-metadata');
const http2 = require('node:http2');
const { Controller, Get, Module: NestModule } = r('@nestjs/common');
const { NestFactory } = r('@nestjs/core');
const { FastifyAdapter } = r('@nestjs/platform-fastify');
const { PushModule, Push } = require(root + '/dist/index.js');
const mode = process.argv[2];
if (mode === 'sdk') {
  const api = r('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = r('@opentelemetry/context-async-hooks');
  const { MeterProvider, MetricReader } = r('@opentelemetry/sdk-metrics');
  const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = r('@opentelemetry/sdk-trace-base');
  class R extends MetricReader { async onShutdown() {} async onForceFlush() {} }
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new R()] }));
  const exp = new InMemorySpanExporter();
  api.trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exp)] }));
  setInterval(() => exp.reset(), 100).unref();
}
class Pages { page() { return 'page'; } asset() { return 'x'.repeat(2000); } }
const d = (n) => Object.getOwnPropertyDescriptor(Pages.prototype, n);
Get('/')(Pages.prototype, 'page', d('page'));
Push('/a')(Pages.prototype, 'page', d('page'));
Push('/b')(Pages.prototype, 'page', d('page'));
Get('/:n')(Pages.prototype, 'asset', d('asset'));
Controller()(Pages);
class App {}
NestModule({ imports: [PushModule.forRoot({ diarySize: 0, connectionPushBudget: false, telemetry: mode !== 'off' })], controllers: [Pages] })(App);
(async () => {
  const app = await NestFactory.create(App, new FastifyAdapter({ http2: true }), { logger: false });
  await app.listen(0, '127.0.0.1');
  const client = http2.connect('http://127.0.0.1:' + app.getHttpServer().address().port);
  client.on('stream', (s) => s.resume());
  const page = () => new Promise((done) => client.request({ ':path': '/' }).on('end', done).resume());
  for (let i = 0; i < 500; i++) await page();
  const t = process.cpuUsage(); const w = performance.now();
  const N = 4000;
  for (let i = 0; i < N; i += 8) await Promise.all(Array.from({ length: 8 }, page));
  const c = process.cpuUsage(t);
  console.log(JSON.stringify({ mode, usPerPage: +((c.user + c.system) / N).toFixed(1), wallMs: Math.round(performance.now() - w) }));
  client.close(); await app.close();
})();
