import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configureTestApp, pushTestModule } from './fixtures/push-test.app';
import { startApp } from './support/start-app';

/**
 * A run tests the versions it claims: Nest from NEST_DIR (`.ci/run` tests Nest 11 so) or the project's own
 * pins, the Fastify that adapter depends on, and the Node.js that `.ci/run` asked for (EXPECT_NODE).
 */
const manifestDir = join(process.cwd(), process.env.NEST_DIR || '.');
const manifest = JSON.parse(readFileSync(join(manifestDir, 'package.json'), 'utf8'));
const pinned: Record<string, string> = { ...manifest.devDependencies, ...manifest.dependencies };
const loaded = (name: string) => (jest.requireActual(`${name}/package.json`) as { version: string; dependencies: Record<string, string> });

describe(`versions under test (${process.env.NEST_DIR || 'the project\'s own'} Nest, Node ${process.version})`, () => {
  it.each(['@nestjs/common', '@nestjs/core', '@nestjs/platform-fastify', '@nestjs/platform-express'])('loads %s as pinned', (name) => {
    expect(`${name}@${loaded(name).version}`).toBe(`${name}@${pinned[name]}`);
  });

  it('serves with the Fastify this @nestjs/platform-fastify depends on', async () => {
    const server = await startApp(pushTestModule(), { configure: configureTestApp });
    try {
      expect(server.app.getHttpAdapter().getInstance().version).toBe(loaded('@nestjs/platform-fastify').dependencies.fastify);
    } finally {
      await server.close();
    }
  });

  (process.env.EXPECT_NODE ? it : it.skip)('runs on the Node.js that .ci/run asked for', () => {
    expect(process.version).toBe(`v${process.env.EXPECT_NODE}`);
  });
});
