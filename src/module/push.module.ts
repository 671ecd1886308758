import { Module, type DynamicModule, type NestModule } from '@nestjs/common';
import { OPENTELEMETRY_API, RESOLVED_PUSH_OPTIONS } from '../push.constants';
import { PushAdapterSetup } from './push-adapter.setup';
import { PushIssuer } from '../push/push.issuer';
import { PushMonitor } from '../monitor/push.monitor';
import { PreloadFallback } from '../hints/preload-fallback';
import { LinkHeaderPusher } from '../hints/link-header.pusher';
import { DigestCookie } from '../cache/push-digest.cookie';
import { ConfigurablePushModule, PUSH_MODULE_OPTIONS, PUSH_OPTIONS_TYPE } from './push.module-definition';
import { PushService } from '../push/push.service';
import { resolvePushOptions } from '../push/push-validation';
import { LearnedHints } from '../hints/learned/learned-hints';
import { loadOpenTelemetryApi } from '../monitor/opentelemetry-api';
import { PushTelemetry } from '../monitor/push.telemetry';
import { PushTracing } from '../monitor/push.tracing';

/**
 * HTTP/2 server push for Nest on Fastify, early hints on Fastify and Express. `PushModule.forRoot(options?)`
 * or `forRootAsync(...)`, once, in the root module; global by default. Installs what it needs on the HTTP
 * adapter itself (PushAdapterSetup); `@Push()` attaches its interceptor.
 */
@Module({
  providers: [
    { provide: RESOLVED_PUSH_OPTIONS, useFactory: resolvePushOptions, inject: [PUSH_MODULE_OPTIONS] },
    { provide: OPENTELEMETRY_API, useFactory: loadOpenTelemetryApi, inject: [RESOLVED_PUSH_OPTIONS] },
    PushTelemetry,
    PushTracing,
    PushIssuer,
    PushMonitor,
    PreloadFallback,
    LinkHeaderPusher,
    DigestCookie,
    PushService,
    LearnedHints,
    PushAdapterSetup,
  ],
  // PushIssuer and PreloadFallback are exported for the PushGuard that @Push() attaches in other modules.
  exports: [PushService, PushMonitor, PushIssuer, PreloadFallback],
})
export class PushModule extends ConfigurablePushModule implements NestModule {
  constructor(private readonly setup: PushAdapterSetup) {
    super();
  }

  /** `forRoot()` with no argument means all defaults (the builder itself requires an object). */
  static forRoot(options: typeof PUSH_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  /** Nest registers middleware here: after the body parsers, before Nest middleware and routes. */
  configure(): void {
    this.setup.install();
  }
}
