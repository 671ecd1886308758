/**
 * The servers under test. The Nest app is the same code with and without PushModule (without it, the page
 * has no `@Push` either: the plain app a user has before adopting the library); the raw node:http2 server
 * is the floor (no framework): it pushes or serves the same bodies from memory.
 */
import 'reflect-metadata';
import {
  Controller, Get, Header, Injectable, Module, Req, type CallHandler, type DynamicModule, type ExecutionContext, type NestInterceptor,
} from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AsyncLocalStorage } from 'node:async_hooks';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Push, PushModule } from '../src';
import {
  ASSET_FILES, CSS_BODY, JS_BODY, JSON_VALUE, PAGE_BODY, PAGE_PATH, PLAIN_BODY, PLAIN_PATH, SHAPE_ASSETS, STATIC_PREFIX,
  fileNameOf, type Shape,
} from './assets';

/** PEM key and certificate: the server speaks HTTP/2 over TLS (ALPN h2, HTTP/1.1 allowed, as the sample does). */
export interface Tls {
  key: string;
  cert: string;
}

/** The page's controller for one shape; with `push`, the page declares its three assets with `@Push`. */
function pageController(shape: Shape, push: boolean) {
  const resources = SHAPE_ASSETS[shape].map((path) => (path.endsWith('.json') ? { path, headers: { accept: 'application/json' } } : path));
  const declare: MethodDecorator = push ? Push(...resources) : () => undefined;

  @Controller()
  class PageController {
    @Get(PAGE_PATH)
    @Header('content-type', 'text/html; charset=utf-8')
    @declare
    page(): string {
      return PAGE_BODY;
    }
  }
  return PageController;
}

/** Fastify's router of the running app, for the page that pushes by hand (`handPush`). */
let fastifyRouting: ((request: http2.Http2ServerRequest, response: http2.Http2ServerResponse) => void) | undefined;

/**
 * The page without PushModule pushing its assets by hand: `pushStream`, then the promised request handed to
 * Fastify's router as Node's compatibility layer would have built it, nothing else (diagnostic variant: the
 * least a push re-dispatched through the app's pipeline can cost).
 */
function handPushController(shape: Shape) {
  @Controller()
  class HandPushPageController {
    @Get(PAGE_PATH)
    @Header('content-type', 'text/html; charset=utf-8')
    page(@Req() request: { raw: { stream?: http2.ServerHttp2Stream; headers: http2.IncomingHttpHeaders } }): string {
      const stream = request.raw.stream;
      if (stream?.pushAllowed) {
        const { headers } = request.raw;
        for (const path of SHAPE_ASSETS[shape]) {
          const promised: http2.OutgoingHttpHeaders = { ':method': 'GET', ':scheme': headers[':scheme'], ':authority': headers[':authority'], ':path': path };
          if (headers['user-agent'] !== undefined) promised['user-agent'] = headers['user-agent'];
          stream.pushStream(promised, (error, pushStream, pushHeaders) => {
            if (error) return;
            const raw: string[] = [];
            for (const name in promised) raw.push(name, String(promised[name]));
            fastifyRouting!(new http2.Http2ServerRequest(pushStream, pushHeaders as http2.IncomingHttpHeaders, {}, raw), new http2.Http2ServerResponse(pushStream));
          });
        }
      }
      return PAGE_BODY;
    }
  }
  return HandPushPageController;
}

/** The assets as plain Nest handlers (shapes `nest` and `mixed`). */
@Controller('asset')
class AssetController {
  @Get('app.css')
  @Header('content-type', 'text/css; charset=utf-8')
  style(): string {
    return CSS_BODY;
  }

  @Get('app.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  script(): string {
    return JS_BODY;
  }

  @Get('data.json')
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
 * The Nest app. `push`: PushModule.forRoot() and `@Push` on the page. The diagnostic variants, without
 * PushModule, add one of the things the module used to register for every request, to see what each costs
 * on its own: `interceptor` a no-op global interceptor; `als` two Fastify hooks (onRequest enters an
 * AsyncLocalStorage, preHandler enters it again); `hooks` the same hooks without AsyncLocalStorage.
 * `express`: the same app on Express (HTTP/1.1, where the module only hints); with `requestContext`, the
 * module enters every request's AsyncLocalStorage context as when something injects PushService.
 */
export interface NestAppOptions {
  shape: Shape;
  express?: boolean;
  push?: boolean;
  /** With `push`: `learnedHints: true` too. */
  learnedHints?: boolean;
  requestContext?: boolean;
  tls?: Tls;
  interceptor?: boolean;
  als?: boolean;
  hooks?: boolean;
  /** Without `push`: the page pushes its assets by hand through Fastify's router. */
  handPush?: boolean;
}

/**
 * PushModule's options here. `diarySize: 0`: every page must push its assets, also on a connection that
 * already got them (by default the module pushes a resource once per connection, so a load test on
 * persistent connections would push only for its first pages). `connectionPushBudget: false`: the load
 * driver keeps every push, and the default budget (500 pushes per connection, then 20 per second) would
 * refuse most of a load test's. Loosely typed: the options are changing.
 */
const PUSH_OPTIONS: Record<string, unknown> = { diarySize: 0, connectionPushBudget: false };

function appModule(options: NestAppOptions): DynamicModule {
  @Module({})
  class BenchAppModule {}
  return {
    module: BenchAppModule,
    imports: options.push
      ? [
          PushModule.forRoot({
            ...PUSH_OPTIONS,
            ...(options.learnedHints ? { learnedHints: true } : {}),
            ...(options.requestContext ? { requestContext: true } : {}),
          } as Parameters<typeof PushModule.forRoot>[0]),
        ]
      : [],
    controllers: [options.handPush ? handPushController(options.shape) : pageController(options.shape, !!options.push), AssetController, PlainController],
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

/** Writes the files @fastify/static serves (`/static/` is stripped from the path, so `<root>/app.css`). */
function staticRoot(): string {
  const root = join(__dirname, '..', 'static-root');
  mkdirSync(root, { recursive: true });
  for (const [name, { body }] of Object.entries(ASSET_FILES)) writeFileSync(join(root, name), body);
  return root;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** The Express app: HTTP/1.1 (over TLS with `tls`), the static shapes through express.static. */
async function startExpressApp(options: NestAppOptions): Promise<RunningServer> {
  const app = await NestFactory.create<NestExpressApplication>(appModule(options), new ExpressAdapter(), {
    logger: false,
    abortOnError: false,
    ...(options.tls ? { httpsOptions: options.tls } : {}),
  });
  if (options.shape !== 'nest') app.useStaticAssets(staticRoot(), { prefix: STATIC_PREFIX });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { port, close: () => app.close() };
}

export async function startNestApp(options: NestAppOptions): Promise<RunningServer> {
  if (options.express) return startExpressApp(options);
  const adapter = options.tls
    ? new FastifyAdapter({ http2: true, https: { ...options.tls, allowHTTP1: true } })
    : new FastifyAdapter({ http2: true });
  const app = await NestFactory.create<NestFastifyApplication>(appModule(options), adapter, { logger: false, abortOnError: false });
  if (options.als || options.hooks) addAlsHooks(app.getHttpAdapter().getInstance(), !!options.als);
  if (options.handPush) {
    const fastify = app.getHttpAdapter().getInstance();
    fastifyRouting = fastify.routing.bind(fastify) as unknown as typeof fastifyRouting;
  }
  if (options.shape === 'static') app.useStaticAssets({ root: staticRoot(), prefix: STATIC_PREFIX, wildcard: false });
  if (options.shape === 'mixed') app.useStaticAssets({ root: staticRoot(), prefix: STATIC_PREFIX });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { port, close: () => app.close() };
}

/** Every path any shape uses, served from memory by the raw server, as a Buffer and as the string it came from. */
const RAW_TEXTS: [path: string, type: string, text: string][] = [
  [PAGE_PATH, 'text/html; charset=utf-8', PAGE_BODY],
  [PLAIN_PATH, 'text/plain; charset=utf-8', PLAIN_BODY],
  ...Object.values(SHAPE_ASSETS).flat().map((path): [string, string, string] => [path, ASSET_FILES[fileNameOf(path)].type, ASSET_FILES[fileNameOf(path)].body]),
];
const RAW_BODIES = new Map(RAW_TEXTS.map(([path, type, text]) => [path, { type, text, body: Buffer.from(text) }]));

function respond(stream: http2.ServerHttp2Stream, path: string, strings: boolean): void {
  const asset = RAW_BODIES.get(path);
  if (!asset) {
    stream.respond({ ':status': 404 });
    stream.end();
    return;
  }
  stream.respond({ ':status': 200, 'content-type': asset.type, 'content-length': asset.body.length });
  stream.end(strings ? asset.text : asset.body);
}

/**
 * The floor: node:http2 alone. The page pushes its shape's three assets with `pushStream` + `respond` when
 * the client allows push, copying `user-agent` into the promised request as PushModule does by default,
 * then sends the page. A client that refuses push gets the page alone and asks for the assets itself.
 * `strings`: bodies written as strings, as a Nest handler returns them, instead of shared Buffers (part 4).
 */
export async function startRawServer(shape: Shape, tls?: Tls, strings = false): Promise<RunningServer> {
  const server = tls ? http2.createSecureServer({ ...tls, allowHTTP1: true }) : http2.createServer();
  const scheme = tls ? 'https' : 'http';
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const path = String(headers[':path']);
    if (path === PAGE_PATH && stream.pushAllowed) {
      for (const asset of SHAPE_ASSETS[shape]) {
        const promised: http2.OutgoingHttpHeaders = { ':method': 'GET', ':scheme': scheme, ':authority': headers[':authority'], ':path': asset };
        if (headers['user-agent'] !== undefined) promised['user-agent'] = headers['user-agent'];
        stream.pushStream(promised, (error, pushStream) => {
          if (error) return;
          pushStream.on('error', () => undefined);
          respond(pushStream, asset, strings);
        });
      }
    }
    respond(stream, path, strings);
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
