import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { connect, fetchWithPushes } from './support/h2-client';
import { DESTROY_MOMENTS, DESTROY_WAYS, runDestroyers, type DestroyersReport } from '../soak/destroyers';
import { seededRandom, ServerChild } from '../soak/soak';
import type { ServerSnapshot } from '../soak/protocol';

/**
 * Issue 25: no client behaviour may make the module throw outside a request. The soak's server (soak/app.ts:
 * @Push() and PushService pages, pushed handlers that throw, answer 503 or answer after pushTimeoutMs) runs in
 * a child process that records every uncaughtException and unhandledRejection; 1,500 connections break
 * themselves at every moment of a page's life, in every way (soak/destroyers.ts), 60 at a time. Then the
 * server must have recorded nothing, have ended every push and closed every session, and still serve.
 * The child runs compiled JavaScript, built into its own folder (the soak suite builds dist-soak/ at the same time).
 */
const ROOT = process.cwd();
const OUT = join(ROOT, 'dist-destroyers');
const CONNECTIONS = 1500;
let server: ServerChild;
let port: number;
let report: DestroyersReport;
let after: ServerSnapshot;

const ended = (s: ServerSnapshot) => s.stats.completed + s.stats.cancelled + s.stats.failed;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'soak', 'tsconfig.json'), '--outDir', OUT], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  ({ server, port } = await ServerChild.start(join(OUT, 'soak', 'server.js'), { SOAK_SESSION_TIMEOUT_MS: '3000' }, 30_000));
  const seed = Number(process.env.DESTROYERS_SEED ?? Date.now() % 1e9);
  report = await runDestroyers({ port, connections: CONNECTIONS, concurrency: 60, random: seededRandom(seed), resetStorms: 3 });
  if (process.env.DESTROYERS_PRINT) console.log(JSON.stringify({ seed, report }));
  // Settled: every session closed, every promise ended, no slow handler still waiting.
  for (const until = Date.now() + 20_000; ; await sleep(200)) {
    after = await server.snapshot(false);
    if ((after.openSessions === 0 && after.slowPending === 0 && after.stats.promised === ended(after)) || Date.now() > until) break;
  }
}, 180_000);
afterAll(async () => {
  await server?.stop();
});

describe('connections destroyed at every point of a page', () => {
  it('broke connections at every moment, in every way', () => {
    const combos = DESTROY_MOMENTS.length * DESTROY_WAYS.length;
    expect(report.notConnected).toBe(0);
    // Each reset storm lost its connection to the rapid-reset limit, its slow requests still open.
    expect(report.stormsEnded).toBe(3);
    for (const moment of DESTROY_MOMENTS) {
      for (const way of DESTROY_WAYS) {
        // Each pair had CONNECTIONS / combos connections; a page that ended before its moment came is missed.
        expect([moment, way, report.broken[`${moment} ${way}`] ?? 0]).toEqual([moment, way, expect.any(Number)]);
        expect(report.broken[`${moment} ${way}`] ?? 0).toBeGreaterThan((CONNECTIONS / combos) * 0.5);
      }
    }
  });

  it('raised no uncaught exception and no unhandled rejection in the server', () => {
    expect(server.crashed).toBe(false);
    expect({ uncaught: after.uncaughtExceptions, unhandled: after.unhandledRejections }).toEqual({ uncaught: [], unhandled: [] });
  });

  it('ended every push it promised and closed every session', () => {
    expect(after.stats.promised).toBeGreaterThan(CONNECTIONS);
    expect(after.stats.cancelled).toBeGreaterThan(0);
    expect({ promised: after.stats.promised, ended: ended(after), openSessions: after.openSessions, slowPending: after.slowPending }).toEqual({
      promised: ended(after),
      ended: ended(after),
      openSessions: 0,
      slowPending: 0,
    });
  });

  it('still serves a page and its pushes to a well-behaved client', async () => {
    const client = await connect(`http://127.0.0.1:${port}`);
    try {
      const page = await fetchWithPushes(client, '/page');
      expect(page.status).toBe(200);
      expect(page.pushes.map((push) => [push.request[':path'], push.status])).toEqual([
        ['/asset/style.css', 200],
        ['/asset/app.js', 200],
        ['/asset/data.json', 200],
      ]);
    } finally {
      client.close();
    }
  });
});
