import { Inject, Injectable, Logger } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { RESOLVED_PUSH_OPTIONS } from './push.constants';
import type { PushEvent, PushRefusal, PushStats } from './push-event.interface';
import type { ResolvedPushOptions } from './push-module-options.interface';

const REFUSALS: readonly PushRefusal[] = ['http1', 'disabled', 'limit', 'duplicate', 'nested', 'closed', 'cached'];

/**
 * Where every push's life is told: counters (`stats()`), an observable of events (`events$`), the
 * `onPush` option, and debug logs. Subscribers' errors are logged, never thrown into a request.
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

  emit(event: PushEvent): void {
    const counters = this.counters;
    switch (event.type) {
      case 'refused':
        counters.refused[event.reason]++;
        break;
      case 'completed':
        counters.completed++;
        counters.bytes += event.bytes;
        break;
      default:
        counters[event.type]++;
    }
    if (Logger.isLevelEnabled('debug')) this.logger.debug(`push ${event.path} ${describe(event)}`);
    if (this.options.onPush) this.notify(() => this.options.onPush!(event));
    if (this.subject.observed) this.notify(() => this.subject.next(event));
  }

  /** One listener's error is logged; it neither reaches the request nor keeps the others from the event. */
  private notify(listener: () => void): void {
    try {
      listener();
    } catch (error) {
      this.logger.error(`a push event listener threw: ${(error as Error).message}`);
    }
  }

  countHints(count: number): void {
    this.counters.hinted += count;
  }

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
