import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { testCertificate } from './tls';

export interface StartedApp {
  app: NestFastifyApplication;
  /** `http://127.0.0.1:PORT` (h2c) or `https://localhost:PORT` (TLS, HTTP/1.1 allowed). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts a real Nest + Fastify HTTP/2 server for `module` on a free loopback port. */
export async function startApp(
  module: unknown,
  { tls = false, configure, defaultLogger = false }: {
    tls?: boolean;
    configure?: (app: NestFastifyApplication) => void;
    /** Log as an app created without a `logger` option does (Nest's ConsoleLogger); silent otherwise. */
    defaultLogger?: boolean;
  } = {},
): Promise<StartedApp> {
  const adapter = tls
    ? new FastifyAdapter({ http2: true, https: { ...(await testCertificate()), allowHTTP1: true } })
    : new FastifyAdapter({ http2: true });
  // abortOnError: false, so a start-up error fails the test instead of exiting the process.
  const logger = defaultLogger ? {} : { logger: false as const };
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, { ...logger, abortOnError: false });
  configure?.(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
  return { app, url, port, close: () => app.close() };
}
