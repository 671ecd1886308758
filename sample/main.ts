/**
 * Starts the sample: `npm run sample` (HTTP/2 over TLS) or `H2C=1 npm run sample` (cleartext HTTP/2 with
 * prior knowledge); `ADAPTER=express npm run sample` runs the same app on Express (HTTP/1.1 over TLS: no
 * push, the same resources as 103 Early Hints and `Link` headers). Env: PORT (3000), HOST (127.0.0.1), CERT_FILE and KEY_FILE (else a self-signed
 * certificate is made at start), PAGE_DELAY_MS (0: think time of the `GET /` handler), WORKERS (1: one
 * process; N > 1: N worker processes sharing the port through node:cluster, each response carrying
 * `x-worker: <pid>`), METRICS_PORT (none: with a port, the module's OpenTelemetry metrics for Prometheus on
 * http://HOST:METRICS_PORT/metrics; one process only). Tests import `createSampleApp` instead.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { PushModuleOptions } from '../src';
import { AppModule } from './app.module';
import { logPushSummaries } from './push-summary.hook';
import { servePrometheusMetrics } from './prometheus-metrics';

/** The HTTP adapters the sample runs on: Fastify (HTTP/2, pushes) or Express (HTTP/1.1, hints only). */
export type SampleAdapter = 'fastify' | 'express';

export interface SampleOptions<App = NestFastifyApplication> {
  /** Default `fastify`. */
  adapter?: SampleAdapter;
  /** 0 picks a free port. Default 3000. */
  port?: number;
  host?: string;
  /** Cleartext HTTP/2 (prior knowledge) instead of TLS; Fastify only. */
  h2c?: boolean;
  /** PEM key and certificate; a self-signed pair for localhost and 127.0.0.1 when left out. */
  key?: string;
  cert?: string;
  logger?: NestApplicationOptions['logger'];
  /** Options of `PushModule.forRoot()` (e.g. `{ fallback: false }`); defaults when left out. */
  push?: PushModuleOptions;
  /** Think time of the `GET /` handler before it returns the page, in ms. Default 0. */
  pageDelayMs?: number;
  /** Called before the server listens, e.g. to add Fastify hooks or Express middleware. */
  configure?: (app: App) => void;
  /** Log `pushed N, hinted N, cancelled N` per page at verbose level (`DEBUG=1 npm run sample`). */
  pushSummaries?: boolean;
}

/**
 * sample/public; `@fastify/static` strips the /static/ prefix, so this folder holds style.css itself.
 * Compiled, this file is dist-sample/sample/main.js and the assets stay in sample/. Jest runs the source
 * as an ES module, without __dirname, from the package root.
 */
const PUBLIC_DIR = typeof __dirname === 'string'
  ? join(__dirname, '..', '..', 'sample', 'public')
  : join(process.cwd(), 'sample', 'public');

/** A self-signed certificate for localhost and 127.0.0.1 (the tests use it too). */
export async function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256', // selfsigned still defaults to sha1
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  return { key: pems.private, cert: pems.cert };
}

export function createSampleApp(opts?: SampleOptions & { adapter?: 'fastify' }): Promise<{ app: NestFastifyApplication; url: string }>;
export function createSampleApp(opts: SampleOptions<NestExpressApplication> & { adapter: 'express' }): Promise<{ app: NestExpressApplication; url: string }>;
export async function createSampleApp(
  opts: SampleOptions<NestFastifyApplication> | SampleOptions<NestExpressApplication> = {},
): Promise<{ app: NestFastifyApplication | NestExpressApplication; url: string }> {
  const { port = 3000, host = '127.0.0.1', h2c = false, adapter = 'fastify' } = opts;
  if (h2c && adapter === 'express') throw new Error('Express serves HTTP/1.1 only: H2C=1 needs the Fastify adapter.');
  const tls = h2c ? undefined : opts.key && opts.cert ? { key: opts.key, cert: opts.cert } : await selfSignedCertificate();
  const appModule = AppModule.forRoot({ push: opts.push, pageDelayMs: opts.pageDelayMs });
  const logger = opts.logger === undefined ? {} : { logger: opts.logger };
  let app: NestFastifyApplication | NestExpressApplication;
  if (adapter === 'express') {
    // HTTPS is HTTP/1.1 only on Express: the module hints instead of pushing.
    const express = await NestFactory.create<NestExpressApplication>(appModule, new ExpressAdapter(), {
      httpsOptions: tls,
      forceCloseConnections: true,
      ...logger,
    });
    // Middleware runs in order, and the static files end theirs: what `configure` adds comes first.
    (opts as SampleOptions<NestExpressApplication>).configure?.(express);
    if (opts.pushSummaries) logPushSummaries(express);
    express.useStaticAssets(PUBLIC_DIR, { prefix: '/static/', maxAge: 60_000 });
    app = express;
  } else {
    // HTTP/1.1 clients get the same pages (the library skips pushes for them). forceCloseConnections: on
    // Node < 24 Fastify would otherwise keep an idle browser connection, and Ctrl-C, waiting up to 72 s.
    const fastifyAdapter = tls
      ? new FastifyAdapter({ http2: true, https: { ...tls, allowHTTP1: true }, forceCloseConnections: true })
      : new FastifyAdapter({ http2: true, forceCloseConnections: true });
    const fastify = await NestFactory.create<NestFastifyApplication>(appModule, fastifyAdapter, logger);
    // Cacheable assets: browsers only keep a pushed (or early-hinted) response they may cache.
    fastify.useStaticAssets({ root: PUBLIC_DIR, prefix: '/static/', maxAge: 60_000 });
    if (opts.pushSummaries) logPushSummaries(fastify);
    (opts as SampleOptions<NestFastifyApplication>).configure?.(fastify);
    app = fastify;
  }
  await app.listen(port, host);
  const address = app.getHttpServer().address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return { app, url: `${h2c ? 'http' : 'https'}://${shownHost}:${address.port}` };
}

function howToSeePushes(url: string, h2c: boolean, adapter: SampleAdapter): string {
  if (adapter === 'express') {
    return [
      `Sample listening on ${url}/ (Express: HTTP/1.1 over TLS; no push, the resources go out as 103 Early Hints)`,
      'See the hints:',
      `  curl -kv --http1.1 ${url}/   # "< HTTP/1.1 103 Early Hints" with the preload links, then the 200`,
    ].join('\n');
  }
  return [
    `Sample listening on ${url}/ (${h2c ? 'cleartext HTTP/2, prior knowledge' : 'HTTP/2 over TLS, HTTP/1.1 allowed'})`,
    'See the pushes:',
    `  npm run sample:client -- ${url}/`,
    `  nghttp -nv ${url}/        # "recv PUSH_PROMISE" frames${h2c ? '' : '; nghttp only warns about the self-signed certificate'}`,
    `  nghttp -nv -H 'authorization: Bearer demo' ${url}/account`,
    h2c
      ? `  curl --http2-prior-knowledge ${url}/   # shows the page, not the pushes (curl refuses them)`
      : `  curl -k --http2 ${url}/   # shows the page, not the pushes (curl refuses them)`,
  ].join('\n');
}

/** Env of a worker: the certificate the primary made (one for all workers) and the primary's settings. */
const WORKER_KEY = 'SAMPLE_WORKER_TLS_KEY';
const WORKER_CERT = 'SAMPLE_WORKER_TLS_CERT';

function sampleAdapter(): SampleAdapter {
  const adapter = process.env.ADAPTER ?? 'fastify';
  if (adapter !== 'fastify' && adapter !== 'express') throw new Error('ADAPTER must be fastify or express.');
  return adapter;
}

function workerCount(): number {
  const workers = Number(process.env.WORKERS ?? 1);
  if (!Number.isInteger(workers) || workers < 1) throw new Error('WORKERS must be a whole number >= 1.');
  return workers;
}

/**
 * WORKERS > 1, primary: forks the workers (they share the listening socket; Linux hands connections out
 * round-robin), prints the URL once all listen, replaces a worker that dies, and stops them on
 * SIGINT/SIGTERM. Every worker has its own PushModule: the push diary is per connection and the digest
 * cookie travels with the client, so no sticky sessions are needed.
 */
async function runPrimary(workers: number, h2c: boolean, adapter: SampleAdapter): Promise<void> {
  const env: Record<string, string> = {};
  if (!h2c && !process.env.CERT_FILE) {
    const { key, cert } = await selfSignedCertificate();
    Object.assign(env, { [WORKER_KEY]: key, [WORKER_CERT]: cert });
  }
  let stopping = false;
  let url: string | undefined;
  const ready = new Set<number>();
  const fork = () => {
    const worker = cluster.fork(env);
    worker.on('message', (message: { url?: string }) => {
      if (typeof message?.url !== 'string') return;
      ready.add(worker.id);
      if (url === undefined && ready.size === workers) {
        url = message.url;
        console.log(`${howToSeePushes(url, h2c, adapter)}\n${workers} workers (node:cluster), pids ${Object.values(cluster.workers ?? {}).map((w) => w?.process.pid).join(', ')}; each response says which in x-worker`);
      }
    });
  };
  cluster.on('exit', (worker, code, signal) => {
    ready.delete(worker.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    console.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const alive = Object.values(cluster.workers ?? {});
    if (alive.length === 0) process.exit(0);
    for (const worker of alive) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(1), 5_000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (let i = 0; i < workers; i++) fork();
}

async function main(): Promise<void> {
  const { CERT_FILE, KEY_FILE } = process.env;
  if (!CERT_FILE !== !KEY_FILE) throw new Error('Set both CERT_FILE and KEY_FILE, or neither.');
  const h2c = process.env.H2C === '1';
  const adapter = sampleAdapter();
  const pageDelayMs = Number(process.env.PAGE_DELAY_MS ?? 0);
  if (!Number.isFinite(pageDelayMs) || pageDelayMs < 0) throw new Error('PAGE_DELAY_MS must be a number of milliseconds >= 0.');
  const workers = workerCount();
  const metricsPort = process.env.METRICS_PORT === undefined ? undefined : Number(process.env.METRICS_PORT);
  if (metricsPort !== undefined && (!Number.isInteger(metricsPort) || metricsPort < 0 || workers > 1)) {
    throw new Error('METRICS_PORT must be a port number, in one process (WORKERS=1): each worker would need a port of its own.');
  }
  if (workers > 1 && cluster.isPrimary) return runPrimary(workers, h2c, adapter);
  // Before the app: the module takes its meter at start-up.
  if (metricsPort !== undefined) await servePrometheusMetrics(metricsPort, process.env.HOST ?? '127.0.0.1');
  const common: Omit<SampleOptions, 'adapter' | 'configure'> = {
    port: Number(process.env.PORT ?? 3000),
    host: process.env.HOST ?? '127.0.0.1',
    h2c,
    cert: (CERT_FILE && readFileSync(CERT_FILE, 'utf8')) || process.env[WORKER_CERT],
    key: (KEY_FILE && readFileSync(KEY_FILE, 'utf8')) || process.env[WORKER_KEY],
    pageDelayMs,
    // DEBUG=1: the module's per-push lines (logEvents) and one summary per page, both at verbose level.
    ...(process.env.DEBUG === '1' ? { push: { logEvents: true }, pushSummaries: true } : {}),
  };
  // Which worker answered (pushed responses included: they are dispatched in the page's worker).
  const worker = String(process.pid);
  const { app, url } = adapter === 'express'
    ? await createSampleApp({
        ...common,
        adapter,
        configure: cluster.isWorker
          ? (nest: NestExpressApplication) => {
              nest.use((_request: unknown, response: { setHeader(name: string, value: string): void }, next: () => void) => {
                response.setHeader('x-worker', worker);
                next();
              });
            }
          : undefined,
      })
    : await createSampleApp({
        ...common,
        configure: cluster.isWorker
          ? (nest: NestFastifyApplication) => {
              nest.getHttpAdapter().getInstance().addHook('onSend', async (_request, reply, payload) => {
                reply.header('x-worker', worker);
                return payload;
              });
            }
          : undefined,
      });
  app.enableShutdownHooks();
  if (cluster.isWorker) process.send?.({ url });
  else console.log(howToSeePushes(url, h2c, adapter));
  if (metricsPort !== undefined) console.log(`Push metrics for Prometheus: curl http://${process.env.HOST ?? '127.0.0.1'}:${metricsPort}/metrics`);
}

// Compiled to CommonJS: run only as `node dist-sample/sample/main.js`, not when imported (Jest has no `require`).
if (typeof require !== 'undefined' && require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
