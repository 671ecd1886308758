import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runSoak, type SoakReport } from '../soak/soak';

/**
 * The soak of `npm run soak` (soak/soak.ts), short: 3,000 page requests over 32 connections at a time with
 * random client faults, against the server in a child process. The child runs compiled JavaScript, so the
 * soak's own tsconfig builds src/ and soak/ into dist-soak/ first (jest runs this file as ESM: paths come
 * from the package root, the working directory of `npm test`).
 */
const ROOT = process.cwd();
const REQUESTS = 3000;
let report: SoakReport;

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'soak', 'tsconfig.json')], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  report = await runSoak({
    serverEntry: join(ROOT, 'dist-soak', 'soak', 'server.js'),
    requests: REQUESTS,
    connections: 32,
    warmupRequests: 500,
    // Two long connections resetting pushes (every push; one in ten): over 1,000 resets on one connection.
    longConnectionPages: 450,
    maxDurationMs: 60_000,
    // The memory measurements wait for the closed sessions' idle timers (see SoakOptions): keep that short, but
    // not so short that a normal client idle for a moment on a busy machine gets the idle GOAWAY.
    sessionTimeoutMs: 3000,
  });
}, 120_000);

describe('soak (short)', () => {
  it('passes every check of the full soak', () => {
    // The seed and the failed checks' details in the failure message; the seed replays the same client mix.
    const failed = report.checks.filter((check) => !check.pass);
    expect({ seed: report.seed, aborted: report.aborted, failed }).toEqual({ seed: report.seed, aborted: undefined, failed: [] });
    expect(report.checks.map((check) => check.name)).toHaveLength(12);
  });

  it('sent every page request and the server handled them', () => {
    expect(report.client.pagesSent).toBe(REQUESTS);
    expect(report.served).toBeGreaterThan(REQUESTS * 0.95);
    // Besides: the destroyers' pages (one per connection, requests / 20) and a page per reset storm.
    expect(report.destroyers).toBeDefined();
    expect(report.served).toBeLessThanOrEqual(REQUESTS + REQUESTS / 20 + 2);
  });

  it('went through every kind of client and every push outcome', () => {
    for (const kind of Object.keys(report.client.connections)) expect([kind, report.client.connections[kind as 'normal']]).not.toEqual([kind, 0]);
    const run = report.pushes.run;
    expect(run.promised).toBeGreaterThan(REQUESTS);
    expect(run.completed).toBeGreaterThan(0);
    expect(run.cancelled).toBeGreaterThan(0); // clients' RST_STREAM, GOAWAY, closed sockets
    expect(run.failed).toBeGreaterThan(0); // the slow pushed route, cancelled after pushTimeoutMs
    expect(run.refused.disabled).toBeGreaterThan(0); // clients with enablePush: false
    expect(run.hinted).toBe(run.refused.disabled + run.refused.unwanted + run.refused.budget + run.refused.limit);
    // The long connections asked for over 1,000 pushes each (450 pages, 3 or 4 pushes a page) and reset all
    // or one in ten of what they got: the refuser was refused the rest (unwanted, or past its budget).
    expect(run.refused.budget + run.refused.unwanted).toBeGreaterThan(0);
    const { refuser, picky } = report.client.long;
    expect(refuser?.pushesReset).toBe(refuser?.pushesPromised);
    expect(refuser?.pushesPromised).toBeLessThan(1000);
    expect(picky?.pushesReset).toBe(Math.floor((picky?.pushesPromised ?? 0) / 10));
    // The throwing and the 503 pushed routes answered as such.
    expect(report.pushes.completedByStatus).toEqual(expect.objectContaining({ 200: expect.any(Number), 500: expect.any(Number), 503: expect.any(Number) }));
  });

  it('measured the server before and after, after GC, with no connection left', () => {
    expect(report.before?.gc).toBe(true);
    expect(report.after?.gc).toBe(true);
    expect(report.after?.openSessions).toBe(0);
    expect(report.after?.resources.TCPServerWrap).toBe(1);
    expect(report.after?.resources.TCPSocketWrap).toBeUndefined();
    expect(report.after?.closedSessionsReachable).toBe(0);
  });
});
