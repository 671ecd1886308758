/**
 * `npm run soak`: the full soak (100,000 page requests by default), a table on stdout, the figures in
 * soak/RESULTS.md, exit code 1 unless every check passed.
 *
 * Options (argv wins over env): --requests=N (SOAK_REQUESTS, default 100000), --connections=N
 * (SOAK_CONNECTIONS, 32), --seed=N (SOAK_SEED, random), --max-minutes=N (SOAK_MAX_MINUTES, 10),
 * --session-timeout-ms=N (SOAK_SESSION_TIMEOUT_MS, 5000: the server's http2SessionTimeout, see soak.ts),
 * --no-write (SOAK_NO_WRITE=1: do not write soak/RESULTS.md), --heap-snapshots=DIR (SOAK_HEAP_SNAPSHOTS: write
 * the server's heap snapshots before and after into DIR).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatMarkdown, formatText } from './report';
import { runSoak } from './soak';

function option(name: string, env: string): string | undefined {
  const arg = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (arg !== undefined) return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : 'true';
  return process.env[env];
}

function positive(name: string, env: string, fallback: number): number {
  const raw = option(name, env);
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} / ${env} must be a positive number, got "${raw}"`);
  return value;
}

async function main(): Promise<number> {
  const requests = Math.floor(positive('requests', 'SOAK_REQUESTS', 100_000));
  const connections = Math.floor(positive('connections', 'SOAK_CONNECTIONS', 32));
  const maxMinutes = positive('max-minutes', 'SOAK_MAX_MINUTES', 10);
  const sessionTimeoutMs = positive('session-timeout-ms', 'SOAK_SESSION_TIMEOUT_MS', 5000);
  const seedOption = option('seed', 'SOAK_SEED');
  const seed = seedOption ? Number(seedOption) : undefined;
  const write = option('no-write', 'SOAK_NO_WRITE') === undefined;
  const passed = process.argv.slice(2).join(' ');
  const command = `npm run soak${passed ? ` -- ${passed}` : ''}`;
  const envShown = ['SOAK_REQUESTS', 'SOAK_CONNECTIONS', 'SOAK_SEED', 'SOAK_MAX_MINUTES', 'SOAK_SESSION_TIMEOUT_MS'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`);
  const shown = [...envShown, command].join(' ');

  console.log(`soak: ${requests} page requests, ${connections} connections at once, at most ${maxMinutes} min`);
  const report = await runSoak({
    serverEntry: join(__dirname, 'server.js'),
    requests,
    connections,
    seed,
    maxDurationMs: maxMinutes * 60_000,
    sessionTimeoutMs,
    onProgress: (line) => console.log(line),
    heapSnapshotDir: option('heap-snapshots', 'SOAK_HEAP_SNAPSHOTS'),
  });
  console.log(formatText(report, shown));
  if (write) {
    const file = join(__dirname, '..', '..', 'soak', 'RESULTS.md');
    writeFileSync(file, formatMarkdown(report, shown));
    console.log(`\nwritten to soak/RESULTS.md`);
  }
  return report.pass ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  },
);
