import { Injectable, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PUSH_RESOURCES_METADATA } from '../push.constants';
import type { NormalizedPush } from './push-resource.interface';
import { PushIssuer } from './push.issuer';
import { PreloadFallback } from '../hints/preload-fallback';

const NOTHING: readonly NormalizedPush[] = Object.freeze([]);

/**
 * Attached by `@Push()` as the last guard of the routes that declare resources (not global: other routes
 * pay nothing). Promises the `@Push()` resources once every other guard let the request through, before
 * interceptors and the handler run: they are known up front, and the client must learn of a push before it
 * parses the reference to it. Resources that cannot be pushed go out as one 103 Early Hints, also before
 * the handler. A guard that denies the page runs first, so a page the client may not see pushes nothing.
 * It never denies anything itself. (A guard, not an interceptor: Nest wraps a route with interceptors in
 * several observables per request, which cost a pushed page more than the pushes themselves.)
 */
@Injectable()
export class PushGuard implements CanActivate {
  /** Resources per controller class and handler, read once through Reflector. */
  private readonly declared = new WeakMap<object, Map<object, readonly NormalizedPush[]>>();

  // Optional: without PushModule (e.g. a unit test of a controller), @Push() is inert metadata.
  constructor(
    private readonly reflector: Reflector,
    @Optional() private readonly issuer?: PushIssuer,
    @Optional() private readonly fallback?: PreloadFallback,
  ) {}

  canActivate(context: ExecutionContext): true {
    if (!this.issuer?.active || context.getType() !== 'http') return true;
    const resources = this.resourcesOf(context);
    if (resources.length === 0) return true;
    const http = context.switchToHttp();
    const pushContext = this.issuer.contextOf(http.getRequest<object>(), http.getResponse<object>());
    // @Push() on both the controller and the handler: issue once.
    if (!pushContext.declaredIssued) {
      pushContext.declaredIssued = true;
      for (const resource of resources) this.issuer.issue(pushContext, resource);
      this.fallback?.sendEarlyHints(pushContext);
    }
    return true;
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
