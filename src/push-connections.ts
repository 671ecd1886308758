import type { Http2Session } from 'node:http2';

/** What the module remembers about one HTTP/2 connection; forgotten with the session object. */
interface ConnectionState {
  /** Pushed streams still open, to respect the client's SETTINGS_MAX_CONCURRENT_STREAMS. */
  openPushes: number;
  /** Resources pushed on this connection (oldest first), so none is pushed twice. */
  diary: Set<string>;
}

/**
 * Per-connection push state, like Apache's H2PushDiary: never push a resource the connection already
 * got, with a bounded diary (oldest entries go first). Nothing here is shared between processes.
 */
export class PushConnections {
  private readonly states = new WeakMap<Http2Session, ConnectionState>();

  constructor(private readonly diarySize: number) {}

  private state(session: Http2Session): ConnectionState {
    let state = this.states.get(session);
    if (!state) this.states.set(session, (state = { openPushes: 0, diary: new Set() }));
    return state;
  }

  openPushes(session: Http2Session): number {
    return this.states.get(session)?.openPushes ?? 0;
  }

  opened(session: Http2Session): void {
    this.state(session).openPushes++;
  }

  closed(session: Http2Session): void {
    this.state(session).openPushes--;
  }

  wasPushed(session: Http2Session, key: string): boolean {
    return this.states.get(session)?.diary.has(key) ?? false;
  }

  remember(session: Http2Session, key: string): void {
    if (this.diarySize === 0) return;
    const diary = this.state(session).diary;
    diary.add(key);
    if (diary.size > this.diarySize) diary.delete(diary.values().next().value as string);
  }

  /** A cancelled push did not reach the client: it may be pushed again. */
  forget(session: Http2Session, key: string): void {
    this.states.get(session)?.diary.delete(key);
  }
}
