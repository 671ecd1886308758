import { Injectable, Optional, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { PUSH_RESOURCES_METADATA } from './push.constants';
import type { NormalizedPush } from './push-resource.interface';
import { PushIssuer } from './push.issuer';
import { PreloadFallback } from './preload-fallback';

const NOTHING: readonly NormalizedPush[] = Object.freeze([]);

/**
 * Attached by `@Push()` to the routes that declare resources (not global: other routes pay nothing).
 * Promises the `@Push()` resources of a handler before the handler runs: they are known up front, and the
 * client must learn of a push before it parses the reference to it. Resources that cannot be pushed go out
 * as one 103 Early Hints, also before the handler. Guards have run by then, so a page the client may not
 * see pushes nothing.
 */
@Injectable()
export class PushInterceptor implements NestInterceptor {
  /** Resources per controller class and handler, read once through Reflector. */
  private readonly declared = new WeakMap<object, Map<object, readonly NormalizedPush[]>>();

  // Optional: without PushModule (e.g. a unit test of a controller), @Push() is inert metadata.
  constructor(
    private readonly reflector: Reflector,
    @Optional() private readonly issuer?: PushIssuer,
    @Optional() private readonly fallback?: PreloadFallback,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.issuer?.active || context.getType() !== 'http') return next.handle();
    const resources = this.resourcesOf(context);
    const http = context.switchToHttp();
    const pushContext = this.issuer.contextOf(http.getRequest<object>(), http.getResponse<object>());
    // @Push() on both the controller and the handler attaches this interceptor twice: issue once.
    if (resources.length > 0 && !pushContext.declaredIssued) {
      pushContext.declaredIssued = true;
      for (const resource of resources) this.issuer.issue(pushContext, resource);
      this.fallback?.sendEarlyHints(pushContext);
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
      resources = this.reflector.getAllAndMerge<NormalizedPush[]>(PUSH_RESOURCES_METADATA, [controller, handler]);
      if (resources.length === 0) resources = NOTHING;
      byHandler.set(handler, resources);
    }
    return resources;
  }
}
