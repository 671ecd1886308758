import { Inject, Injectable, Logger } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { ExpressPushAdapter } from '../adapters/express.push-adapter';
import { FastifyPushAdapter } from '../adapters/fastify.push-adapter';
import type { PushAdapter, PushAdapterParts } from '../adapters/push-adapter';
import { LearnedHints } from '../hints/learned/learned-hints';
import { prepareRoutesForLearnedHints } from '../hints/learned/learned-hints.routes';
import { RESOLVED_PUSH_OPTIONS } from '../push.constants';
import type { ResolvedPushOptions } from './push-module-options.interface';
import { injectsPushService } from './push-service.usage';
import { PushIssuer } from '../push/push.issuer';
import { PreloadFallback } from '../hints/preload-fallback';
import { LinkHeaderPusher } from '../hints/link-header.pusher';
import { DigestCookie } from '../cache/push-digest.cookie';
import { PushTracing } from '../monitor/push.tracing';

/**
 * Picks the PushAdapter for the application's HTTP adapter and installs it, once, when Nest registers
 * middleware (PushModule.configure): after the adapter's body parsers, before Nest middleware, and before
 * Nest registers the routes (so learned hints can still add their guard to them). Each request enters its
 * context in AsyncLocalStorage only when something injects PushService (it costs every request).
 */
@Injectable()
export class PushAdapterSetup {
  private readonly logger = new Logger('PushModule');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly issuer: PushIssuer,
    private readonly fallback: PreloadFallback,
    private readonly linkPusher: LinkHeaderPusher,
    private readonly digestCookie: DigestCookie,
    private readonly learnedHints: LearnedHints,
    private readonly tracing: PushTracing,
    private readonly modules: ModulesContainer,
    private readonly appConfig: ApplicationConfig,
    @Inject(RESOLVED_PUSH_OPTIONS) private readonly options: ResolvedPushOptions,
  ) {}

  install(): void {
    const http = this.adapterHost.httpAdapter;
    if (!http) return; // An application without HTTP: nothing to push to.
    // Guards given to app.useGlobalGuards() guard every route, but the routes cannot be prepared for them.
    const appGlobalGuards = this.appConfig.getGlobalGuards().length > 0 || this.appConfig.getGlobalRequestGuards().length > 0;
    const parts: PushAdapterParts = {
      fallback: this.fallback,
      linkPusher: this.linkPusher,
      digestCookie: this.digestCookie,
      learnedHints: this.learnedHints,
      tracing: this.tracing,
      appGlobalGuards,
    };
    const instance: unknown = http.getInstance();
    const adapter: PushAdapter | undefined = FastifyPushAdapter.fits(instance)
      ? new FastifyPushAdapter(instance, parts)
      : ExpressPushAdapter.fits(http)
        ? new ExpressPushAdapter(http as never, parts)
        : undefined;
    if (!adapter) {
      this.logger.warn(
        'PushModule supports @nestjs/platform-fastify (push and early hints) and @nestjs/platform-express (early hints); ' +
          `this application's HTTP adapter is "${http.getType?.() ?? http.constructor.name}": @Push() and PushService.push() do nothing here.`,
      );
      return;
    }
    if (this.learnedHints.enabled) this.prepareRoutes(adapter, appGlobalGuards);
    adapter.install(this.options.requestContext ?? injectsPushService(this.modules));
    this.issuer.attach(adapter);
  }

  private prepareRoutes(adapter: PushAdapter, appGlobalGuards: boolean): void {
    const routes = prepareRoutesForLearnedHints(this.modules, !adapter.seesRouteBeforeGuards);
    if (appGlobalGuards && !routes.everyRouteGuarded) {
      this.logger.warn(
        'learnedHints: guards given to app.useGlobalGuards() come too late to be followed on every route; only routes with ' +
          'guards of their own send learned hints. Provide global guards as APP_GUARD providers instead.',
      );
    }
  }
}
