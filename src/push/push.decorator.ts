import { GUARDS_METADATA } from '@nestjs/common/constants';
import { PUSH_RESOURCES_METADATA } from '../push.constants';
import { PushGuard } from './push.guard';
import type { NormalizedPush, PushResource } from './push-resource.interface';
import { normalizeResource } from './push-validation';
import { routeHandlers } from './route-handlers';

/**
 * Declares resources to push with every response of a handler, or of every handler of a controller, and
 * attaches the PushGuard that promises them there, as the route's last guard.
 * Stackable; class resources come before handler resources, each in source order. Resources are checked
 * here, when the class is defined: a bad one fails at start-up with a PushError, not on a request.
 *
 * @example @Push('/static/style.css', { path: '/static/app.js', headers: { accept: '*\/*' } })
 */
export function Push(...resources: (string | PushResource)[]): ClassDecorator & MethodDecorator {
  const declared = resources.map(normalizeResource);
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = descriptor ? descriptor.value : target;
    const existing: NormalizedPush[] = Reflect.getMetadata(PUSH_RESOURCES_METADATA, holder) ?? [];
    // Decorators apply bottom-up: put this one's resources first to keep source order.
    Reflect.defineMetadata(PUSH_RESOURCES_METADATA, [...declared, ...existing], holder);
    // Decorators written above this one apply after it, a @UseGuards() among them would come after the
    // PushGuard: place it once the class is fully decorated, which is long before Nest reads the metadata.
    queueMicrotask(() => {
      for (const handler of descriptor ? [descriptor.value as object] : routeHandlers((target as { prototype: object }).prototype)) guardLast(handler);
    });
  };
}

/** Puts the PushGuard at the end of a handler's own guards, which Nest runs after global and class guards. */
function guardLast(handler: object): void {
  const guards: unknown[] = Reflect.getMetadata(GUARDS_METADATA, handler) ?? [];
  if (guards.at(-1) !== PushGuard) Reflect.defineMetadata(GUARDS_METADATA, [...guards.filter((guard) => guard !== PushGuard), PushGuard], handler);
}
