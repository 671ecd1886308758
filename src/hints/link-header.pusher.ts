import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_PUSH_OPTIONS } from '../push.constants';
import type { PushContext } from '../context/push-context';
import type { ResolvedPushOptions } from '../module/push-module-options.interface';
import { normalizePush } from '../push/push-validation';
import { preloadTargets } from './preload-link-parser';
import { PushIssuer } from '../push/push.issuer';
import { PushMonitor } from '../monitor/push.monitor';

/**
 * `pushLinkHeaders`: pushes what the response's own `Link: rel=preload` header names, just before its
 * headers go out (Fastify's onSend), so that code written for proxies that push from `Link` pushes here too.
 * Push only: the Express adapter, which cannot push, does not call it.
 */
@Injectable()
export class LinkHeaderPusher {
  constructor(
    @Inject(RESOLVED_PUSH_OPTIONS) private readonly options: ResolvedPushOptions,
    private readonly issuer: PushIssuer,
    private readonly monitor: PushMonitor,
  ) {}

  get enabled(): boolean {
    return this.options.pushLinkHeaders;
  }

  /** `header`: the response's `Link` header as the application set it. */
  pushLinked(context: PushContext, header: unknown): void {
    if (context.pushed) return;
    for (const target of preloadTargets(header)) {
      const query = target.indexOf('?');
      try {
        const push = query === -1
          ? normalizePush(target)
          : normalizePush(target.slice(0, query), undefined, { qs: target.slice(query + 1) });
        this.issuer.issue(context, push);
      } catch (error) {
        // The link was written for browsers, not for us: a link we cannot push is skipped, never a 500.
        this.monitor.verbose(`Link ${target} not pushed: ${(error as Error).message}`);
      }
    }
  }
}
