import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** A free loopback port (the OS picks it; closed again before h2o binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface H2oEdge {
  /** `https://127.0.0.1:PORT`: the public address clients use. */
  url: string;
  port: number;
  /** What h2o printed (error log on stderr), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** `h2o --version`, first line; rejects with an install hint when the binary is missing. */
export function h2oVersion(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('h2o', ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error('h2o not found: install it (apt-get install h2o) to run this test') : error),
    );
    child.on('close', () => resolve(out.split('\n')[0].trim()));
  });
}

function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`h2o exited (${child.exitCode ?? child.signalCode}) before listening:\n${output()}`));
        return;
      }
      const socket = netConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`h2o did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${output()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * Starts Debian's h2o (package `h2o`) as a TLS HTTP/2 reverse proxy on a free loopback port, in front of
 * `upstream` (an `https://` origin that speaks HTTP/1.1; its certificate is not verified). Directives:
 * listen (host, port, ssl with ocsp-update-interval: 0), num-threads: 1, hosts/paths, proxy.reverse.url,
 * proxy.ssl.verify-peer: OFF. http2-push-preload is left at its default (ON). A missing binary rejects:
 * the test fails, it does not skip.
 */
export async function startH2o(upstream: string, tls: { key: string; cert: string }, timeoutMs = 10_000): Promise<H2oEdge> {
  const dir = await mkdtemp(join(tmpdir(), 'h2o-edge-'));
  await writeFile(join(dir, 'key.pem'), tls.key, { mode: 0o600 });
  await writeFile(join(dir, 'cert.pem'), tls.cert);
  const port = await freePort();
  // Started as root, h2o switches to `nobody` unless told otherwise; stay who we are.
  const user = process.getuid?.() === 0 ? `user: ${userInfo().username}\n` : '';
  const config = `${user}listen:
  host: 127.0.0.1
  port: ${port}
  ssl:
    certificate-file: ${join(dir, 'cert.pem')}
    key-file: ${join(dir, 'key.pem')}
    ocsp-update-interval: 0
num-threads: 1
hosts:
  default:
    paths:
      /:
        proxy.reverse.url: ${upstream}/
        proxy.ssl.verify-peer: OFF
`;
  const configFile = join(dir, 'h2o.conf');
  await writeFile(configFile, config);

  let output = '';
  const child = spawn('h2o', ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error('h2o not found: install it (apt-get install h2o) to run this test') : error),
    );
  });

  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await spawned;
    await waitForPort(port, child, () => output, timeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `https://127.0.0.1:${port}`, port, output: () => output, stop };
}
