import { Inject, Injectable, Logger } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { RESOLVED_PUSH_OPTIONS } from '../push.constants';
import type { PushEvent, PushRefusal, PushStats } from './push-event.interface';
import type { ResolvedPushOptions } from '../module/push-module-options.interface';

const REFUSALS: readonly PushRefusal[] = ['http1', 'disabled', 'limit', 'duplicate', 'nested', 'closed', 'cached', 'unwanted', 'budget'];

/**
 * Where every push's life is told: counters (`stats()`), an observable of events (`events$`), the
 * `onPush` option, and, with `logEvents`, one verbose log line each. Subscribers' errors are logged, never
 * thrown into a request.
 */
@Injectable()
export class PushMonitor {
  private readonly logger = new Logger('PushModule');
  private readonly subject = new Subject<PushEvent>();
  private readonly counters: PushStats = {
    promised: 0, completed: 0, cancelled: 0, failed: 0, hinted: 0, bytes: 0,
    refused: Object.fromEntries(REFUSALS.map((reason) => [reason, 0])) as Record<PushRefusal, number>,
  };

  /** Every push event, as it happens. */
  readonly events$: Observable<PushEvent> = this.subject.asObservable();

  constructor(@Inject(RESOLVED_PUSH_OPTIONS) private readonly options: ResolvedPushOptions) {}

  // @internal The module reports here: each counts always, and builds its event only for a listener.

  promised(path: string, authority: string): void {
    this.counters.promised++;
    if (this.listening) this.notify({ type: 'promised', path, authority });
  }

  /** `started`: `performance.now()` when it was promised. */
  completed(path: string, status: number, bytes: number, started: number): void {
    this.counters.completed++;
    this.counters.bytes += bytes;
    if (this.listening) this.notify({ type: 'completed', path, status, bytes, durationMs: performance.now() - started });
  }

  cancelled(path: string, code: number): void {
    this.counters.cancelled++;
    if (this.listening) this.notify({ type: 'cancelled', path, code });
  }

  refused(path: string, reason: PushRefusal): void {
    this.counters.refused[reason]++;
    if (this.listening) this.notify({ type: 'refused', path, reason });
  }

  failed(path: string, error: string): void {
    this.counters.failed++;
    if (this.listening) this.notify({ type: 'failed', path, error });
  }

  /** Events are built only for someone: counters cost a push nothing else. */
  private get listening(): boolean {
    return this.options.onPush !== undefined || this.subject.observed || this.options.logEvents;
  }

  private notify(event: PushEvent): void {
    if (this.options.logEvents) this.logger.verbose(`push ${event.path} ${describe(event)}`);
    if (this.options.onPush) this.deliver(() => this.options.onPush!(event));
    if (this.subject.observed) this.deliver(() => this.subject.next(event));
  }

  /**
   * @internal A per-push line that is not an event (a `Link` the module could not push), logged like the
   * events: at verbose level, only with `logEvents`.
   */
  verbose(message: string): void {
    if (this.options.logEvents) this.logger.verbose(message);
  }

  /** One listener's error is logged; it neither reaches the request nor keeps the others from the event. */
  private deliver(listener: () => void): void {
    try {
      listener();
    } catch (error) {
      this.logger.error(`a push event listener threw: ${(error as Error).message}`);
    }
  }

  countHints(count: number): void {
    this.counters.hinted += count;
    this.hintsListener?.(count);
  }

  /** @internal Hints are counted, not events: PushTelemetry hears of them here. */
  hintsListener: ((count: number) => void) | undefined = undefined;

  /** A copy of the counters since start-up. */
  stats(): PushStats {
    return { ...this.counters, refused: { ...this.counters.refused } };
  }
}

function describe(event: PushEvent): string {
  switch (event.type) {
    case 'promised':
      return `promised for ${event.authority}`;
    case 'completed':
      return `completed: ${event.status}, ${event.bytes} bytes, ${event.durationMs.toFixed(1)} ms`;
    case 'cancelled':
      return `cancelled by the client (code ${event.code})`;
    case 'refused':
      return `not pushed: ${event.reason}`;
    case 'failed':
      return `failed: ${event.error}`;
  }
}
