/**
 * The soak's clients: `connections` node:http2 connections at a time, each doing a random number of page
 * loads one after the other and then closing, until `requests` page requests were sent. Each connection
 * is of one kind: a well-behaved client, one that resets pushed streams (CANCEL or REFUSED_STREAM, at
 * the promise or after the first DATA), one that disables push, and three that break things once, on a
 * random page: destroy (or TCP-reset) the socket, send GOAWAY, or reset the page's own stream. Besides,
 * two long connections (`longConnectionPages` pages each) reset pushes for the whole run: one every push
 * (CANCEL and REFUSED_STREAM in turn), one a push in ten; they must keep their connection to the end, as
 * Node ends one whose client resets more than 1,000 streams at once. Errors that follow an injected fault are counted apart ("induced") from errors a well-behaved client met
 * ("unexpected", which fail the soak).
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_NO_ERROR, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_PROTOCOL_ERROR } = http2.constants;

export type ClientKind = 'normal' | 'reset' | 'nopush' | 'destroy' | 'goaway' | 'abort' | 'refuser' | 'picky';

/** The long connections: `refuser` resets every push it is promised, `picky` one in ten. */
export type LongKind = Extract<ClientKind, 'refuser' | 'picky'>;
const LONG_KINDS: readonly LongKind[] = ['refuser', 'picky'];

/** Relative weights of the kinds of short connection. */
export const CLIENT_MIX: Readonly<Record<Exclude<ClientKind, LongKind>, number>> = { normal: 45, reset: 20, nopush: 10, destroy: 10, goaway: 10, abort: 5 };

/** How long a page may go on after a fault was injected on it before the client gives up on it. */
const FAULT_WIND_DOWN_MS = 1000;

type FaultAction = 'socket-destroy' | 'socket-reset' | 'goaway' | 'close' | 'page-reset';
type FaultMoment = 'request' | 'promise' | 'response' | 'data';

interface Fault {
  action: FaultAction;
  at: FaultMoment;
  /** GOAWAY code. */
  code?: number;
  fired: boolean;
}

export interface DriverStats {
  pagesSent: number;
  /** Page responses received in full with status 200. */
  pagesOk: number;
  /** Pages of connections without an injected fault (they must all be 200 and complete). */
  cleanPages: number;
  cleanPagesOk: number;
  pageStatus: Record<string, number>;
  earlyHints: number;
  pushesPromised: number;
  /** Pushed responses received in full, per status. */
  pushesReceived: number;
  pushStatus: Record<string, number>;
  /** Pushed streams this client reset on purpose. */
  pushesReset: number;
  /** Pushes of /asset/slow the server cancelled (its pushTimeoutMs), as it should. */
  slowCancelled: number;
  bytes: number;
  connections: Record<ClientKind, number>;
  faults: Record<string, number>;
  inducedErrors: Record<string, number>;
  unexpectedErrors: Record<string, number>;
  unexpectedSamples: string[];
  pageTimeouts: number;
  /** What each long connection went through: all its pages on one connection, or not. */
  long: Partial<Record<LongKind, LongConnectionStats>>;
}

export interface LongConnectionStats {
  pages: number;
  pagesOk: number;
  pushesPromised: number;
  pushesReset: number;
  /** Why the connection ended before its last page (a GOAWAY from the server, a session error), if it did. */
  lost?: string;
}

export function newDriverStats(): DriverStats {
  return {
    pagesSent: 0, pagesOk: 0, cleanPages: 0, cleanPagesOk: 0, pageStatus: {}, earlyHints: 0,
    pushesPromised: 0, pushesReceived: 0, pushStatus: {}, pushesReset: 0, slowCancelled: 0, bytes: 0,
    connections: { normal: 0, reset: 0, nopush: 0, destroy: 0, goaway: 0, abort: 0, refuser: 0, picky: 0 },
    faults: {}, inducedErrors: {}, unexpectedErrors: {}, unexpectedSamples: [], pageTimeouts: 0, long: {},
  };
}

export interface DriveOptions {
  port: number;
  /** Page requests to send. */
  requests: number;
  /** Connections open at once. */
  connections: number;
  /** Page loads per connection: uniform in 1..max. */
  maxPagesPerConnection: number;
  /** Pages of each of the two long connections resetting pushes (taken from `requests`); 0: none. */
  longConnectionPages: number;
  /** Date.now() after which no page is started any more. */
  deadline: number;
  pageTimeoutMs: number;
  random: () => number;
  /** Checked before every page, e.g. "the server process exited". */
  shouldStop: () => boolean;
  stats: DriverStats;
}

export type DriveEnd = 'done' | 'deadline' | 'stopped';

interface Page {
  open: number;
  /** Called when a fault was injected on this page: a broken connection gets a second to wind down. */
  onFault: () => void;
  faulted: boolean;
  fault?: Fault;
  request?: http2.ClientHttp2Stream;
  streamClosed: () => void;
}

interface Connection {
  kind: ClientKind;
  socket: net.Socket;
  session: http2.ClientHttp2Session;
  /** A fault that breaks the connection was injected. */
  faulted: boolean;
  closed: boolean;
  page?: Page;
  /** Pushes promised on this connection so far. */
  promised: number;
  long?: LongConnectionStats;
}

const bump = (counts: Record<string, number>, key: string, by = 1) => void (counts[key] = (counts[key] ?? 0) + by);
const errorCode = (error: unknown) => {
  const e = error as NodeJS.ErrnoException;
  return e?.code ?? e?.message ?? String(error);
};

export async function drive(o: DriveOptions): Promise<DriveEnd> {
  const { stats, random } = o;
  let remaining = o.requests;
  let serial = 0;
  let end: DriveEnd = 'done';
  const mixTotal = Object.values(CLIENT_MIX).reduce((a, b) => a + b, 0);

  const stop = (): boolean => {
    if (o.shouldStop()) end = 'stopped';
    else if (Date.now() >= o.deadline) end = 'deadline';
    else return false;
    return true;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const pickKind = (): ClientKind => {
    let r = random() * mixTotal;
    for (const [kind, weight] of Object.entries(CLIENT_MIX) as [ClientKind, number][]) if ((r -= weight) < 0) return kind;
    return 'normal';
  };
  const longPages = Math.min(o.longConnectionPages, Math.floor(remaining / (2 * LONG_KINDS.length)));
  if (longPages > 0) remaining -= longPages * LONG_KINDS.length;

  function record(conn: Connection, page: Page | undefined, scope: string, error: unknown, inducedByUs = false): void {
    const key = `${scope}: ${errorCode(error)}`;
    if (conn.faulted || page?.faulted || inducedByUs) return bump(stats.inducedErrors, key);
    bump(stats.unexpectedErrors, key);
    if (stats.unexpectedSamples.length < 10) {
      stats.unexpectedSamples.push(`${conn.kind} client, ${key}${error instanceof Error ? `: ${error.message}` : ''}`);
    }
  }

  function inject(conn: Connection, page: Page, fault: Fault): void {
    if (fault.fired) return;
    fault.fired = true;
    bump(stats.faults, `${fault.action}${fault.code === undefined ? '' : `(${fault.code})`} at ${fault.at}`);
    page.faulted = true;
    if (fault.action !== 'page-reset') conn.faulted = true;
    page.onFault();
    switch (fault.action) {
      case 'socket-destroy':
        conn.socket.destroy();
        break;
      case 'socket-reset':
        conn.socket.resetAndDestroy();
        break;
      case 'goaway':
        if (!conn.session.destroyed) conn.session.goaway(fault.code);
        break;
      case 'close':
        if (!conn.session.closed) conn.session.close();
        break;
      case 'page-reset':
        if (page.request && !page.request.closed) page.request.close(NGHTTP2_CANCEL);
        break;
    }
  }

  function chooseFault(kind: ClientKind): Fault | undefined {
    const at = pick<FaultMoment>(['request', 'promise', 'response', 'data']);
    switch (kind) {
      case 'destroy':
        return { action: random() < 0.5 ? 'socket-destroy' : 'socket-reset', at, fired: false };
      case 'goaway':
        return random() < 0.25
          ? { action: 'close', at, fired: false }
          : { action: 'goaway', at, code: pick([NGHTTP2_NO_ERROR, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_PROTOCOL_ERROR]), fired: false };
      case 'abort':
        return { action: 'page-reset', at, fired: false };
      default:
        return undefined;
    }
  }

  function onPush(conn: Connection, stream: http2.ClientHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stats.pushesPromised++;
    const nth = ++conn.promised;
    // The server gives up on /asset/slow after its pushTimeoutMs and resets the push (CANCEL).
    const slow = String(headers[':path']).startsWith('/asset/slow');
    const page = conn.page;
    if (page) page.open++;
    let status = 0;
    let ended = false;
    let resetByUs = false;
    let resetAtData: number | undefined;
    const reset = (code: number) => {
      if (resetByUs || stream.closed) return;
      resetByUs = true;
      stream.close(code);
    };
    stream.on('push', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => {
      stats.bytes += chunk.length;
      if (resetAtData !== undefined) reset(resetAtData);
      if (page?.fault?.at === 'data') inject(conn, page, page.fault);
    });
    stream.on('end', () => (ended = true));
    stream.on('error', (error) => {
      if (!(slow && stream.rstCode === NGHTTP2_CANCEL)) record(conn, page, 'push', error, resetByUs);
    });
    stream.on('close', () => {
      // A reset by the server (e.g. CANCEL) also ends the readable side: complete means headers, end, no RST.
      if (ended && !resetByUs && status !== 0 && stream.rstCode === NGHTTP2_NO_ERROR) {
        stats.pushesReceived++;
        bump(stats.pushStatus, String(status));
      } else if (resetByUs) stats.pushesReset++;
      else if (slow && stream.rstCode === NGHTTP2_CANCEL) stats.slowCancelled++;
      else record(conn, page, 'push', { code: `not completed (rst ${stream.rstCode})` });
      page?.streamClosed();
    });
    if (conn.kind === 'reset' && random() < 0.6) {
      const code = random() < 0.5 ? NGHTTP2_CANCEL : NGHTTP2_REFUSED_STREAM;
      if (random() < 0.5) reset(code);
      else resetAtData = code;
    }
    if (conn.long) {
      conn.long.pushesPromised++;
      if (conn.kind === 'refuser' || nth % 10 === 0) {
        conn.long.pushesReset++;
        reset(conn.kind === 'picky' || nth % 2 === 0 ? NGHTTP2_CANCEL : NGHTTP2_REFUSED_STREAM);
      }
    }
    if (page?.fault?.at === 'promise') inject(conn, page, page.fault);
  }

  function loadPage(conn: Connection, fault: Fault | undefined): Promise<void> {
    return new Promise((resolve) => {
      const clean = !conn.faulted && fault === undefined && conn.kind !== 'reset';
      let finished = false;
      let windDown: NodeJS.Timeout | undefined;
      const page: Page = {
        open: 1,
        faulted: false,
        fault,
        streamClosed: () => void (--page.open === 0 && finish()),
        // After its own GOAWAY a client ignores the frames of pushes the server promised before reading it
        // (their stream ids are above the GOAWAY's last stream id), so such a page may never end by itself.
        onFault: () => {
          windDown ??= setTimeout(() => {
            if (finished) return;
            bump(stats.inducedErrors, `page: not over ${FAULT_WIND_DOWN_MS} ms after ${fault?.action ?? 'a fault'}`);
            conn.session.destroy();
            finish();
          }, FAULT_WIND_DOWN_MS);
        },
      };
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        clearTimeout(windDown);
        if (conn.page === page) conn.page = undefined;
        resolve();
      };
      const timer = setTimeout(() => {
        stats.pageTimeouts++;
        record(conn, page, 'page', { code: `no end after ${o.pageTimeoutMs} ms${fault ? ` (${fault.action} at ${fault.at})` : ''}` });
        conn.faulted = true;
        conn.session.destroy();
        finish();
      }, o.pageTimeoutMs);
      conn.page = page;
      stats.pagesSent++;
      if (clean) stats.cleanPages++;
      const path = random() < 0.3 ? `/service?n=${++serial}` : '/page';
      let request: http2.ClientHttp2Stream;
      try {
        request = conn.session.request({ ':path': path, 'user-agent': 'soak', 'accept-encoding': 'identity' });
      } catch (error) {
        record(conn, page, 'page', error);
        finish();
        return;
      }
      page.request = request;
      let status = 0;
      let ended = false;
      request.on('headers', (headers) => void (headers[':status'] === 103 && stats.earlyHints++));
      request.on('response', (headers) => {
        status = Number(headers[':status']);
        if (fault?.at === 'response') inject(conn, page, fault);
      });
      request.on('data', (chunk: Buffer) => {
        stats.bytes += chunk.length;
        if (fault?.at === 'data') inject(conn, page, fault);
      });
      request.on('end', () => (ended = true));
      request.on('error', (error) => record(conn, page, 'page', error));
      request.on('close', () => {
        bump(stats.pageStatus, !ended || request.rstCode !== NGHTTP2_NO_ERROR ? 'incomplete' : String(status));
        if (ended && status === 200 && request.rstCode === NGHTTP2_NO_ERROR) {
          stats.pagesOk++;
          if (conn.long) conn.long.pagesOk++;
          if (clean) stats.cleanPagesOk++;
        } else if (!page.faulted && !conn.faulted) {
          record(conn, page, 'page', { code: ended && request.rstCode === NGHTTP2_NO_ERROR ? `status ${status}` : `not completed (rst ${request.rstCode})` });
        }
        page.streamClosed();
      });
      if (fault?.at === 'request') setImmediate(() => inject(conn, page, fault));
    });
  }

  function closeConnection(conn: Connection): Promise<void> {
    return new Promise((resolve) => {
      if (conn.closed) return resolve();
      const timer = setTimeout(() => {
        conn.session.destroy();
        resolve();
      }, 2000);
      conn.session.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (!conn.session.closed) conn.session.close();
    });
  }

  /** A connection of `kind` (random unless given) doing `pages` page loads (random, from `remaining`, unless given). */
  async function runConnection(kind = pickKind(), pages?: number): Promise<void> {
    const planned = pages ?? 1 + Math.floor(random() * o.maxPagesPerConnection);
    const faultAt = ['destroy', 'goaway', 'abort'].includes(kind) ? Math.floor(random() * planned) : -1;
    stats.connections[kind]++;
    const socket = net.connect({ host: '127.0.0.1', port: o.port });
    const session = http2.connect(`http://127.0.0.1:${o.port}`, {
      createConnection: () => socket,
      settings: { enablePush: kind !== 'nopush' },
    });
    const conn: Connection = { kind, socket, session, faulted: false, closed: false, promised: 0 };
    if (pages !== undefined) conn.long = stats.long[kind as LongKind] = { pages, pagesOk: 0, pushesPromised: 0, pushesReset: 0 };
    const lose = (why: string) => void (conn.long && (conn.long.lost ??= why));
    session.on('error', (error) => {
      lose(`session error ${errorCode(error)}`);
      record(conn, conn.page, 'session', error);
    });
    session.on('goaway', (code) => {
      lose(`GOAWAY ${code} from the server`);
      if (!conn.faulted) record(conn, conn.page, 'session', { code: `GOAWAY ${code} from the server` });
    });
    session.on('stream', (stream, headers) => onPush(conn, stream, headers));
    session.once('close', () => (conn.closed = true));
    socket.on('error', (error) => record(conn, conn.page, 'socket', error));
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      session.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
      session.once('close', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!connected) {
      record(conn, undefined, 'connect', { code: 'not connected' });
      session.destroy();
      return;
    }
    for (let i = 0; i < planned; i++) {
      if ((pages === undefined && remaining <= 0) || stop() || conn.closed || session.closed || session.destroyed) break;
      if (pages === undefined) remaining--;
      await loadPage(conn, i === faultAt ? chooseFault(kind) : undefined);
      if (conn.faulted) break;
    }
    if (conn.long && conn.long.pagesOk < planned) lose(`${conn.long.pagesOk} of ${planned} pages`);
    await closeConnection(conn);
  }

  async function worker(): Promise<void> {
    while (remaining > 0 && !stop()) await runConnection();
  }

  const long = longPages > 0 ? LONG_KINDS.map((kind) => runConnection(kind, longPages)) : [];
  await Promise.all([...Array.from({ length: o.connections }, worker), ...long]);
  return end;
}
