import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { PUSH_CONTEXT, RESOLVED_PUSH_OPTIONS } from './push.constants';
import type { ResolvedPushOptions } from './push-module-options.interface';
import { injectsPushService } from './push-service.usage';
import { PushContext } from './push-context';
import { pushContextStorage } from './push-context.storage';
import { PushIssuer } from './push.issuer';
import { PreloadFallback } from './preload-fallback';
import { LinkHeaderPusher } from './link-header.pusher';
import { DigestCookie } from './push-digest.cookie';
import { PushedRequestDispatcher, type FastifyRouting } from './pushed-request.dispatcher';
import { isPushedRequest } from './is-pushed-request';
import { writeEarlyHints } from './preload-fallback';
import { LearnedHints } from './learned-hints/learned-hints';
import { LEARNED_HINTS_ROUTES, hintsBeforeHandler, type RoutePreparation } from './learned-hints/learned-hints.routes';

/**
 * Registers, on the application's Fastify instance, what the module needs: Fastify's router for serving
 * pushed streams; when PushService is used, hooks entering each request's context in AsyncLocalStorage
 * (which costs every request, so only then); with `learnedHints`, a preHandler hook that hints what was
 * learned; and with the `Link` fallback, `pushLinkHeaders`, `digestCookie` or `learnedHints`, an onSend
 * hook that completes the final response's headers (and learns from them).
 */
@Injectable()
export class PushContextHooks implements OnModuleInit {
  private readonly logger = new Logger('PushModule');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly issuer: PushIssuer,
    private readonly fallback: PreloadFallback,
    private readonly linkPusher: LinkHeaderPusher,
    private readonly digestCookie: DigestCookie,
    private readonly modules: ModulesContainer,
    @Inject(RESOLVED_PUSH_OPTIONS) private readonly options: ResolvedPushOptions,
    private readonly learnedHints: LearnedHints,
    private readonly appConfig: ApplicationConfig,
    @Inject(LEARNED_HINTS_ROUTES) private readonly routes: RoutePreparation,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return; // A testing module without an HTTP application: nothing to push to.
    const fastify = adapter.getInstance<FastifyInstance>();
    if (typeof fastify?.addHook !== 'function' || typeof fastify.routing !== 'function') {
      this.logger.warn('PushModule needs @nestjs/platform-fastify (FastifyAdapter); push() does nothing here.');
      return;
    }
    fastify.decorateRequest(PUSH_CONTEXT as unknown as string, undefined);
    if (this.options.requestContext ?? injectsPushService(this.modules)) {
      fastify.addHook('onRequest', enterContext);
      // Body parsing resumes in the connection's async context: enter the request's context again.
      fastify.addHook('preHandler', reenterContext);
    }
    if (this.learnedHints.enabled) this.hintWhatWasLearned(fastify);
    // Only when a feature needs it: routes that push nothing should not pay for a hook.
    if (this.fallback.addsLinkHeader || this.linkPusher.enabled || this.digestCookie.enabled || this.learnedHints.enabled) {
      fastify.addHook('onSend', (request, reply, payload, done) => {
        if (this.linkPusher.enabled && reply.hasHeader('link')) this.linkPusher.pushLinked(PushContext.of(request, reply), reply);
        const context = PushContext.peek(request);
        // Before the fallback adds its links: the application's own Link header is read as it set it.
        if (this.learnedHints.enabled && (context || reply.hasHeader('link'))) {
          this.learnedHints.learn(request, { status: reply.statusCode, cacheControl: reply.getHeader('cache-control'), link: reply.getHeader('link') }, context);
        }
        if (context) {
          this.fallback.addLinkHeader(context, reply);
          this.digestCookie.write(context, reply);
        }
        done(null, payload);
      });
    }
    // Fastify's types name the HTTP/1 classes; at run time `routing` takes any Node request/response pair.
    this.issuer.useDispatcher(new PushedRequestDispatcher(fastify.routing.bind(fastify) as unknown as FastifyRouting));
  }

  /**
   * Learned hints go out once the request is routed, as the last preHandler hook registered by then:
   * from here on a route without guards (marked in its route config) runs only its handler, so the 103
   * is sent at once; on any other route it waits for the last guard (learned-hints.routes.ts).
   */
  private hintWhatWasLearned(fastify: FastifyInstance): void {
    // Global guards guard every route; those given to app.useGlobalGuards() were not there when the
    // routes were prepared, so no route may hint before them, and only guarded routes send at all.
    const globalGuards = this.appConfig.getGlobalGuards().length > 0 || this.appConfig.getGlobalRequestGuards().length > 0;
    if (globalGuards && !this.routes.everyRouteGuarded) {
      this.logger.warn(
        'learnedHints: guards given to app.useGlobalGuards() come too late to be followed on every route; only routes with ' +
          'guards of their own send learned hints. Provide global guards as APP_GUARD providers instead.',
      );
    }
    const learned = this.learnedHints;
    fastify.addHook('preHandler', (request, reply, done) => {
      const links = learned.lookup(request);
      if (links && !isPushedRequest(request)) {
        const context = PushContext.of(request, reply);
        if (!globalGuards && hintsBeforeHandler(request.routeOptions.config)) writeEarlyHints(context, links);
        else context.pendingHints = links;
      }
      done();
    });
  }
}

function enterContext(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  pushContextStorage.run(PushContext.of(request, reply), done);
}

function reenterContext(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const context = PushContext.of(request, reply);
  if (pushContextStorage.getStore() !== context) pushContextStorage.run(context, done);
  else done();
}
