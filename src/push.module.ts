import { Module, type DynamicModule } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { RESOLVED_PUSH_OPTIONS } from './push.constants';
import { PushContextHooks } from './push-context.hooks';
import { PushIssuer } from './push.issuer';
import { PushMonitor } from './push.monitor';
import { PreloadFallback } from './preload-fallback';
import { LinkHeaderPusher } from './link-header.pusher';
import { DigestCookie } from './push-digest.cookie';
import { ConfigurablePushModule, PUSH_MODULE_OPTIONS, PUSH_OPTIONS_TYPE } from './push.module-definition';
import { PushService } from './push.service';
import { resolvePushOptions } from './push-validation';
import type { ResolvedPushOptions } from './push-module-options.interface';
import { LearnedHints } from './learned-hints/learned-hints';
import { LEARNED_HINTS_ROUTES, prepareRoutesForLearnedHints } from './learned-hints/learned-hints.routes';

/**
 * HTTP/2 server push for Nest on Fastify. `PushModule.forRoot(options?)` or `forRootAsync(...)`, once, in
 * the root module; global by default. Registers its Fastify hooks itself; `@Push()` attaches its interceptor.
 */
@Module({
  providers: [
    { provide: RESOLVED_PUSH_OPTIONS, useFactory: resolvePushOptions, inject: [PUSH_MODULE_OPTIONS] },
    PushIssuer,
    PushMonitor,
    PreloadFallback,
    LinkHeaderPusher,
    DigestCookie,
    PushService,
    PushContextHooks,
    LearnedHints,
    // Made while the application is created, before Nest registers its routes: see learned-hints.routes.ts.
    {
      provide: LEARNED_HINTS_ROUTES,
      useFactory: (options: ResolvedPushOptions, modules: ModulesContainer) =>
        options.learnedHints ? prepareRoutesForLearnedHints(modules) : { everyRouteGuarded: false },
      inject: [RESOLVED_PUSH_OPTIONS, ModulesContainer],
    },
  ],
  // PushIssuer and PreloadFallback are exported for the PushInterceptor that @Push() attaches in other modules.
  exports: [PushService, PushMonitor, PushIssuer, PreloadFallback],
})
export class PushModule extends ConfigurablePushModule {
  /** `forRoot()` with no argument means all defaults (the builder itself requires an object). */
  static forRoot(options: typeof PUSH_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
