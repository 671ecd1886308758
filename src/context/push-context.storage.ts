import { AsyncLocalStorage } from 'node:async_hooks';
import type { PushContext } from './push-context';

/** Finds the PushContext of the request being handled, from any code it calls. */
export const pushContextStorage = new AsyncLocalStorage<PushContext>();
