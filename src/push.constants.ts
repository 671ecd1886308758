/** Metadata key under which `@Push()` stores the resources of a handler or controller. */
export const PUSH_RESOURCES_METADATA = 'nestjs-http2-push:resources';

/** Request headers a pushed request copies from the client's request unless `inheritHeaders` says otherwise. */
export const DEFAULT_INHERITED_HEADERS: readonly string[] = [
  'cookie',
  'authorization',
  'user-agent',
  'accept-language',
  'accept-encoding',
];

/** Inherited only when the pushed request goes to the client's own authority. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['cookie', 'authorization']);

export const DEFAULT_MAX_PUSHES_PER_REQUEST = 16;

export const DEFAULT_DIARY_SIZE = 256;

export const DEFAULT_MAX_CONCURRENT_PUSHES_PER_CONNECTION = 32;

export const DEFAULT_PUSH_TIMEOUT_MS = 30_000;

/** `learnedHints: true`: the limits of the store and which requests get the learned 103. */
export const DEFAULT_LEARNED_HINTS = Object.freeze({ maxPaths: 1000, maxLinksPerPath: 16, maxBytes: 256 * 1024, navigationsOnly: true });

/** Provider token of the module options after defaults and checks (ResolvedPushOptions). */
/** `@opentelemetry/api` as loaded at start-up, or undefined (not installed, or `telemetry: false`). */
export const OPENTELEMETRY_API = Symbol('nestjs-http2-push:opentelemetry-api');

export const RESOLVED_PUSH_OPTIONS = Symbol('nestjs-http2-push:resolved-options');

/** Where the Fastify hook keeps a request's PushContext. */
export const PUSH_CONTEXT = Symbol('nestjs-http2-push:context');
