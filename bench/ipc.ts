/** Forked children and the little request/response protocol the orchestrator speaks with them over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pinChild } from './cpu-pinning';

/** Every child this process started, so a failing or timed-out run can end exactly those. */
const children = new Set<ChildProcess>();

export function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
}

export interface Child {
  process: ChildProcess;
  /** Sends `message` and resolves with the child's next message of type `reply`. */
  request<T = Record<string, unknown>>(message: Record<string, unknown>, reply: string, timeoutMs?: number): Promise<T>;
  /** The next message of `type` from the child. */
  next<T = Record<string, unknown>>(type: string, timeoutMs?: number): Promise<T>;
  send(message: Record<string, unknown>): void;
  exited: Promise<number | null>;
}

/**
 * Forks `dist-bench/bench/<script>.js` with this process's Node binary (`--node=` re-runs the bench under
 * another). `launcher`: a command that runs that binary, e.g. valgrind and its flags (part 6); fork() then
 * starts `launcher... node --no-warnings execArgv... script args...`, IPC channel included.
 */
export function forkChild(script: string, args: string[] = [], execArgv: string[] = [], env?: Record<string, string>, launcher: string[] = []): Child {
  const child = fork(join(__dirname, `${script}.js`), args, {
    ...(launcher.length ? { execPath: launcher[0] } : {}),
    execArgv: [...launcher.slice(1), ...(launcher.length ? [process.execPath] : []), '--no-warnings', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: env ? { ...process.env, ...env } : process.env,
  });
  children.add(child);
  pinChild(child.pid, script === 'server' ? 'server' : 'load');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    children.delete(child);
    resolve(code);
  }));
  const next = <T>(type: string, timeoutMs = 60_000): Promise<T> => new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${script}: no "${type}" message within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: { type?: string; error?: string }) => {
      if (message?.type === 'error') {
        cleanup();
        reject(new Error(`${script}: ${message.error}`));
      } else if (message?.type === type) {
        cleanup();
        resolve(message as T);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${script} exited (${code}) before sending "${type}"`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
  return {
    process: child,
    next,
    send: (message) => child.send(message),
    request: (message, reply, timeoutMs) => {
      const answer = next<never>(reply, timeoutMs);
      child.send(message);
      return answer;
    },
    exited,
  };
}

/** In a child: reports an uncaught failure to the parent and exits. */
export function reportErrors(): void {
  const fail = (error: unknown) => {
    const text = error instanceof Error ? error.stack ?? error.message : String(error);
    if (process.send) process.send({ type: 'error', error: text }, () => process.exit(1));
    else {
      console.error(text);
      process.exit(1);
    }
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  // The orchestrator went away: never outlive it.
  process.on('disconnect', () => process.exit(0));
}
