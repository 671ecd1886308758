import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { PUSH_CONTEXT } from './push.constants';
import { PushContext } from './push-context';
import { pushContextStorage } from './push-context.storage';
import { PushIssuer } from './push.issuer';
import { PreloadFallback } from './preload-fallback';
import { LinkHeaderPusher } from './link-header.pusher';
import { DigestCookie } from './push-digest.cookie';
import { PushedRequestDispatcher, type FastifyRouting } from './pushed-request.dispatcher';

type RequestWithContext = FastifyRequest & { [PUSH_CONTEXT]?: PushContext };

/**
 * Registers, on the application's Fastify instance, what the module needs: a context per request that
 * PushService finds through AsyncLocalStorage, Fastify's router for serving pushed streams, and (with the
 * `Link` fallback, `pushLinkHeaders` or `digestCookie`) an onSend hook that completes the final response's
 * headers.
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
    fastify.addHook('onRequest', enterNewContext);
    // Body parsing resumes in the connection's async context: enter the request's context again.
    fastify.addHook('preHandler', reenterContext);
    // Only when a feature needs it: routes that push nothing should not pay for a hook.
    if (this.fallback.addsLinkHeader || this.linkPusher.enabled || this.digestCookie.enabled) {
      fastify.addHook('onSend', (request, reply, payload, done) => {
        const context = pushContextOf(request);
        if (context) {
          if (this.linkPusher.enabled) this.linkPusher.pushLinked(context, reply);
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

function enterNewContext(request: RequestWithContext, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const context = new PushContext(request, reply);
  request[PUSH_CONTEXT] = context;
  pushContextStorage.run(context, done);
}

function reenterContext(request: RequestWithContext, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const context = request[PUSH_CONTEXT];
  if (context && pushContextStorage.getStore() !== context) pushContextStorage.run(context, done);
  else done();
}

/** The PushContext of a Fastify request, when the module's hooks saw it. */
export function pushContextOf(request: FastifyRequest): PushContext | undefined {
  return (request as RequestWithContext)[PUSH_CONTEXT];
}
