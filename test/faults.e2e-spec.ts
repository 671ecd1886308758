import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PushEvent } from '../src';
import { configureFaultsApp, faultsModule, seen } from './fixtures/faults.app';
import { connect, fetchWithPushes } from './support/h2-client';
import { startApp, type StartedApp } from './support/start-app';

const BIG = 20 * 1024 * 1024;
let dir: string;
let server: StartedApp;
const events: PushEvent[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'push-faults-'));
  writeFileSync(join(dir, 'data.bin'), Buffer.alloc(BIG, 7));
  server = await startApp(
    faultsModule({ pushTimeoutMs: 300, maxConcurrentPushesPerConnection: 5, maxPushesPerRequest: 50, onPush: (e) => events.push(e) }),
    { configure: configureFaultsApp(dir) },
  );
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});
const clients: ClientHttp2Session[] = [];
beforeEach(() => {
  events.length = 0;
});
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

/** A connection closed after the test whatever happens, so a failure cannot keep the server open. */
async function open(settings = {}) {
  const client = await connect(server.url, settings);
  clients.push(client);
  return client;
}

const until = async (check: () => boolean, ms = 5000) => {
  for (const end = Date.now() + ms; !check() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
  return check();
};

/** A page whose pushed streams the client handles with `onPush`; resolves with the page's status and body. */
function page(client: ClientHttp2Session, path: string, onPush: (stream: ClientHttp2Stream) => void) {
  client.on('stream', onPush);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = client.request({ ':path': path });
    let status = 0;
    let body = '';
    request.on('response', (h) => (status = Number(h[':status'])));
    request.setEncoding('utf8');
    request.on('data', (c: string) => (body += c));
    request.on('end', () => resolve({ status, body }));
    request.on('error', reject);
  }).finally(() => client.off('stream', onPush));
}

/** The server still serves a fresh client normally. */
async function serverStillServes() {
  const fresh = await open();
  const result = await fetchWithPushes(fresh, '/page-many?n=2');
  fresh.close();
  expect(result.status).toBe(200);
  expect(result.pushes.map((p) => p.status)).toEqual([200, 200]);
}

describe('faults from the client', () => {
  it('a hanging pushed handler is cancelled after pushTimeoutMs and released; the page is unaffected', async () => {
    const client = await open();
    let resetCode: number | undefined;
    const result = await page(client, '/page-hang', (stream) => {
      stream.on('error', () => undefined);
      stream.on('close', () => (resetCode = stream.rstCode));
      stream.resume();
    });
    expect(result).toEqual({ status: 200, body: 'page' });
    expect(await until(() => events.some((e) => e.type === 'failed'))).toBe(true);
    expect(events).toContainEqual({ type: 'failed', path: '/asset/hang', error: 'not finished after pushTimeoutMs (300 ms)' });
    expect(await until(() => seen.hangReleased === 1 && resetCode !== undefined)).toBe(true);
    expect(resetCode).toBe(0x8);
    client.close();
    await serverStillServes();
  });

  it('hanging pushes promised at different times on one connection are each cut off', async () => {
    const client = await open();
    const released = seen.hangReleased;
    const onPush = (stream: ClientHttp2Stream) => {
      stream.on('error', () => undefined);
      stream.resume();
    };
    expect(await page(client, '/page-hang-q?i=1', onPush)).toEqual({ status: 200, body: 'page' });
    await new Promise((r) => setTimeout(r, 150));
    expect(await page(client, '/page-hang-q?i=2', onPush)).toEqual({ status: 200, body: 'page' });
    const failed = () => events.filter((e) => e.type === 'failed').map((e) => e.path);
    expect(await until(() => failed().length === 2)).toBe(true);
    expect(failed()).toEqual(['/asset/hang?i=1', '/asset/hang?i=2']);
    expect(await until(() => seen.hangReleased === released + 2)).toBe(true);
  });

  it('a 20 MB push read slowly is flow-controlled: the server buffers a window, not the body', async () => {
    const client = await open();
    const bigBefore = seen.bigStreams.length;
    let pushed: ClientHttp2Stream | undefined;
    let received = 0;
    const result = await page(client, '/page-big', (stream) => {
      pushed = stream;
      stream.pause();
      stream.on('data', (chunk: Buffer) => (received += chunk.length));
    });
    expect(result.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await until(() => seen.bigStreams.length > bigBefore)).toBe(true); // a loaded machine may be slower
    const serverStream = seen.bigStreams.at(-1)!;
    // Paused client: HTTP/2 flow control (64 KiB window) plus one read-ahead of the file stream at most.
    expect(serverStream.session!.state.outboundQueueSize).toBeLessThan(16);
    expect(serverStream.bufferSize).toBeLessThan(1024 * 1024);
    expect(received).toBe(0);
    const done = new Promise((r) => pushed!.on('end', r));
    pushed!.resume();
    await done;
    expect(received).toBe(BIG);
    expect(await until(() => events.some((e) => e.type === 'completed'))).toBe(true);
    expect(events.find((e) => e.type === 'completed')).toMatchObject({ path: '/big/data.bin', status: 200, bytes: BIG });
    client.close();
  });

  it('a push reset in the middle of its body is counted as cancelled', async () => {
    const client = await open();
    const result = await page(client, '/page-big', (stream) => {
      stream.once('data', () => stream.close(0x8));
      stream.on('error', () => undefined);
    });
    expect(result.status).toBe(200);
    expect(await until(() => events.some((e) => e.type === 'cancelled'))).toBe(true);
    expect(events.filter((e) => e.type === 'cancelled')).toEqual([{ type: 'cancelled', path: '/big/data.bin', code: 0x8 }]);
    client.close();
    await serverStillServes();
  });

  it('a reset after the whole body arrived leaves the push completed', async () => {
    const client = await open();
    const ends: Promise<void>[] = [];
    const result = await page(client, '/page-many?n=2', (stream) => {
      stream.on('error', () => undefined);
      stream.resume();
      ends.push(new Promise((resolve) => stream.once('end', () => (stream.close(0x8), resolve()))));
    });
    await Promise.all(ends);
    expect(JSON.parse(result.body)).toEqual({ issued: 2 });
    expect(await until(() => events.filter((e) => e.type === 'completed').length === 2)).toBe(true);
    expect(events.filter((e) => e.type === 'cancelled')).toEqual([]);
    await serverStillServes();
  });

  it('REFUSED_STREAM on every promise: each push ends cancelled with that code, and is released and forgotten', async () => {
    const client = await open();
    const result = await page(client, '/page-many?n=5&path=/slow', (stream) => {
      stream.on('error', () => undefined);
      stream.close(0x7);
    });
    expect(JSON.parse(result.body)).toEqual({ issued: 5 });
    expect(await until(() => events.filter((e) => e.type === 'cancelled').length === 5)).toBe(true);
    const ends = events.filter((e) => e.type !== 'promised').sort((a, b) => a.path.localeCompare(b.path));
    expect(ends).toEqual([0, 1, 2, 3, 4].map((i) => ({ type: 'cancelled', path: `/slow?i=${i}`, code: 0x7 })));
    // maxConcurrentPushesPerConnection is 5: the same connection can be promised the same five again.
    const again = await fetchWithPushes(client, '/page-many?n=5&path=/slow');
    expect(again.pushes.map((p) => [p.status, p.body])).toEqual(Array(5).fill([200, 'slow']));
  });

  it('pushes per connection are capped by maxConcurrentPushesPerConnection', async () => {
    const client = await open();
    const result = await fetchWithPushes(client, '/page-many?n=20');
    client.close();
    expect(JSON.parse(result.body)).toEqual({ issued: 5 });
    expect(events.filter((e) => e.type === 'refused' && e.reason === 'limit')).toHaveLength(15);
  });

  it('a client that disables push mid-connection gets no more promises, only hints', async () => {
    const client = await open();
    const before = await fetchWithPushes(client, '/page-many?n=1');
    expect(before.pushes).toHaveLength(1);
    await new Promise<void>((resolve) => client.settings({ enablePush: false }, () => resolve()));
    await new Promise((r) => setTimeout(r, 50)); // the server applies the SETTINGS when it reads them
    const after = await fetchWithPushes(client, '/page-many?n=2');
    client.close();
    expect(JSON.parse(after.body)).toEqual({ issued: 0 });
    expect(after.pushes).toEqual([]);
    expect(String(after.headers.link)).toContain('</small?i=0>; rel=preload');
    expect(events.filter((e) => e.type === 'refused' && e.reason === 'disabled')).toHaveLength(2);
  });

  it('a client closing its socket while 20 MB pushes are in flight: every push ends, the server carries on', async () => {
    const client = await open();
    const request = client.request({ ':path': '/page-big' });
    request.on('error', () => undefined);
    client.on('stream', (stream) => {
      stream.on('error', () => undefined);
      stream.once('data', () => client.destroy());
    });
    await new Promise((resolve) => client.once('close', resolve));
    expect(await until(() => events.some((e) => e.type === 'cancelled'))).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['promised', 'cancelled']);
    await serverStillServes();
  });
});
