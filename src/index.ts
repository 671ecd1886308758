export { PushModule } from './module/push.module';
export { PUSH_MODULE_OPTIONS } from './module/push.module-definition';
export { Push } from './push/push.decorator';
export { Vulcain } from './vulcain/vulcain.decorator';
export { VulcainInterceptor } from './vulcain/vulcain.interceptor';
export { PushService } from './push/push.service';
export { PushMonitor } from './monitor/push.monitor';
export type { PushEvent, PushRefusal, PushStats } from './monitor/push-event.interface';
export { PushGuard } from './push/push.guard';
export { isPushedRequest } from './push/is-pushed-request';
export { pushSummary, type PushSummary } from './monitor/push-summary';
export { PushError, PushValidationError, PushAfterResponseError, PushOutsideRequestError } from './push/push.errors';
export type { PushErrorCode } from './push/push.errors';
export type { DigestCookieOptions, LearnedHintsOptions, PreloadFallbackOptions, PushModuleOptions } from './module/push-module-options.interface';
export type { PushOutcome } from './push/push-outcome';
export { DEFAULT_CONNECTION_PUSH_BUDGET, type PushBudget } from './connection/push-allowance';
export type { PreloadAs, PushHeaders, PushMethod, PushOptions, PushResource } from './push/push-resource.interface';
export {
  DEFAULT_DIARY_SIZE,
  DEFAULT_INHERITED_HEADERS,
  DEFAULT_MAX_CONCURRENT_PUSHES_PER_CONNECTION,
  DEFAULT_MAX_PUSHES_PER_REQUEST,
  DEFAULT_PUSH_TIMEOUT_MS,
} from './push.constants';
