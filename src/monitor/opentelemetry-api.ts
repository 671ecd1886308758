import { Logger } from '@nestjs/common';
import type { ResolvedPushOptions } from '../module/push-module-options.interface';

/** `@opentelemetry/api`'s exports; a type only, so nothing of it is loaded or named in the public declarations. */
export type OpenTelemetryApi = typeof import('@opentelemetry/api');

/** The meter's and the tracer's name: the instrumentation scope of everything this module records. */
export const INSTRUMENTATION_SCOPE = 'nestjs-http2-push';

/** The package's version, for the instrumentation scope (test/opentelemetry.e2e-spec.ts checks it against package.json). */
export const PACKAGE_VERSION = '0.1.0';

/**
 * `@opentelemetry/api` if the application has it and `telemetry` is not false; else undefined, and the
 * module records nothing. A dynamic import so that an application without it loads the module all the same;
 * in the CommonJS build it is a `require()` inside a promise, whose failure is caught here.
 */
export async function loadOpenTelemetryApi(options: ResolvedPushOptions): Promise<OpenTelemetryApi | undefined> {
  if (options.telemetry === false) return undefined;
  try {
    const loaded = (await import('@opentelemetry/api')) as OpenTelemetryApi & { default?: OpenTelemetryApi };
    // Imported as an ES module (as under Jest), a CommonJS package may come as its default export only.
    return typeof loaded.metrics === 'object' ? loaded : loaded.default;
  } catch {
    if (options.telemetry === true) {
      new Logger('PushModule').warn('telemetry: true, but @opentelemetry/api cannot be loaded: install it to record push metrics and traces.');
    }
    return undefined;
  }
}
