import { constants, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { PushBudget } from './push-allowance';

/**
 * Node's HTTP/2 (nghttp2) ends a connection with GOAWAY once its client's RST_STREAM frames outrun a token
 * bucket: 1,000 at once, 33 more each second, the rapid-reset defence (CVE-2023-44487). It counts every
 * reset, also one for a push that had already completed, which the module never hears of; so without more,
 * each push must be charged as a possible reset, and a client that keeps every push is throttled like one
 * that resets them all.
 *
 * Where Node lets a server set that bucket (`streamResetBurst`/`streamResetRate`, Node 22.10 and 23+; Node
 * 20 ignores them), the module splits it: the transport's bucket grows by room for one reset per push
 * (PUSH_RESET_ROOM, which is also the connection's push budget), and the defence for the client's own streams
 * moves here, with the same numbers: a client that resets more than 1,000 of its requests at once (33 more
 * each second) while the server still serves them loses its connection (GOAWAY ENHANCE_YOUR_CALM), as
 * before. Resets of requests already answered cost the server nothing and are left to the transport's bucket.
 * A server whose options set either limit is left as its owner configured it.
 */

/** nghttp2's default, the bucket the client's own streams keep. */
export const TRANSPORT_RESET_LIMIT: PushBudget = Object.freeze({ burst: 1000, perSecond: 33 });
/** What the transport's bucket grows by, and the push budget of a connection where it did. */
export const PUSH_RESET_ROOM: PushBudget = Object.freeze({ burst: 100_000, perSecond: 10_000 });

/** True on Node releases whose HTTP/2 server honours `streamResetBurst` and `streamResetRate`. */
export function honoursStreamResetOptions(version: string = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 10);
}

interface SessionOptions {
  streamResetBurst?: number;
  streamResetRate?: number;
}

/**
 * Grows the transport's reset bucket of `server` (an HTTP/2 server not listening yet) and guards its
 * clients' own streams instead; returns false, leaving everything as it was, where that cannot be done:
 * not an HTTP/2 server, a Node that ignores the options, or options its owner set. Node reads a server's
 * options again for each new session, from the object it kept at creation (not public: checked here).
 */
export function liftTransportResetLimit(server: unknown): boolean {
  if (!honoursStreamResetOptions() || !isHttp2Server(server)) return false;
  const options = sessionOptionsOf(server);
  if (!options || options.streamResetBurst !== undefined || options.streamResetRate !== undefined) return false;
  options.streamResetBurst = TRANSPORT_RESET_LIMIT.burst + PUSH_RESET_ROOM.burst;
  options.streamResetRate = TRANSPORT_RESET_LIMIT.perSecond + PUSH_RESET_ROOM.perSecond;
  server.on('stream', watchClientStream);
  return true;
}

function isHttp2Server(server: unknown): server is NodeJS.EventEmitter & { updateSettings(settings: object): void } {
  const candidate = server as { updateSettings?: unknown; on?: unknown } | null;
  return typeof candidate?.updateSettings === 'function' && typeof candidate.on === 'function';
}

function sessionOptionsOf(server: object): SessionOptions | undefined {
  const symbol = Object.getOwnPropertySymbols(server).find((s) => s.description === 'options');
  const options = symbol && (server as Record<symbol, unknown>)[symbol];
  return options !== null && typeof options === 'object' && 'settings' in options ? (options as SessionOptions) : undefined;
}

/** One bucket per connection, created at its first reset. */
const buckets = new WeakMap<Http2Session, { tokens: number; at: number }>();

function watchClientStream(stream: ServerHttp2Stream): void {
  // A reset can arrive in the same read as the request's HEADERS, before this listener runs.
  if (stream.aborted) clientReset.call(stream);
  else stream.once('aborted', clientReset);
}

/** 'aborted': the stream closed with an error code before the server ended it. */
function clientReset(this: ServerHttp2Stream): void {
  const session = this.session;
  if (!session || session.destroyed) return;
  const now = performance.now();
  let bucket = buckets.get(session);
  if (!bucket) buckets.set(session, (bucket = { tokens: TRANSPORT_RESET_LIMIT.burst, at: now }));
  bucket.tokens = Math.min(TRANSPORT_RESET_LIMIT.burst, bucket.tokens + ((now - bucket.at) * TRANSPORT_RESET_LIMIT.perSecond) / 1000);
  bucket.at = now;
  if (bucket.tokens >= 1) {
    bucket.tokens--;
    return;
  }
  // As nghttp2 would: GOAWAY with the reason, then the connection ends (destroy alone sends NO_ERROR).
  session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
  session.destroy(undefined, constants.NGHTTP2_ENHANCE_YOUR_CALM);
}
