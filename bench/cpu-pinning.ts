/**
 * Servers on one core, everything that loads them on another (`taskset`, util-linux), when the machine has
 * two cores or more and `--no-pin` was not given. Server CPU per page is the figure the bar is about; left
 * to the scheduler, the server's threads and its load driver share both cores, so the server's cost per
 * page changed with where each process happened to run, and consecutive runs of the same app differed by
 * up to a third (bench/CHANGES.md). One core per Node process is also how Node is deployed (cluster, one
 * container CPU): the server's own helper threads (GC, libuv's pool) run on its core, and count.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { findCommand } from './find-command';

/** The core of the servers (the last one) and the core of load drivers, proxies, h2load and this process. */
const SERVER_CPU = os.availableParallelism() - 1;
const LOAD_CPU = 0;

let taskset: string | undefined;

/** Turns pinning on if it is possible and wanted; pins this process to the load core. */
export function enablePinning(wanted: boolean): void {
  taskset = wanted && os.availableParallelism() >= 2 ? findCommand('taskset') : undefined;
  if (taskset) pin(process.pid, LOAD_CPU);
}

/** One line for RESULTS.md: where the processes ran. */
export function pinningNote(): string {
  return taskset
    ? `Servers pinned to core ${SERVER_CPU}, load drivers, proxies, h2load and the orchestrator to core ${LOAD_CPU} (\`taskset\`; \`--no-pin\` leaves it to the scheduler).`
    : 'Processes not pinned to cores (`--no-pin`, one core, or no `taskset`).';
}

/** Pins every thread of a child process: a server to the server core, anything else to the load core. */
export function pinChild(pid: number | undefined, role: 'server' | 'load'): void {
  if (taskset && pid !== undefined) pin(pid, role === 'server' ? SERVER_CPU : LOAD_CPU);
}

/** The command and arguments that run `command` on the load core (h2load). */
export function onLoadCore(command: string, args: string[]): [string, string[]] {
  return taskset ? [taskset, ['-c', String(LOAD_CPU), command, ...args]] : [command, args];
}

function pin(pid: number, cpu: number): void {
  // -a: every thread the process has; threads it starts later inherit the mask of the thread that starts them.
  const result = spawnSync(taskset!, ['-a', '-p', '-c', String(cpu), String(pid)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`taskset could not pin process ${pid} to core ${cpu}: ${result.stderr.trim()}`);
}
