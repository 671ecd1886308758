import type { ClientHttp2Session } from 'node:http2';
import type { PushEvent, PushModuleOptions } from '../src';
import { configureTestApp, pushTestModule } from './fixtures/push-test.app';
import { connect, fetchWithPushes, pushedPaths } from './support/h2-client';
import { startApp, type StartedApp } from './support/start-app';

/**
 * Each limit the issuer applies, tested on its own: the per-response duplicate check (with the connection's
 * diary off, so it cannot hide it), the peer's SETTINGS_MAX_CONCURRENT_STREAMS, the diary's size bound, and
 * forgetting a push the client cancelled.
 */
const events: PushEvent[] = [];
const clients: ClientHttp2Session[] = [];

async function withServer(options: PushModuleOptions, test: (server: StartedApp) => Promise<void>) {
  events.length = 0;
  const server = await startApp(pushTestModule({ onPush: (event) => events.push(event), ...options }), { configure: configureTestApp });
  try {
    await test(server);
  } finally {
    for (const client of clients.splice(0)) client.destroy();
    await server.close();
  }
}

async function open(server: StartedApp, settings = {}) {
  const client = await connect(server.url, settings);
  clients.push(client);
  return client;
}

const refusals = (reason: string) => events.filter((e) => e.type === 'refused' && e.reason === reason).map((e) => e.path);

const until = async (check: () => boolean) => {
  for (const end = Date.now() + 5000; !check() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
  return check();
};

describe('limits of one response', () => {
  it('the same resource is promised once per response, even with the connection diary off (diarySize: 0)', () =>
    withServer({ diarySize: 0 }, async (server) => {
      const client = await open(server);
      for (let visit = 0; visit < 2; visit++) {
        const page = await fetchWithPushes(client, '/twice');
        expect(pushedPaths(page)).toEqual(['/static/style.css', '/asset/data?v=1', '/asset/data?v=2']);
      }
      // Twice per visit: style.css (declared, then pushed again) and data?v=1; no diary, so nothing is 'cached'.
      expect(refusals('duplicate')).toEqual(['/static/style.css', '/asset/data?v=1', '/static/style.css', '/asset/data?v=1']);
      expect(refusals('cached')).toEqual([]);
    }));
});

describe('limits of one connection', () => {
  it('no more open pushes than the client\'s SETTINGS_MAX_CONCURRENT_STREAMS, released as they end', () =>
    withServer({ maxPushesPerRequest: 10 }, async (server) => {
      const client = await open(server, { maxConcurrentStreams: 3 });
      const first = await fetchWithPushes(client, '/many');
      expect(JSON.parse(first.body)).toEqual({ issued: 3 });
      expect(events.filter((e) => e.type === 'promised').map((e) => e.path)).toEqual(['/asset/data?v=0', '/asset/data?v=1', '/asset/data?v=2']);
      expect(refusals('limit')).toHaveLength(7);
      // Those three ended: the next page on the connection may have three open pushes again.
      const second = await fetchWithPushes(client, '/many');
      expect(JSON.parse(second.body)).toEqual({ issued: 3 });
      const none = await open(server, { maxConcurrentStreams: 0 });
      const refused = await fetchWithPushes(none, '/many');
      expect(JSON.parse(refused.body)).toEqual({ issued: 0 });
      expect(refused.pushes).toEqual([]);
    }));

  it('the diary keeps the last diarySize resources of a connection, forgetting the oldest first', () =>
    withServer({ diarySize: 2 }, async (server) => {
      const client = await open(server);
      const push = async (path: string) => JSON.parse((await fetchWithPushes(client, `/service?path=${path}`)).body).issued;
      expect(await push('/static/style.css')).toBe(true);
      expect(await push('/static/app.js')).toBe(true);
      expect(await push('/static/app.js')).toBe(false); // in the diary
      expect(await push('/asset/data')).toBe(true); // third: style.css, the oldest, leaves the diary
      expect(await push('/static/style.css')).toBe(true); // pushed again; app.js, now the oldest, leaves
      expect(await push('/asset/data')).toBe(false);
      expect(await push('/static/app.js')).toBe(true);
      expect(refusals('cached')).toEqual(['/static/app.js?v=service', '/asset/data?v=service']);
    }));

  it('a push the client cancelled is forgotten: the connection may be pushed it again', () =>
    withServer({}, async (server) => {
      const client = await open(server);
      const cancel = (stream: { close(code: number): void }) => stream.close(0x8 /* CANCEL */);
      client.on('stream', cancel);
      await fetchWithPushes(client, '/push-slow'); // /asset/slow answers after 200 ms: the reset comes first
      expect(await until(() => events.some((e) => e.type === 'cancelled'))).toBe(true);
      client.off('stream', cancel);
      const again = await fetchWithPushes(client, '/push-slow');
      expect(again.pushes.map((p) => [p.request[':path'], p.status])).toEqual([['/asset/slow', 200]]);
      expect(refusals('cached')).toEqual([]);
    }));
});

describe('a client that went away', () => {
  const closedRefusal = async () => {
    expect(await until(() => refusals('closed').length > 0)).toBe(true);
    expect(refusals('closed')).toEqual(['/static/style.css']);
    expect(events.filter((e) => e.type !== 'refused')).toEqual([]); // never attempted, so never failed
  };

  it('a push after the client reset the page is refused as closed', () =>
    withServer({}, async (server) => {
      const client = await open(server);
      const request = client.request({ ':path': '/push-later' });
      request.on('error', () => undefined);
      request.close(0x8 /* CANCEL */);
      await closedRefusal();
    }));

  it('a push after the client\'s GOAWAY is refused as closed; the page is still answered', () =>
    withServer({}, async (server) => {
      const client = await open(server);
      const page = fetchWithPushes(client, '/push-later');
      await new Promise((resolve) => setTimeout(resolve, 20));
      client.goaway(0);
      expect(JSON.parse((await page).body)).toEqual({ issued: false });
      await closedRefusal();
    }));
});
