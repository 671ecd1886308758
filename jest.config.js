// Nest 12 is ESM-only, and Jest on Node 20 loads ES modules only in its ESM mode
// (NODE_OPTIONS=--experimental-vm-modules, set by `npm test`).
const path = require('node:path');

// NEST_DIR=.ci/nest11 runs the tests against the Nest (and Fastify) installed there instead of the
// project's own: .ci/run uses it to test the older supported major.
const nestDir = process.env.NEST_DIR && path.resolve(__dirname, process.env.NEST_DIR, 'node_modules');
const nestMapper = nestDir
  ? {
      '^(@nestjs/(?:common|core|platform-fastify|platform-express))(/.*)?$': `${nestDir}/$1$2`,
      '^fastify(/.*)?$': `${nestDir}/fastify$1`,
    }
  : {};

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1', ...nestMapper },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.spec.json' }],
  },
  testTimeout: 30000,
};
