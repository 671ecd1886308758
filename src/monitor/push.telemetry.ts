import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { constants as h2 } from 'node:http2';
import type { Subscription } from 'rxjs';
import { OPENTELEMETRY_API } from '../push.constants';
import { INSTRUMENTATION_SCOPE, PACKAGE_VERSION, type OpenTelemetryApi } from './opentelemetry-api';
import type { PushEvent } from './push-event.interface';
import { PushMonitor } from './push.monitor';

/** The buckets HTTP's semantic conventions advise for `http.server.request.duration`, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Body sizes of pushed assets, in bytes: 0, then 1 KiB to 16 MiB by fours. */
const BODY_SIZE_BUCKETS = [0, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

/** HTTP/2 error codes (RFC 9113 section 7) by number, as Node's constants name them, for a cancelled push's `error.type`. */
const ERROR_CODE_NAMES = new Map(
  ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR',
    'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
  ].map((name) => [(h2 as unknown as Record<string, number>)[`NGHTTP2_${name}`], name]),
);

/** A cancelled push's reset code as HTTP/2 names it (`CANCEL`, `REFUSED_STREAM`), or its number. */
export function errorCodeName(code: number): string {
  return ERROR_CODE_NAMES.get(code) ?? String(code);
}

/**
 * Push metrics through OpenTelemetry (docs/opentelemetry.md): the monitor's events and hints become
 * counters and histograms of the meter `nestjs-http2-push`. Does nothing without `@opentelemetry/api`
 * (or with `telemetry: false`); records nothing until the application registers a MeterProvider before
 * the Nest application is created (the meter is taken once, at start-up).
 */
@Injectable()
export class PushTelemetry implements OnModuleInit, OnModuleDestroy {
  private readonly api: OpenTelemetryApi | undefined;
  private subscription: Subscription | undefined;

  /** `api` is typed `object` so that no declaration file of this package names `@opentelemetry/api`. */
  constructor(
    @Inject(OPENTELEMETRY_API) api: object | undefined,
    private readonly monitor: PushMonitor,
  ) {
    this.api = api as OpenTelemetryApi | undefined;
  }

  onModuleInit(): void {
    if (!this.api) return;
    const meter = this.api.metrics.getMeter(INSTRUMENTATION_SCOPE, PACKAGE_VERSION);
    // No MeterProvider registered before the application started: every instrument would be a no-op.
    if (meter === this.api.createNoopMeter()) return;
    const pushes = (name: string, description: string) => meter.createCounter(`http2.server.push.${name}`, { unit: '{push}', description });
    const promised = pushes('promised', 'Pushes promised (PUSH_PROMISE sent).');
    const completed = pushes('completed', 'Pushed responses sent to their end.');
    const cancelled = pushes('cancelled', 'Pushes the client reset (RST_STREAM) or whose connection closed before their end.');
    const refused = pushes('refused', 'Pushes not promised, by reason (http1, disabled, limit, unwanted, budget, duplicate, cached, nested, closed).');
    const failed = pushes('failed', 'Pushes Node could not open, or whose handler did not answer within pushTimeoutMs.');
    const hinted = meter.createCounter('http2.server.push.hinted', {
      unit: '{hint}',
      description: 'Resources sent as preload hints (103 Early Hints or Link) instead of pushes.',
    });
    const duration = meter.createHistogram('http2.server.push.duration', {
      unit: 's',
      description: 'Time from the PUSH_PROMISE to the end of the pushed response.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    const bodySize = meter.createHistogram('http2.server.push.body.size', {
      unit: 'By',
      description: 'Body bytes of completed pushed responses.',
      advice: { explicitBucketBoundaries: BODY_SIZE_BUCKETS },
    });
    const record = (event: PushEvent): void => {
      switch (event.type) {
        case 'promised':
          return promised.add(1);
        case 'completed': {
          const attributes = { 'http.response.status_code': event.status };
          completed.add(1, attributes);
          duration.record(event.durationMs / 1000, attributes);
          return bodySize.record(event.bytes, attributes);
        }
        case 'cancelled':
          return cancelled.add(1, { 'error.type': errorCodeName(event.code) });
        case 'refused':
          return refused.add(1, { 'http2.push.refusal.reason': event.reason });
        case 'failed':
          return failed.add(1);
      }
    };
    this.subscription = this.monitor.events$.subscribe(record);
    this.monitor.hintsListener = (count) => hinted.add(count);
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    this.monitor.hintsListener = undefined;
  }
}
