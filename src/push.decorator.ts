import { UseInterceptors } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { PUSH_RESOURCES_METADATA } from './push.constants';
import { PushInterceptor } from './push.interceptor';
import type { NormalizedPush, PushResource } from './push-resource.interface';
import { normalizeResource } from './push-validation';

/**
 * Declares resources to push with every response of a handler, or of every handler of a controller, and
 * attaches the PushInterceptor that promises them there.
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
    // The interceptor goes only where resources are declared, once per class or handler.
    const interceptors: unknown[] = Reflect.getMetadata(INTERCEPTORS_METADATA, holder) ?? [];
    if (!interceptors.includes(PushInterceptor)) {
      (UseInterceptors(PushInterceptor) as (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => void)(target, _key, descriptor);
    }
  };
}
