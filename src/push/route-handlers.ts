import { PATH_METADATA } from '@nestjs/common/constants';

/** The route handlers of a controller class, given its prototype: its methods and inherited ones that carry a route path. */
export function routeHandlers(prototype: object | null): Set<object> {
  const handlers = new Set<object>();
  for (let proto = prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler: unknown = Object.getOwnPropertyDescriptor(proto, name)?.value;
      if (name !== 'constructor' && typeof handler === 'function' && Reflect.getMetadata(PATH_METADATA, handler) !== undefined) handlers.add(handler);
    }
  }
  return handlers;
}
