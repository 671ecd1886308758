import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** The package root: jest runs the tests (as ES modules, without __dirname) from there. */
export const ROOT = process.cwd();

/** Where Nest and Fastify come from: NEST_DIR's node_modules (`.ci/run` tests Nest 11 so) or the project's. */
const NEST_MODULES = process.env.NEST_DIR ? resolve(ROOT, process.env.NEST_DIR, 'node_modules') : join(ROOT, 'node_modules');
const FROM_NEST_DIR = /^(@nestjs\/(common|core|platform-fastify|platform-express)|fastify)$/;

export interface PackedPackage {
  /** The .tgz that `npm publish` would upload. */
  tarball: string;
  /** Its files, sorted. */
  files: string[];
  remove(): void;
}

/**
 * Packs the package as publishing does, into a temporary folder. `npm test` builds dist/ before jest starts
 * (test files run in parallel, and a build empties dist/ first), so this only checks dist/ is not stale.
 */
export function packPackage(): PackedPackage {
  const built = statSync(join(ROOT, 'dist', 'index.js'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const stale = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => statSync(join(ROOT, 'src', file)).mtimeMs > built);
  if (stale.length > 0) throw new Error(`dist/ is older than src/${stale[0]}: run \`npm run build\` first (npm test does).`);
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-http2-push-pack-'));
  const [pack] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }),
  );
  return {
    tarball: join(dir, pack.filename),
    files: pack.files.map((file: { path: string }) => file.path).sort(),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A throwaway app folder as `npm install` would leave it, without the network: the unpacked tarball as
 * node_modules/nestjs-http2-push and links to the project's installs of the app's other `dependencies`
 * (Nest and Fastify from NEST_DIR when it is set). Resolution from inside the package then finds exactly
 * what an app gives it: its peers, nothing of this repository.
 */
export function createAppFolder(tarball: string, dependencies: readonly string[]): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-http2-push-app-'));
  const installed = join(dir, 'node_modules', 'nestjs-http2-push');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  for (const name of dependencies) {
    if (name === 'nestjs-http2-push') continue;
    const link = join(dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(FROM_NEST_DIR.test(name) ? NEST_MODULES : join(ROOT, 'node_modules'), name), link, 'dir');
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the project's TypeScript compiler with the current Node; rejects with its diagnostics. */
export async function tsc(args: readonly string[], cwd: string): Promise<void> {
  const compiler = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  await promisify(execFile)(process.execPath, [compiler, ...args], { cwd }).catch((error: { stdout?: string }) => {
    throw new Error(`tsc ${args.join(' ')} in ${cwd}:\n${error.stdout}`);
  });
}

/** The environment of a child process as a user's shell gives it: without jest's NODE_OPTIONS. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _jestFlags, ...env } = process.env;
  return { ...env, ...extra };
}
