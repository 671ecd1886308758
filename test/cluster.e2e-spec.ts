/**
 * `WORKERS=2 npm run sample`: the compiled sample as a node:cluster primary with two workers sharing one
 * port. Connections are opened until two different workers answered; each must have pushed the page's
 * resources itself (the pushed responses carry the same `x-worker` as the page).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { connect, fetchWithPushes, pushedPaths } from './support/h2-client';

const ROOT = process.cwd();
let primary: ChildProcess;
let output = '';
let url: string;

function compileSample(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.sample.json'], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`tsc -p tsconfig.sample.json failed: ${error.message}\n${stdout}${stderr}`)) : resolve(),
    );
  });
}

function waitForUrl(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the cluster did not print its URL within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = () => {
      const match = /Sample listening on (\S+)\/ /.exec(output);
      if (match && /2 workers/.test(output)) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the cluster primary exited (${signal ?? code}) before listening:\n${output}`));
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  await compileSample();
  primary = spawn(process.execPath, [join(ROOT, 'dist-sample', 'sample', 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, WORKERS: '2', PORT: '0', HOST: '127.0.0.1', NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  primary.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  primary.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  url = await waitForUrl(primary, 20_000);
}, 60_000);

afterAll(async () => {
  if (primary && primary.exitCode === null && primary.signalCode === null) {
    const exited = new Promise((resolve) => primary.once('exit', resolve));
    primary.kill('SIGTERM');
    const timer = setTimeout(() => primary.kill('SIGKILL'), 8_000);
    await exited;
    clearTimeout(timer);
  }
});

describe('WORKERS=2: the sample on two cores through node:cluster', () => {
  const workerPids = new Set<number>();

  it('answers from two worker processes, each pushing the page\'s resources on its own connections', async () => {
    for (let attempt = 0; attempt < 20 && workerPids.size < 2; attempt++) {
      const client = await connect(url);
      try {
        const page = await fetchWithPushes(client, '/');
        expect(page.status).toBe(200);
        const worker = Number(page.headers['x-worker']);
        expect(worker).toBeGreaterThan(0);
        expect(worker).not.toBe(primary.pid);
        expect(pushedPaths(page)).toEqual(['/static/style.css', '/static/app.js']);
        expect(page.pushes.map((p) => [p.status, Number(p.headers?.['x-worker'])])).toEqual([
          [200, worker],
          [200, worker],
        ]);
        workerPids.add(worker);
      } finally {
        client.close();
      }
    }
    expect(workerPids.size).toBe(2);
  });

  it('stopping the primary (SIGTERM) stops its workers', async () => {
    expect(workerPids.size).toBe(2);
    const exited = new Promise<number | null>((resolve) => primary.once('exit', (code) => resolve(code)));
    primary.kill('SIGTERM');
    expect(await exited).toBe(0);
    const deadline = Date.now() + 5_000;
    while ([...workerPids].some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect([...workerPids].filter(alive)).toEqual([]);
  }, 15_000);
});
