import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { PUSH_RESOURCES_METADATA } from './push.constants';
import { pushContextOf } from './push-context.hooks';
import type { NormalizedPush } from './push-resource.interface';
import { PushIssuer } from './push.issuer';
import { PreloadFallback } from './preload-fallback';

const NOTHING: readonly NormalizedPush[] = Object.freeze([]);

/**
 * Promises the `@Push()` resources of a handler before the handler runs: they are known up front, and the
 * client must learn of a push before it parses the reference to it. Resources that cannot be pushed go out
 * as one 103 Early Hints, also before the handler. Guards have run by then, so a page the client may not
 * see pushes nothing.
 */
@Injectable()
export class PushInterceptor implements NestInterceptor {
  /** Resources per controller class and handler, read once through Reflector. */
  private readonly declared = new WeakMap<object, Map<object, readonly NormalizedPush[]>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly issuer: PushIssuer,
    private readonly fallback: PreloadFallback,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const resources = this.resourcesOf(context);
    if (resources.length > 0) {
      const pushContext = pushContextOf(context.switchToHttp().getRequest<FastifyRequest>());
      if (pushContext) {
        for (const resource of resources) this.issuer.issue(pushContext, resource);
        this.fallback.sendEarlyHints(pushContext);
      }
    }
    return next.handle();
  }

  private resourcesOf(context: ExecutionContext): readonly NormalizedPush[] {
    const controller = context.getClass();
    const handler = context.getHandler();
    let byHandler = this.declared.get(controller);
    if (!byHandler) this.declared.set(controller, (byHandler = new Map()));
    let resources = byHandler.get(handler);
    if (!resources) {
      resources = context.getType() === 'http'
        ? this.reflector.getAllAndMerge<NormalizedPush[]>(PUSH_RESOURCES_METADATA, [controller, handler])
        : NOTHING;
      if (resources.length === 0) resources = NOTHING;
      byHandler.set(handler, resources);
    }
    return resources;
  }
}
