// Mutation testing (npm run mutation): StrykerJS mutates src/ and runs the Jest suites that cover each mutant.
// Jest runs in ESM mode here (Nest 12 is ESM-only), so the test runner's Node needs the same flag as `npm test`.
// The slowest suites are left out: they start browsers, child processes or other servers (whose code no
// mutant reaches), and their running time would dominate.
const SLOW_SUITES = ['browser', 'soak', 'cluster', 'h2o-edge', 'package', 'quick-start'].map((name) => `/test/${name}\\.e2e-spec\\.ts$`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    config: {
      testPathIgnorePatterns: ['/node_modules/', ...SLOW_SUITES],
      testSequencer: '<rootDir>/test/support/mutation.sequencer.cjs',
      runner: '<rootDir>/test/support/mutation.runner.cjs',
      // A mutant that makes a test wait for what never comes fails it sooner (it is killed all the same).
      testTimeout: 15000,
      transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.mutation.json' }] },
    },
    enableFindRelatedTests: false,
  },
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.build.json',
  // Only src/ is instrumented: the fixtures' static .js files must be served as they are.
  disableTypeChecks: 'src/**/*.ts',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: ['src/**/*.ts', '!src/index.ts', '!src/**/*.interface.ts'],
  ignorePatterns: ['dist*', 'reports', 'coverage', 'bench', 'soak', '.sample-cert', '.mutation-test-names.json'],
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  concurrency: 2,
  dryRunTimeoutMinutes: 20,
  // Jest's testTimeout fails a test that waits for what a mutant stopped; Stryker's timeout only has to catch
  // endless loops. It must stay well above a full run of a mutant's suites on a loaded machine: a mutant no
  // test kills runs all of them, and one cut off there would count as detected ('Timeout').
  timeoutMS: 120000,
  timeoutFactor: 3,
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
