import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { createAppFolder, packPackage, ROOT, tsc, userEnv, type PackedPackage } from './support/packed-package';

const run = promisify(execFile);
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

/** What `npm pack` gives a user, checked as users and registries check it. */
describe('the published package', () => {
  let pack: PackedPackage;
  beforeAll(() => {
    pack = packPackage();
  }, 120_000);
  afterAll(() => pack?.remove());

  it('holds one .js and one .d.ts per source file, the README, CHANGELOG, LICENSE and package.json', () => {
    const sources = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    const compiled = sources.flatMap((file) => [`dist/${file.replace(/\.ts$/, '.js')}`, `dist/${file.replace(/\.ts$/, '.d.ts')}`]);
    expect(pack.files).toEqual([...compiled, 'CHANGELOG.md', 'LICENSE', 'README.md', 'package.json'].sort());
  });

  it('publint reports nothing, not even a suggestion', async () => {
    // NO_COLOR: a CI runner that sets FORCE_COLOR would otherwise get the verdict wrapped in ANSI codes.
    const { stdout } = await run(bin('publint'), ['run', pack.tarball, '--strict'], { env: userEnv({ NO_COLOR: '1' }) });
    expect(stripVTControlCharacters(stdout).trim().split('\n').slice(-1)[0]).toBe('All good!');
  });

  it('are-the-types-wrong finds no problem for node10, node16 (CommonJS and ESM) and bundler', async () => {
    const { stdout } = await run(bin('attw'), [pack.tarball, '--format', 'json'], { env: userEnv() });
    const { analysis, problems } = JSON.parse(stdout);
    expect({ problems, analysed: analysis.problems }).toEqual({ problems: {}, analysed: [] });
    expect(Object.keys(analysis.entrypoints)).toEqual(['.', './package.json']);
  });

  describe('in an app', () => {
    const PEERS = ['@nestjs/common', '@nestjs/core', '@nestjs/platform-fastify', 'fastify', 'reflect-metadata', 'rxjs', '@types/node'];
    const apps: { remove(): void }[] = [];
    afterAll(() => apps.forEach((app) => app.remove()));

    function app(type: 'commonjs' | 'module', compilerOptions: Record<string, unknown>): string {
      const folder = createAppFolder(pack.tarball, PEERS);
      apps.push(folder);
      writeFileSync(join(folder.dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type }));
      writeFileSync(join(folder.dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          target: 'ES2022', strict: true, experimentalDecorators: true, emitDecoratorMetadata: true,
          skipLibCheck: false, types: ['node'], outDir: 'out', ...compilerOptions,
        },
        files: ['app.ts'],
      }));
      copyFileSync(join(ROOT, 'test', 'fixtures', 'consumer', 'app.ts'), join(folder.dir, 'app.ts'));
      return folder.dir;
    }

    // Nest 12 is ESM-only, and `module: node16` refuses any CommonJS import of an ES module (the app's own
    // and this package's .d.ts alike); node20 (moduleResolution node16) allows it, as Node itself does.
    it('types check from CommonJS and ESM apps, moduleResolution node16 and bundler (skipLibCheck off, misuse caught)', async () => {
      const consumers = [
        app('commonjs', { module: 'node20', moduleResolution: 'node16' }),
        app('module', { module: 'node20', moduleResolution: 'node16' }),
        app('commonjs', { module: 'preserve', moduleResolution: 'bundler' }),
        app('module', { module: 'esnext', moduleResolution: 'bundler' }),
      ];
      // In parallel: each checks Nest's, Fastify's and Node's declarations too.
      await Promise.all(consumers.map((dir) => tsc(['-p', 'tsconfig.json', '--noEmit'], dir)));
    }, 300_000);

    it('works in an Express app with no Fastify installed: its types check, and its page gets one 103', async () => {
      const folder = createAppFolder(pack.tarball, ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', 'reflect-metadata', 'rxjs', '@types/node']);
      apps.push(folder);
      writeFileSync(join(folder.dir, 'package.json'), JSON.stringify({ name: 'express-consumer', private: true, type: 'commonjs' }));
      writeFileSync(join(folder.dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          target: 'ES2022', strict: true, experimentalDecorators: true, emitDecoratorMetadata: true, skipLibCheck: false,
          types: ['node'], outDir: 'out', module: 'node20', moduleResolution: 'node16',
        },
        files: ['app.ts'],
      }));
      copyFileSync(join(ROOT, 'test', 'fixtures', 'consumer', 'express-app.ts'), join(folder.dir, 'app.ts'));
      await tsc(['-p', 'tsconfig.json'], folder.dir);
      const { stdout } = await run(process.execPath, [join(folder.dir, 'out', 'app.js')], { cwd: folder.dir, env: userEnv() });
      expect(JSON.parse(stdout)).toEqual({
        // The @Push resource before the handler; the handler's own push() comes after the one 103: Link only.
        interim: [{ status: 103, link: '</static/site.css>; rel=preload; as=style' }],
        status: 200,
        link: '</static/site.css>; rel=preload; as=style, </static/app.js>; rel=preload; as=script',
        body: 'pushed: false',
      });
    }, 120_000);

    it('loads with require() and with import (named exports of the CommonJS build)', () => {
      const dir = app('module', { module: 'node16', moduleResolution: 'node16' });
      const script = (load: string) => `${load}
        const mod = lib.PushModule.forRoot({ maxPushesPerRequest: 3 });
        console.log(JSON.stringify({ exports: Object.keys(lib).filter((k) => !['default', '__esModule', 'module.exports'].includes(k)).sort(), global: mod.global, module: mod.module.name }));`;
      const required = execFileSync(process.execPath, ['--input-type=commonjs', '-e', script("const lib = require('nestjs-http2-push');")], { cwd: dir, encoding: 'utf8', env: userEnv() });
      const imported = execFileSync(process.execPath, ['--input-type=module', '-e', script("import * as lib from 'nestjs-http2-push';")], { cwd: dir, encoding: 'utf8', env: userEnv() });
      const expected = {
        exports: [
          'DEFAULT_CONNECTION_PUSH_BUDGET', 'DEFAULT_DIARY_SIZE', 'DEFAULT_INHERITED_HEADERS', 'DEFAULT_MAX_CONCURRENT_PUSHES_PER_CONNECTION', 'DEFAULT_MAX_PUSHES_PER_REQUEST',
          'DEFAULT_PUSH_TIMEOUT_MS', 'PUSH_MODULE_OPTIONS', 'Push',
          'PushAfterResponseError', 'PushError', 'PushGuard', 'PushModule', 'PushMonitor', 'PushOutsideRequestError',
          'PushService', 'PushValidationError', 'Vulcain', 'VulcainInterceptor', 'isPushedRequest', 'pushSummary',
        ],
        global: true,
        module: 'PushModule',
      };
      expect(JSON.parse(required)).toEqual(expected);
      expect(JSON.parse(imported)).toEqual(expected);
    });
  });
});
