/**
 * The servers under test. The Nest app is the same code with and without PushModule; the raw node:http2
 * server is the floor (no framework): it pushes the same bodies from memory.
 */
import 'reflect-metadata';
import {
  Controller, Get, Header, Injectable, Module, type CallHandler, type DynamicModule, type ExecutionContext, type NestInterceptor,
} from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AsyncLocalStorage } from 'node:async_hooks';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Push, PushModule } from '../src';
import {
  CSS_BODY, CSS_PATH, JS_BODY, JS_PATH, JSON_BODY, JSON_PATH, JSON_VALUE, PAGE_BODY, PAGE_PATH, PLAIN_BODY, PLAIN_PATH,
} from './assets';

@Controller()
class PageController {
  /** The page: its three assets are pushed when PushModule is registered; without it @Push is inert metadata. */
  @Get(PAGE_PATH)
  @Header('content-type', 'text/html; charset=utf-8')
  @Push(CSS_PATH, JS_PATH, { path: JSON_PATH, headers: { accept: 'application/json' } })
  page(): string {
    return PAGE_BODY;
  }

  @Get(JS_PATH)
  @Header('content-type', 'text/javascript; charset=utf-8')
  script(): string {
    return JS_BODY;
  }

  @Get(JSON_PATH)
  data(): typeof JSON_VALUE {
    return JSON_VALUE;
  }
}

/** No @Push anywhere: the module's cost on routes that push nothing. */
@Controller()
class PlainController {
  @Get(PLAIN_PATH)
  @Header('content-type', 'text/plain; charset=utf-8')
  plain(): string {
    return PLAIN_BODY;
  }
}

/** A global interceptor that does nothing: what any APP_INTERCEPTOR costs (diagnostic variant). */
@Injectable()
class NoopInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

/**
 * The Nest app. `push`: with PushModule.forRoot(). The diagnostic variants, without PushModule, add one of
 * the things PushModule registers, to see what each costs on its own: `interceptor` a no-op global
 * interceptor; `als` the same two Fastify hooks as the module (onRequest enters an AsyncLocalStorage,
 * preHandler enters it again).
 */
export interface NestAppOptions {
  push?: boolean;
  interceptor?: boolean;
  als?: boolean;
  /** The same two hooks as `als`, without AsyncLocalStorage: what the hooks themselves cost. */
  hooks?: boolean;
}

/**
 * PushModule's options here. `diarySize: 0`: every page must push its assets, also on a connection that
 * already got them (by default the module pushes a resource once per connection, so a load test on
 * persistent connections would push only for its first pages). Loosely typed: the options are changing.
 */
const PUSH_OPTIONS: Record<string, unknown> = { diarySize: 0 };

function appModule(options: NestAppOptions): DynamicModule {
  @Module({})
  class BenchAppModule {}
  return {
    module: BenchAppModule,
    imports: options.push ? [PushModule.forRoot(PUSH_OPTIONS as Parameters<typeof PushModule.forRoot>[0])] : [],
    controllers: [PageController, PlainController],
    providers: options.interceptor ? [{ provide: APP_INTERCEPTOR, useClass: NoopInterceptor }] : [],
  };
}

const CONTEXT = Symbol('bench-context');

function addAlsHooks(fastify: FastifyInstance, useStorage: boolean): void {
  const storage = new AsyncLocalStorage<object>();
  fastify.decorateRequest(CONTEXT as unknown as string, undefined);
  fastify.addHook('onRequest', (request, _reply, done) => {
    const context = { request };
    (request as unknown as Record<symbol, object>)[CONTEXT] = context;
    if (useStorage) storage.run(context, done);
    else done();
  });
  fastify.addHook('preHandler', (request, _reply, done) => {
    const context = (request as unknown as Record<symbol, object>)[CONTEXT];
    if (useStorage && context && storage.getStore() !== context) storage.run(context, done);
    else done();
  });
}

/** Writes the file @fastify/static serves; `/static/` is stripped from the path, so it is `<root>/app.css`. */
function staticRoot(): string {
  const root = join(__dirname, '..', 'static-root');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, CSS_PATH.slice('/static/'.length)), CSS_BODY);
  return root;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

export async function startNestApp(options: NestAppOptions): Promise<RunningServer> {
  const app = await NestFactory.create<NestFastifyApplication>(appModule(options), new FastifyAdapter({ http2: true }), {
    logger: false,
    abortOnError: false,
  });
  if (options.als || options.hooks) addAlsHooks(app.getHttpAdapter().getInstance(), !!options.als);
  app.useStaticAssets({ root: staticRoot(), prefix: '/static/' });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { port, close: () => app.close() };
}

const RAW_ASSETS: Record<string, { type: string; body: Buffer }> = {
  [CSS_PATH]: { type: 'text/css; charset=utf-8', body: Buffer.from(CSS_BODY) },
  [JS_PATH]: { type: 'text/javascript; charset=utf-8', body: Buffer.from(JS_BODY) },
  [JSON_PATH]: { type: 'application/json; charset=utf-8', body: Buffer.from(JSON_BODY) },
  [PAGE_PATH]: { type: 'text/html; charset=utf-8', body: Buffer.from(PAGE_BODY) },
  [PLAIN_PATH]: { type: 'text/plain; charset=utf-8', body: Buffer.from(PLAIN_BODY) },
};

function respond(stream: http2.ServerHttp2Stream, path: string): void {
  const asset = RAW_ASSETS[path];
  if (!asset) {
    stream.respond({ ':status': 404 });
    stream.end();
    return;
  }
  stream.respond({ ':status': 200, 'content-type': asset.type, 'content-length': asset.body.length });
  stream.end(asset.body);
}

/**
 * The floor: node:http2 alone. The page pushes its three assets with `pushStream` + `respond`, copying
 * `user-agent` into the promised request as PushModule does by default, then sends the page.
 */
export async function startRawServer(): Promise<RunningServer> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const path = String(headers[':path']);
    if (path === PAGE_PATH && stream.pushAllowed) {
      for (const asset of [CSS_PATH, JS_PATH, JSON_PATH]) {
        const promised: http2.OutgoingHttpHeaders = {
          ':method': 'GET',
          ':scheme': 'http',
          ':authority': headers[':authority'],
          ':path': asset,
        };
        if (headers['user-agent'] !== undefined) promised['user-agent'] = headers['user-agent'];
        stream.pushStream(promised, (error, pushStream) => {
          if (error) return;
          pushStream.on('error', () => undefined);
          respond(pushStream, asset);
        });
      }
    }
    respond(stream, path);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Idle sessions would keep close() waiting.
      setTimeout(resolve, 1000).unref();
    }),
  };
}
