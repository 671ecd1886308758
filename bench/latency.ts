/**
 * Time for a client on an already-connected HTTP/2 session to have a page and its three assets, through
 * the delaying proxy: with push (the assets arrive with the page) and without (the client asks for them
 * once it has the page body). Also a bare request, the proxy's self-check.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { BODY_LENGTHS, PAGE_PATH, PLAIN_PATH } from './assets';

export function connectVia(port: number, enablePush: boolean): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`, {
      settings: { enablePush, initialWindowSize: 1 << 20 },
      // No Nagle: a small request must not wait for the ACK of the previous one.
      createConnection: () => net.connect({ port, host: '127.0.0.1', noDelay: true }),
    });
    session.once('connect', () => {
      session.setLocalWindowSize(8 << 20);
      resolve(session);
    });
    session.once('error', reject);
  });
}

function read(stream: http2.ClientHttp2Stream, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let status = 0;
    stream.once('response', (h) => (status = Number(h[':status'])));
    stream.once('push', (h) => (status = Number(h[':status'])));
    stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    stream.once('end', () => {
      if (status !== 200 || bytes !== BODY_LENGTHS[path]) reject(new Error(`${path}: status ${status}, ${bytes} bytes`));
      else resolve();
    });
    stream.once('error', reject);
  });
}

/** Milliseconds for one bare request (`/plain`). */
export async function bareRequest(session: http2.ClientHttp2Session): Promise<number> {
  const start = performance.now();
  await read(session.request({ ':path': PLAIN_PATH }), PLAIN_PATH);
  return performance.now() - start;
}

/** Milliseconds until the page and its three pushed assets are complete. */
export function pageWithPushes(session: http2.ClientHttp2Session, assets: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const reads: Promise<void>[] = [];
    const onStream = (stream: http2.ClientHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      reads.push(read(stream, String(headers[':path'])));
    };
    session.on('stream', onStream);
    read(session.request({ ':path': PAGE_PATH, 'user-agent': 'latency' }), PAGE_PATH)
      .then(async () => {
        // The promises came before the page's HEADERS; their streams may still be finishing.
        await Promise.all(reads);
        if (reads.length !== assets.length) throw new Error(`expected ${assets.length} pushes, got ${reads.length}`);
        return performance.now() - start;
      })
      .then(resolve, reject)
      .finally(() => session.off('stream', onStream));
  });
}

/** Milliseconds until the page, then its three assets requested once the page body is in, are complete. */
export async function pageThenAssets(session: http2.ClientHttp2Session, assets: readonly string[]): Promise<number> {
  const start = performance.now();
  await read(session.request({ ':path': PAGE_PATH, 'user-agent': 'latency' }), PAGE_PATH);
  await Promise.all(assets.map((path) => read(session.request({ ':path': path, 'user-agent': 'latency' }), path)));
  return performance.now() - start;
}

/**
 * Milliseconds until the page and its assets are complete for a client that refuses push (as browsers
 * do) but requests the assets the moment a 103 Early Hints names them, as Chromium does for preloads.
 */
export function pageWithEarlyHints(session: http2.ClientHttp2Session, assets: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const reads: Promise<void>[] = [];
    const page = session.request({ ':path': PAGE_PATH, 'user-agent': 'latency' });
    page.once('headers', (headers) => {
      if (Number(headers[':status']) !== 103) return;
      for (const match of String(headers.link).matchAll(/<([^>]+)>/g)) {
        reads.push(read(session.request({ ':path': match[1], 'user-agent': 'latency' }), match[1]));
      }
    });
    read(page, PAGE_PATH)
      .then(async () => {
        await Promise.all(reads);
        if (reads.length !== assets.length) throw new Error(`expected ${assets.length} hinted assets, got ${reads.length}`);
        return performance.now() - start;
      })
      .then(resolve, reject);
  });
}
