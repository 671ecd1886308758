import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { testCertificate } from './tls';

export interface StartedApp<App extends INestApplication = NestFastifyApplication> {
  app: App;
  /** `http://127.0.0.1:PORT` (cleartext) or `https://localhost:PORT` (TLS). */
  url: string;
  port: number;
  close(): Promise<void>;
}

async function listen<App extends INestApplication>(app: App, tls: boolean): Promise<StartedApp<App>> {
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
  return { app, url, port, close: () => app.close() };
}

/**
 * Starts a real Nest + Fastify server for `module` on a free loopback port: HTTP/2 (h2c, or TLS with
 * HTTP/1.1 allowed) by default; with `http2: false`, a cleartext HTTP/1.1 origin like an app behind a proxy.
 */
export async function startApp(
  module: unknown,
  { tls = false, http2 = true, configure, defaultLogger = false }: {
    tls?: boolean;
    http2?: boolean;
    configure?: (app: NestFastifyApplication) => void;
    /** Log as an app created without a `logger` option does (Nest's ConsoleLogger); silent otherwise. */
    defaultLogger?: boolean;
  } = {},
): Promise<StartedApp> {
  const adapter = !http2
    ? new FastifyAdapter(tls ? { https: await testCertificate() } : {})
    : tls
      ? new FastifyAdapter({ http2: true, https: { ...(await testCertificate()), allowHTTP1: true } })
      : new FastifyAdapter({ http2: true });
  // abortOnError: false, so a start-up error fails the test instead of exiting the process.
  const logger = defaultLogger ? {} : { logger: false as const };
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, { ...logger, abortOnError: false });
  configure?.(app);
  return listen(app, tls);
}

/** Starts a real Nest + Express server (HTTP/1.1; over TLS with `tls`) for `module` on a free loopback port. */
export async function startExpressApp(
  module: unknown,
  { tls = false, configure }: { tls?: boolean; configure?: (app: NestExpressApplication) => void } = {},
): Promise<StartedApp<NestExpressApplication>> {
  const app = await NestFactory.create<NestExpressApplication>(module as never, new ExpressAdapter(), {
    logger: false,
    abortOnError: false,
    ...(tls ? { httpsOptions: await testCertificate() } : {}),
  });
  configure?.(app);
  return listen(app, tls);
}
