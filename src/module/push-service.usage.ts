import type { ModulesContainer } from '@nestjs/core';
import { PushService } from '../push/push.service';

/** Nest's metadata keys for constructor and property injection. */
const PARAM_TYPES = 'design:paramtypes';
const SELF_PARAM_TYPES = 'self:paramtypes';
const PROPERTY_DEPS = 'self:properties_metadata';

/**
 * Whether any provider, controller or enhancer of the application injects PushService. Only then does the
 * module need AsyncLocalStorage, whose hooks slow every request on Node 20 (see bench/RESULTS.md).
 */
export function injectsPushService(modules: ModulesContainer): boolean {
  for (const module of modules.values()) {
    for (const wrappers of [module.providers, module.controllers, module.injectables]) {
      for (const wrapper of wrappers.values()) {
        if (wrapper.inject?.includes(PushService)) return true;
        const type = wrapper.metatype;
        if (typeof type !== 'function' || type === PushService) continue;
        const params: unknown[] = Reflect.getMetadata(PARAM_TYPES, type) ?? [];
        const explicit: { param: unknown }[] = Reflect.getMetadata(SELF_PARAM_TYPES, type) ?? [];
        const properties: { type: unknown }[] = Reflect.getMetadata(PROPERTY_DEPS, type) ?? [];
        if (params.includes(PushService) || explicit.some((d) => d.param === PushService) || properties.some((d) => d.type === PushService)) {
          return true;
        }
      }
    }
  }
  return false;
}
