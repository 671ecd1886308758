import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free loopback port (the OS picks it; closed again before the edge binds it). */
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

/** A reverse proxy (h2o, HAProxy) started by a test in front of an origin. */
export interface Edge {
  /** `https://127.0.0.1:PORT`: the public address clients use. */
  url: string;
  port: number;
  /** What the proxy printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** How to start one edge: `files` are written to a fresh temporary directory first. */
export interface EdgeLaunch {
  /** The binary, and the Debian package that ships it (for the error when it is missing). */
  command: string;
  debianPackage: string;
  /** Arguments, given the temporary directory and the port the edge must listen on. */
  args(dir: string): string[];
  /** File name → content, given the directory and the port (configuration, key, certificate). */
  files(dir: string, port: number): Record<string, string>;
}

function missing(launch: EdgeLaunch): Error {
  return new Error(`${launch.command} not found: install it (apt-get install ${launch.debianPackage}) to run this test`);
}

/** The first line `command args` prints; rejects with an install hint when the binary is missing. */
export function versionOf(launch: Pick<EdgeLaunch, 'command' | 'debianPackage'>, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(launch.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? missing(launch as EdgeLaunch) : error));
    child.on('close', () => resolve(out.split('\n')[0].trim()));
  });
}

function waitForPort(name: string, port: number, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before listening:\n${output()}`));
        return;
      }
      const socket = netConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`${name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${output()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * Starts an edge in the foreground on a free loopback port and waits until it accepts connections. A
 * missing binary rejects: the test fails, it does not skip. `stop()` ends the process and removes its files.
 */
export async function startEdge(launch: EdgeLaunch, timeoutMs = 10_000): Promise<Edge> {
  const dir = await mkdtemp(join(tmpdir(), `${launch.command}-edge-`));
  const port = await freePort();
  for (const [name, content] of Object.entries(launch.files(dir, port))) {
    await writeFile(join(dir, name), content, { mode: 0o600 });
  }

  let output = '';
  const child = spawn(launch.command, launch.args(dir), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? missing(launch) : error));
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
    await waitForPort(launch.command, port, child, () => output, timeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `https://127.0.0.1:${port}`, port, output: () => output, stop };
}
