/**
 * The README's TypeScript blocks compile as a user's app compiles them: against the packed package, with the
 * quick start's tsconfig. A block right under a "`path`:" line is that file of one app (the quick start's
 * three files); every other block is a file of its own.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createAppFolder, packPackage, ROOT, tsc, type PackedPackage } from './support/packed-package';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const EXAMPLE = join(ROOT, 'examples', 'quick-start');
const { dependencies, devDependencies } = JSON.parse(readFileSync(join(EXAMPLE, 'package.json'), 'utf8'));

/** Each ```ts block with the file it belongs in. */
function readmeBlocks(markdown: string): { file: string; code: string }[] {
  return [...markdown.matchAll(/(?:^`([\w./-]+\.ts)`:\n\n)?^```ts\n([\s\S]*?)\n```$/gm)].map((match, index) => ({
    file: match[1] ?? `readme/block-${index + 1}.ts`,
    code: match[2],
  }));
}

let pack: PackedPackage;
let app: { dir: string; remove(): void };

beforeAll(() => {
  pack = packPackage();
  app = createAppFolder(pack.tarball, [...Object.keys(dependencies), ...Object.keys(devDependencies)]);
});

afterAll(() => {
  app?.remove();
  pack?.remove();
});

describe('the README', () => {
  it('has the quick start files and usage examples as TypeScript blocks', () => {
    const files = readmeBlocks(README).map((block) => block.file);
    expect(files.filter((file) => file.startsWith('src/'))).toEqual(['src/main.ts', 'src/app.module.ts', 'src/page.controller.ts']);
    expect(files.filter((file) => file.startsWith('readme/')).length).toBeGreaterThanOrEqual(2);
  });

  it('compiles: every TypeScript block against the packed package', async () => {
    for (const { file, code } of readmeBlocks(README)) {
      mkdirSync(dirname(join(app.dir, file)), { recursive: true });
      writeFileSync(join(app.dir, file), `${code}\n`);
    }
    const { compilerOptions } = JSON.parse(readFileSync(join(EXAMPLE, 'tsconfig.json'), 'utf8'));
    const config = { compilerOptions: { ...compilerOptions, rootDir: undefined, outDir: undefined, noEmit: true }, include: ['src', 'readme'] };
    writeFileSync(join(app.dir, 'tsconfig.json'), JSON.stringify(config));
    await tsc(['-p', 'tsconfig.json'], app.dir);
  }, 120_000);
});
