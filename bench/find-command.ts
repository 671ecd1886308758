import { spawnSync } from 'node:child_process';

/** A command's path on the PATH, or undefined. */
export function findCommand(name: string): string | undefined {
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() || undefined : undefined;
}
