import { jest } from '@jest/globals';
import { stripVTControlCharacters } from 'node:util';
import { PushService, type PushModuleOptions } from '../src';
import { configureTestApp, pushTestModule } from './fixtures/push-test.app';
import { connect, fetchWithPushes } from './support/h2-client';
import { startApp } from './support/start-app';

/**
 * What an app created without a `logger` option prints (Nest's ConsoleLogger, which shows every level by
 * default on Nest 11 and 12): the module adds nothing per push or per request unless `logEvents` asks.
 */
describe('logs of a default Nest app', () => {
  const written: string[] = [];
  const savedLevel = process.env.NEST_LOG_LEVEL;
  beforeEach(() => {
    written.length = 0;
    delete process.env.NEST_LOG_LEVEL; // Nest 12 reads it: the defaults are what is tested here
    for (const stream of [process.stdout, process.stderr]) {
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(stripVTControlCharacters(String(chunk))) > 0);
    }
  });
  afterEach(() => {
    jest.restoreAllMocks();
    if (savedLevel !== undefined) process.env.NEST_LOG_LEVEL = savedLevel;
  });

  /** Serves pushes, a client that resets them, and a client that refuses push (hints), then waits for every push's end. */
  async function serveSomePushes(options: PushModuleOptions): Promise<{ startup: string[]; serving: string[] }> {
    const server = await startApp(pushTestModule(options), { configure: configureTestApp, defaultLogger: true });
    const startup = written.splice(0);
    try {
      const pushing = await connect(server.url);
      await fetchWithPushes(pushing, '/page');
      pushing.close();
      const resetting = await connect(server.url);
      resetting.on('stream', (stream) => stream.close(0x8));
      await fetchWithPushes(resetting, '/push-slow');
      resetting.close();
      const refusing = await connect(server.url, { enablePush: false });
      await fetchWithPushes(refusing, '/page');
      refusing.close();
      const stats = () => server.app.get(PushService).stats();
      for (let i = 0; i < 200 && stats().completed + stats().cancelled < stats().promised; i++) await new Promise((r) => setTimeout(r, 10));
      expect(stats()).toMatchObject({ promised: 4, completed: 3, cancelled: 1, hinted: 3 });
    } finally {
      await server.close();
    }
    return { startup, serving: written.splice(0) };
  }

  it('prints no line per push or per request, only Nest\'s start-up lines', async () => {
    const { startup, serving } = await serveSomePushes({});
    expect(serving).toEqual([]);
    expect(startup.join('')).toMatch(/InstanceLoader.*PushModule dependencies initialized/);
    expect(startup.filter((line) => /\[PushModule\]/.test(line))).toEqual([]);
  });

  it('with logEvents, prints each push event once, at VERBOSE, in the PushModule context', async () => {
    const { serving } = await serveSomePushes({ logEvents: true });
    const lines = serving.join('').split('\n').filter((line) => line.includes('[PushModule]'));
    expect(lines.length).toBeGreaterThanOrEqual(4 + 3 + 1 + 3); // promised, completed, cancelled, refused (disabled)
    for (const line of lines) expect(line).toMatch(/VERBOSE \[PushModule\] push \/\S+ /);
    expect(lines.filter((line) => / promised for /.test(line))).toHaveLength(4);
  });

  it('with pushLinkHeaders and logEvents, a Link that cannot be pushed is logged at VERBOSE and skipped, never a 500', async () => {
    const server = await startApp(pushTestModule({ pushLinkHeaders: true, logEvents: true }), { configure: configureTestApp, defaultLogger: true });
    written.length = 0;
    try {
      const client = await connect(server.url);
      const page = await fetchWithPushes(client, '/badly-linked');
      client.close();
      expect(page.status).toBe(200);
      expect(page.pushes.map((push) => push.request[':path'])).toEqual(['/static/style.css']);
    } finally {
      await server.close();
    }
    const lines = written.join('').split('\n').filter((line) => line.includes('[PushModule]'));
    expect(lines.filter((line) => /VERBOSE \[PushModule\] Link \/a b\.css not pushed: Invalid push path "\/a b\.css": percent-encode/.test(line))).toHaveLength(1);
  });
});
