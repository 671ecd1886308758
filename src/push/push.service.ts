import { Injectable } from '@nestjs/common';
import { PushOutsideRequestError } from './push.errors';
import { pushContextStorage } from '../context/push-context.storage';
import type { PushHeaders, PushOptions } from './push-resource.interface';
import { normalizePush } from './push-validation';
import { PushIssuer } from './push.issuer';
import { PreloadFallback } from '../hints/preload-fallback';
import type { PushStats } from '../monitor/push-event.interface';
import { PushMonitor } from '../monitor/push.monitor';

/**
 * Pushes resources from code that runs while a request is handled, like Cowboy's `cowboy_req:push/4`.
 * A singleton: the current request is found through AsyncLocalStorage, never through request-scoped DI.
 */
@Injectable()
export class PushService {
  constructor(
    private readonly issuer: PushIssuer,
    private readonly fallback: PreloadFallback,
    private readonly monitor: PushMonitor,
  ) {}

  /**
   * Promises `path` to the client now, before the response's headers. `headers` are the request headers
   * the client would send for it (lowercase names); `opts` change method (GET/HEAD), scheme, host, port
   * and query string. Safe to call over HTTP/1.1 or when the client disabled push: it then does nothing.
   * Throws a PushError for invalid input, an unknown authority, after the response was sent, or outside a
   * request. Returns true when a PUSH_PROMISE was issued; the result can be ignored. A resource that
   * cannot be pushed is hinted instead (see the `fallback` option).
   */
  push(path: string, headers?: PushHeaders, opts?: PushOptions): boolean {
    const resource = normalizePush(path, headers, opts);
    const context = pushContextStorage.getStore();
    if (!context) {
      if (!this.issuer.active) return false; // No supported HTTP app (e.g. a unit test): nothing to push to.
      throw new PushOutsideRequestError();
    }
    const outcome = this.issuer.issue(context, resource);
    if (outcome !== 'promised') this.fallback.scheduleEarlyHints(context);
    return outcome === 'promised';
  }

  /** True when a push made now could be promised: HTTP/2, push enabled, not a pushed request, not too late. */
  canPush(): boolean {
    const context = pushContextStorage.getStore();
    const stream = context?.stream;
    return !!stream && !context.pushed && !context.responseStarted && !stream.destroyed && stream.pushAllowed;
  }

  /** Counters since start-up: promised, completed, cancelled, failed, refused per reason, hinted, bytes. */
  stats(): PushStats {
    return this.monitor.stats();
  }

  /** True while handling a request this module pushed (see also `isPushedRequest(req)`). */
  isPushed(): boolean {
    return pushContextStorage.getStore()?.pushed ?? false;
  }
}
