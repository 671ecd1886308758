import { execFileSync } from 'node:child_process';

/** What `npm run build` and `npm pack` give a user: only compiled code with types, loadable with require(). */
describe('the published package', () => {
  beforeAll(() => {
    execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'pipe' });
  }, 120_000);

  it('contains only dist/ with .js and .d.ts files, the README, LICENSE and package.json', () => {
    const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' }));
    const files: string[] = pack.files.map((f: { path: string }) => f.path).sort();
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'README.md', 'LICENSE', 'package.json']));
    for (const file of files) expect(file).toMatch(/^(dist\/[\w.-]+\.(js|d\.ts)|README\.md|LICENSE|package\.json)$/);
  });

  it('loads from CommonJS through the package entry point', () => {
    const script = `
      const lib = require(${JSON.stringify(process.cwd())});
      const mod = lib.PushModule.forRoot({ maxPushesPerRequest: 3 });
      console.log(JSON.stringify({ exports: Object.keys(lib).sort(), global: mod.global, module: mod.module.name }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    expect(out).toEqual({
      exports: [
        'DEFAULT_DIARY_SIZE', 'DEFAULT_INHERITED_HEADERS', 'DEFAULT_MAX_CONCURRENT_PUSHES_PER_CONNECTION', 'DEFAULT_MAX_PUSHES_PER_REQUEST',
        'DEFAULT_PUSH_TIMEOUT_MS', 'PUSH_MODULE_OPTIONS', 'Push',
        'PushAfterResponseError', 'PushError', 'PushInterceptor', 'PushModule', 'PushMonitor', 'PushOutsideRequestError',
        'PushService', 'PushValidationError', 'isPushedRequest', 'pushSummary',
      ],
      global: true,
      module: 'PushModule',
    });
  });
});
