export { PushModule } from './push.module';
export { PUSH_MODULE_OPTIONS } from './push.module-definition';
export { Push } from './push.decorator';
export { PushService } from './push.service';
export { PushMonitor } from './push.monitor';
export type { PushEvent, PushRefusal, PushStats } from './push-event.interface';
export { PushGuard } from './push.guard';
export { isPushedRequest } from './is-pushed-request';
export { pushSummary, type PushSummary } from './push-summary';
export { PushError, PushValidationError, PushAfterResponseError, PushOutsideRequestError } from './push.errors';
export type { PushErrorCode } from './push.errors';
export type { DigestCookieOptions, LearnedHintsOptions, PreloadFallbackOptions, PushModuleOptions } from './push-module-options.interface';
export type { PushOutcome } from './push-outcome';
export { DEFAULT_CONNECTION_PUSH_BUDGET, type PushBudget } from './push-allowance';
export type { PreloadAs, PushHeaders, PushMethod, PushOptions, PushResource } from './push-resource.interface';
export {
  DEFAULT_DIARY_SIZE,
  DEFAULT_INHERITED_HEADERS,
  DEFAULT_MAX_CONCURRENT_PUSHES_PER_CONNECTION,
  DEFAULT_MAX_PUSHES_PER_REQUEST,
  DEFAULT_PUSH_TIMEOUT_MS,
} from './push.constants';
