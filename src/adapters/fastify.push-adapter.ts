import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Http2ServerRequest } from 'node:http2';
import { isPushedRequest } from '../push/is-pushed-request';
import { hintsBeforeHandler } from '../hints/learned/learned-hints.routes';
import { writeEarlyHints } from '../hints/preload-fallback';
import { PUSH_CONTEXT } from '../push.constants';
import { PushContext } from '../context/push-context';
import { pushContextStorage } from '../context/push-context.storage';
import type { PushAdapter, PushAdapterParts } from './push-adapter';
import { PushedRequestDispatcher, type FastifyRouting } from '../dispatch/pushed-request.dispatcher';

/**
 * `@nestjs/platform-fastify`: pushes and hints. Fastify hooks enter each request's context (only when
 * PushService is used: they cost every request) and complete the final headers (onSend, only when a
 * feature needs it); Nest's GET routes are wrapped, as Fastify registers them, to send learned hints; pushed
 * requests go through Fastify's router.
 */
export class FastifyPushAdapter implements PushAdapter {
  readonly name = 'Fastify';
  readonly seesRouteBeforeGuards = true;
  readonly contextOf = fastifyContextOf as (request: object, reply: object) => PushContext;
  readonly dispatcher: PushedRequestDispatcher;

  constructor(
    private readonly fastify: FastifyInstance,
    private readonly parts: PushAdapterParts,
  ) {
    // Fastify's types name the HTTP/1 classes; at run time `routing` takes any Node request/response pair.
    this.dispatcher = new PushedRequestDispatcher(fastify.routing.bind(fastify) as unknown as FastifyRouting);
  }

  get server(): unknown {
    return this.fastify.server;
  }

  /** Whether `instance` (the adapter's `getInstance()`) is a Fastify instance this adapter can use. */
  static fits(instance: unknown): instance is FastifyInstance {
    const fastify = instance as Partial<FastifyInstance> | undefined;
    return typeof fastify?.addHook === 'function' && typeof fastify.routing === 'function';
  }

  install(enterContexts: boolean): void {
    const { fastify } = this;
    const { fallback, linkPusher, digestCookie, learnedHints, tracing } = this.parts;
    fastify.decorateRequest(PUSH_CONTEXT as unknown as string, undefined);
    if (tracing.enabled) {
      // The route is known once Fastify routed the request: `GET /assets/*` rather than `GET`.
      fastify.addHook('onRequest', (request, _reply, done) => {
        if (isPushedRequest(request)) tracing.routed((request.raw as unknown as Http2ServerRequest).stream, request.method, request.routeOptions?.url);
        done();
      });
    }
    if (enterContexts) {
      fastify.addHook('onRequest', enterContext);
      // Body parsing resumes in the connection's async context: enter the request's context again.
      fastify.addHook('preHandler', reenterContext);
    }
    if (learnedHints.enabled) this.sendLearnedHints();
    // Only when a feature needs it: routes that push nothing should not pay for a hook.
    if (fallback.addsLinkHeader || linkPusher.enabled || digestCookie.enabled || learnedHints.enabled) {
      fastify.addHook('onSend', (request, reply, payload, done) => {
        if (linkPusher.enabled && reply.hasHeader('link')) linkPusher.pushLinked(fastifyContextOf(request, reply), reply.getHeader('link'));
        const context = PushContext.peek(request);
        // Before the fallback adds its links: the application's own Link header is read as it set it.
        if (learnedHints.enabled && (context || reply.hasHeader('link'))) {
          learnedHints.learn(request, { status: reply.statusCode, cacheControl: reply.getHeader('cache-control'), link: reply.getHeader('link') }, context);
        }
        if (context) {
          const link = fallback.linkHeader(context, reply.getHeader('link'));
          if (link !== undefined) reply.header('link', link);
          const cookie = digestCookie.cookie(context);
          if (cookie !== undefined) reply.header('set-cookie', cookie); // Fastify adds it to any other set-cookie
        }
        done(null, payload);
      });
    }
  }

  /**
   * Learned hints go out from each Nest GET route's own Fastify handler, wrapped as the route is registered
   * (`onRoute`): after every Fastify hook, a plugin's `preHandler` checks included (a global `preHandler`
   * hook would run before the ones added after it), and only on the routes that can have learned hints. A route
   * without guards (marked in its route config, learned-hints.routes.ts) sends the 103 at once; any other
   * leaves the links for its last guard. Routes that are not Nest's (plugins, static files) are left alone.
   */
  private sendLearnedHints(): void {
    const { learnedHints, appGlobalGuards } = this.parts;
    this.fastify.addHook('onRoute', (route) => {
      const unguarded = hintsBeforeHandler(route.config);
      if (unguarded === undefined) return;
      const sendAtOnce = unguarded && !appGlobalGuards;
      const handler = route.handler;
      route.handler = function (this: FastifyInstance, request, reply) {
        const links = learnedHints.lookup(request);
        if (links && !isPushedRequest(request)) {
          const context = fastifyContextOf(request, reply);
          if (sendAtOnce) writeEarlyHints(context, links);
          else context.pendingHints = links;
        }
        return handler.call(this, request, reply);
      };
    });
  }
}

function fastifyContextOf(request: FastifyRequest, reply: FastifyReply): PushContext {
  return PushContext.of(request, reply, request.raw, reply.raw);
}

function enterContext(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  pushContextStorage.run(fastifyContextOf(request, reply), done);
}

function reenterContext(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const context = fastifyContextOf(request, reply);
  if (pushContextStorage.getStore() !== context) pushContextStorage.run(context, done);
  else done();
}
