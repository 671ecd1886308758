import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AppModule } from './app.module';

async function bootstrap() {
  const { TLS_KEY, TLS_CERT, PORT = '3000' } = process.env;
  const tls = TLS_KEY && TLS_CERT ? { key: readFileSync(TLS_KEY), cert: readFileSync(TLS_CERT) } : undefined;
  const adapter = tls
    ? // HTTP/2 over TLS, and HTTP/1.1 for clients that do not speak HTTP/2 (they get 103 Early Hints instead)
      new FastifyAdapter({ http2: true, https: { ...tls, allowHTTP1: true } })
    : // h2c: cleartext HTTP/2 with prior knowledge, nothing else
      new FastifyAdapter({ http2: true });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, adapter);
  app.useStaticAssets({ root: join(__dirname, '..', 'public'), prefix: '/static/' }); // pushable too
  await app.listen(Number(PORT), '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  console.log(`Listening on ${tls ? 'https' : 'http'}://127.0.0.1:${port}`);
}
bootstrap();
