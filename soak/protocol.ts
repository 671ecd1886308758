/** Messages between the soak driver (parent) and the server child, over the fork() IPC channel. */
import type { PushStats } from '../src';

/** What the server child tells about itself. Memory is read after `global.gc()` when `gc` was asked. */
export interface ServerSnapshot {
  stats: PushStats;
  /** Completed pushes per response status (from `PushMonitor.events$`). */
  completedByStatus: Record<string, number>;
  memory: NodeJS.MemoryUsage;
  /** Whether a full GC ran before `memory` was read (the child runs with --expose-gc). */
  gc: boolean;
  /** `process.getActiveResourcesInfo()`, counted per kind. */
  resources: Record<string, number>;
  /** HTTP/2 sessions open now, and since start. */
  openSessions: number;
  sessions: number;
  /**
   * Closed sessions still reachable (WeakRefs that still resolve): after a GC, a closed session nothing
   * holds is gone. Node 20 keeps a destroyed session's `setTimeout()` timer (Fastify's http2SessionTimeout)
   * pending, so each one is held until that timer fires; anything held longer is a leak.
   */
  closedSessionsReachable: number;
  /** Page requests whose handler ran (`/page`, `/service`). */
  pages: number;
  /** Requests the module pushed that reached a handler. */
  pushedHandled: number;
  /** Times the flaky pushed route threw. */
  flakyThrows: number;
  /** Handlers of the slow pushed route still waiting. */
  slowPending: number;
  /** Error-level log lines (Nest's exception handler logs the flaky route's throws), and a few samples. */
  errorLogs: number;
  errorSamples: string[];
  /** `sessionError` events of the HTTP/2 server (clients that vanish mid-frame cause some). */
  sessionErrors: Record<string, number>;
  uncaughtExceptions: string[];
  unhandledRejections: string[];
  /** process 'warning' events per name (MaxListenersExceededWarning would point at a listener leak). */
  warnings: Record<string, number>;
}

export type ToServer =
  | { type: 'snapshot'; id: number; gc: boolean }
  /** Writes a V8 heap snapshot (after GC) to `file`, then answers like `snapshot`. */
  | { type: 'heap-snapshot'; id: number; file: string }
  | { type: 'stop' };

export type FromServer =
  | { type: 'ready'; port: number }
  | { type: 'snapshot'; id: number; snapshot: ServerSnapshot }
  | { type: 'fatal'; error: string };
