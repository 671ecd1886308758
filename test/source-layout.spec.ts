import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** src/ as docs/contributing.md describes it: folders by concern, no import circles, one public surface. */
const SRC = resolve(process.cwd(), 'src');
const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts')).map((file) => join(SRC, file));

/** Every relative import of a file (type-only ones included: they are circles for a reader too). */
function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)'/g)].map((match) => {
    const target = resolve(dirname(file), match[1]);
    return existsSync(`${target}.ts`) ? `${target}.ts` : join(target, 'index.ts');
  });
}

/** The import circles among `files`, each as the files it passes through (Tarjan's strongly connected components). */
function importCircles(): string[][] {
  const graph = new Map(files.map((file) => [file, importsOf(file)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const circles: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (stack.includes(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component = stack.splice(stack.indexOf(file));
    if (component.length > 1 || graph.get(file)!.includes(file)) circles.push(component.map((f) => relative(SRC, f)));
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return circles;
}

describe('the layout of src/', () => {
  it('has no import circles, type-only imports included', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(importCircles()).toEqual([]);
  });

  it('keeps every file in a folder by concern, but the public surface (index.ts) and the shared constants', () => {
    expect(files.filter((file) => dirname(file) === SRC).map((file) => relative(SRC, file)).sort()).toEqual(['index.ts', 'push.constants.ts']);
  });

  it('imports nothing from outside src/ but packages and Node', () => {
    const outside = files.flatMap((file) => importsOf(file).filter((target) => relative(SRC, target).startsWith('..')).map((target) => `${relative(SRC, file)} -> ${target}`));
    expect(outside).toEqual([]);
  });
});
