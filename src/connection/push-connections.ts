import type { Http2ServerResponse, Http2Session, ServerHttp2Stream } from 'node:http2';
import type { PushCounts } from '../context/push-context';
import { PushAllowance, type PushBudget } from './push-allowance';

/**
 * What the module remembers about one HTTP/2 connection, like Apache's H2PushDiary: the promised streams
 * still open on it and the resources it was pushed, so none is pushed twice (a bounded diary: oldest
 * entries go first), and whether it may get more pushes (its budget, its client's cancellations). Looked
 * up once per push; forgotten with the session object.
 */
export class PushConnection {
  /**
   * Promised streams not closed yet, oldest first: the client's SETTINGS_MAX_CONCURRENT_STREAMS counts
   * them, and PromisedStreamServer sweeps them for `pushTimeoutMs`.
   */
  readonly open = new Set<PromisedPush>();
  /** The connection's one `pushTimeoutMs` timer (PromisedStreamServer), armed while a handler may be late. */
  sweep: NodeJS.Timeout | undefined = undefined;
  private readonly diary = new Set<string>();
  /** Asked before each push, told how each push ended (PromisedStreamServer). */
  readonly allowance: PushAllowance;

  constructor(
    private readonly diarySize: number,
    budget: PushBudget | false,
  ) {
    this.allowance = new PushAllowance(budget, performance.now());
  }

  wasPushed(key: string): boolean {
    return this.diary.has(key);
  }

  remember(key: string): void {
    if (this.diarySize === 0) return;
    this.diary.add(key);
    if (this.diary.size > this.diarySize) this.diary.delete(this.diary.values().next().value as string);
  }

  /** A cancelled push did not reach the client: it may be pushed again. */
  forget(key: string): void {
    this.diary.delete(key);
  }
}

/** One push, from its PUSH_PROMISE to the close of its stream. */
export class PromisedPush {
  /** The promised stream, from Node's callback to its close. */
  stream: ServerHttp2Stream | undefined = undefined;
  /** The pushed request's response, from its dispatch to the close of its stream. */
  response: Http2ServerResponse | undefined = undefined;
  /** True once its end (completed, cancelled or failed) was reported. */
  settled = false;
  /** With OpenTelemetry (PushTracing): the page's context from the promise on, the push's span from its dispatch to its end. */
  trace: unknown = undefined;

  constructor(
    /** The page's push counts only: holding its whole context would keep the page's objects alive until every push ends. */
    readonly counts: PushCounts,
    readonly connection: PushConnection,
    /** Diary key: method, scheme, authority, path and query. */
    readonly key: string,
    /** Path and query, for events. */
    readonly url: string,
    /** `performance.now()` when the push was promised. */
    readonly started: number,
  ) {}
}

/** Per-connection push state. Nothing here is shared between processes. */
export class PushConnections {
  private readonly connections = new WeakMap<Http2Session, PushConnection>();

  constructor(
    private readonly diarySize: number,
    private readonly budget: PushBudget | false,
  ) {}

  of(session: Http2Session): PushConnection {
    let connection = this.connections.get(session);
    if (!connection) this.connections.set(session, (connection = new PushConnection(this.diarySize, this.budget)));
    return connection;
  }
}
