// Mutation testing (npm run mutation): StrykerJS mutates src/ and runs the Jest suites that cover each mutant.
// Jest runs in ESM mode here (Nest 12 is ESM-only), so the test runner's Node needs the same flag as `npm test`.
// The slowest suites are left out: they start browsers, child processes or other servers (whose code no
// mutant reaches), and their running time would dominate.
// Name patterns: every browser suite (browser, learned-hints.browsers, ...) and every edge-proxy suite.
const SLOW_SUITES = ['[^/]*browsers?', 'soak', 'cluster', '[^/]*-edge', 'package', 'quick-start', 'readme'].map((name) => `/test/${name}\\.e2e-spec\\.ts$`);
// MUTATION_SUITES=unit runs only the unit suites (*.spec.ts, pure logic, seconds): a first pass that is cheap
// even for static mutants (code run when a module or an app starts, which Stryker runs against every test).
// Its survivors are then run against every suite: `--mutate 'src/FILE.ts:LINE'` (docs/testing.md, 'Mutation testing').
const UNIT_ONLY = process.env.MUTATION_SUITES === 'unit';
// The property suite's generated calls per property (12,000 in `npm test`): a mutant no test kills runs it in
// full. Not fewer than 4,000: the suite asks each input edge (about 1 % of the calls) to come up in 1 call
// in 400; with 1,000 calls one edge fell short in a run here, which fails the initial run or counts as a
// kill. The test runners inherit this environment.
process.env.PUSH_PROPERTY_RUNS ??= '4000';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    config: {
      testPathIgnorePatterns: ['/node_modules/', ...SLOW_SUITES, ...(UNIT_ONLY ? ['\\.e2e-spec\\.ts$'] : [])],
      // A path, not <rootDir>: Stryker's jest-runner resolves the environment itself, from the sandbox.
      testEnvironment: './test/support/mutation.environment.cjs',
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
  // By default the security-relevant files (README, 'Mutation testing'); `npm run mutation -- --mutate
  // 'src/**/*.ts,!src/index.ts,!src/**/*.interface.ts'` measures the whole of src/ (several hours here).
  mutate: [
    'src/push/push.issuer.ts',
    'src/push/push-validation.ts',
    'src/connection/push-connections.ts',
    'src/connection/push-allowance.ts',
    'src/hints/preload-*.ts',
    'src/cache/push-digest*.ts',
    'src/hints/link-header.pusher.ts',
  ],
  ignorePatterns: ['dist*', 'reports', 'coverage', 'bench', 'soak', '.sample-cert', '.mutation-test-names.json'],
  incremental: true,
  incrementalFile: `reports/mutation/stryker-incremental${UNIT_ONLY ? '-unit' : ''}.json`,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${UNIT_ONLY ? 'unit' : 'index'}.html` },
  jsonReporter: { fileName: `reports/mutation/mutation${UNIT_ONLY ? '-unit' : ''}.json` },
  // One test runner: the machine has 2 cores, and Stryker's TypeScript checker and the servers the tests start
  // take the rest. More runners on 2 cores turn slow mutants into timeouts.
  concurrency: 1,
  dryRunTimeoutMinutes: 20,
  // Jest's testTimeout fails a test that waits for what a mutant stopped; Stryker's timeout only has to catch
  // endless loops. It must stay well above a full run of a mutant's suites on a loaded machine: a mutant no
  // test kills runs all of them, and one cut off there would count as detected ('Timeout').
  timeoutMS: 180000,
  timeoutFactor: 3,
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
