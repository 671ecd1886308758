import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, ModulesContainer } from '@nestjs/core';
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

/**
 * Registers, on the application's Fastify instance, what the module needs: Fastify's router for serving
 * pushed streams; when PushService is used, hooks entering each request's context in AsyncLocalStorage
 * (which costs every request, so only then); and with the `Link` fallback, `pushLinkHeaders` or
 * `digestCookie`, an onSend hook that completes the final response's headers.
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
    // Only when a feature needs it: routes that push nothing should not pay for a hook.
    if (this.fallback.addsLinkHeader || this.linkPusher.enabled || this.digestCookie.enabled) {
      fastify.addHook('onSend', (request, reply, payload, done) => {
        if (this.linkPusher.enabled && reply.hasHeader('link')) this.linkPusher.pushLinked(PushContext.of(request, reply), reply);
        const context = PushContext.peek(request);
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
}

function enterContext(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  pushContextStorage.run(PushContext.of(request, reply), done);
}

function reenterContext(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const context = PushContext.of(request, reply);
  if (pushContextStorage.getStore() !== context) pushContextStorage.run(context, done);
  else done();
}
