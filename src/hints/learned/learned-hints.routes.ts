import { RequestMethod, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { APP_GUARD, type ModulesContainer } from '@nestjs/core';
import { PushContext } from '../../context/push-context';
import { writeEarlyHints } from '../preload-fallback';
import { routeHandlers } from '../../push/route-handlers';

/**
 * Where a route's learned hints may go out. A 103 must never reach a client that the route's guards
 * reject, so:
 * - a route with guards (its own, its controller's or global `APP_GUARD`s) gets one more guard, last,
 *   which always allows and sends the hints the request was given: after every real guard passed, and
 *   at the cost of one synchronous call on a route that already runs guards;
 * - a route with no guard at all is marked, through its Fastify route config, so that its Fastify handler
 *   (wrapped by the adapter) sends them at once, after every Fastify hook, with no Nest enhancer on the
 *   route (a guard or a global interceptor would cost every request; measured in bench part 2). Express has
 *   no such place between routing and a route's guards: there (`guardEveryRoute`) every GET route gets the
 *   sending guard.
 * This runs when Nest registers middleware (PushAdapterSetup), before it registers its routes (which reads both).
 * Guards added later with `app.useGlobalGuards()` are only seen at start-up: see PushAdapterSetup.
 */

/** Metadata key of `@RouteConfig()` (@nestjs/platform-fastify), which Nest passes to Fastify as the route's config. */
const FASTIFY_ROUTE_CONFIG_METADATA = '__fastify_route_config__';
/** In a route's config: true when the route has no guard, so its learned hints may go out before Nest runs it. */
export const HINTS_BEFORE_HANDLER = 'nestjs-http2-push:hints-before-handler';

/** The guard appended to guarded routes: runs last, always allows, sends the learned hints it finds. */
export const SEND_HINTS_AFTER_GUARDS: CanActivate = Object.freeze({
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() === 'http') sendPendingHints(context.switchToHttp().getRequest());
    return true;
  },
});

/** Sends the learned hints that the adapter left on the request for after the guards. */
export function sendPendingHints(request: object): void {
  const context = PushContext.peek(request as never);
  const links = context?.pendingHints;
  if (!context || !links) return;
  context.pendingHints = undefined;
  writeEarlyHints(context, links);
}

/** What preparing the routes found. */
export interface RoutePreparation {
  /** An `APP_GUARD` guards every route, or `guardEveryRoute` was asked: every GET route got the sending guard. */
  readonly everyRouteGuarded: boolean;
}

/**
 * Prepares every GET route of the application for learned hints (see above). Idempotent, and safe when
 * several applications share controllers: a route once marked guarded is never marked unguarded again.
 */
export function prepareRoutesForLearnedHints(modules: ModulesContainer, guardEveryRoute = false): RoutePreparation {
  const globalGuards = guardEveryRoute || hasAppGuards(modules);
  for (const module of modules.values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype;
      if (typeof controller !== 'function') continue;
      const controllerGuards: unknown[] = Reflect.getMetadata(GUARDS_METADATA, controller) ?? [];
      for (const handler of getRouteHandlers(controller.prototype)) {
        const handlerGuards: unknown[] = Reflect.getMetadata(GUARDS_METADATA, handler) ?? [];
        if (globalGuards || controllerGuards.length > 0 || handlerGuards.length > 0) {
          markRoute(handler, false);
          if (!handlerGuards.includes(SEND_HINTS_AFTER_GUARDS)) {
            Reflect.defineMetadata(GUARDS_METADATA, [...handlerGuards, SEND_HINTS_AFTER_GUARDS], handler);
          }
        } else {
          markRoute(handler, true);
        }
      }
    }
  }
  return { everyRouteGuarded: globalGuards };
}

/** Whether Fastify route config `config` says the route has no guard; undefined for a route not prepared here. */
export function hintsBeforeHandler(config: unknown): boolean | undefined {
  const mark = (config as Record<string, unknown> | undefined)?.[HINTS_BEFORE_HANDLER];
  return typeof mark === 'boolean' ? mark : undefined;
}

function markRoute(handler: object, unguarded: boolean): void {
  const config: Record<string, unknown> = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) ?? {};
  if (config[HINTS_BEFORE_HANDLER] === unguarded || (unguarded && config[HINTS_BEFORE_HANDLER] === false)) return;
  Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...config, [HINTS_BEFORE_HANDLER]: unguarded }, handler);
}

/** The GET (and ALL) route handlers of a controller, its base classes' included. */
function getRouteHandlers(prototype: object): object[] {
  return [...routeHandlers(prototype)].filter((handler) => {
    const method = Reflect.getMetadata(METHOD_METADATA, handler);
    return method === RequestMethod.GET || method === RequestMethod.ALL;
  });
}

/** Whether some module provides an `APP_GUARD` (Nest registers each under `APP_GUARD (UUID: …)`). */
function hasAppGuards(modules: ModulesContainer): boolean {
  for (const module of modules.values()) {
    for (const collection of [module.providers, module.injectables]) {
      for (const token of collection.keys()) if (typeof token === 'string' && token.startsWith(APP_GUARD)) return true;
    }
  }
  return false;
}
