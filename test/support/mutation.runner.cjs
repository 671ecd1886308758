// Jest runner for mutation runs (stryker.config.mjs): in band, one suite at a time, and it stops at the first
// suite with a failing test. A mutant is killed by one failure; Stryker turns Jest's own `bail` off (Jest
// would exit the process), so without this every suite covering a killed mutant still runs.
const TestRunner = require('jest-runner').default;

class BailingTestRunner extends TestRunner {
  async runTests(tests, watcher, options) {
    if (!options.serial) return super.runTests(tests, watcher, options);
    let failed = false;
    const offSuccess = this.on('test-file-success', ([, result]) => {
      if (result.numFailingTests > 0 || result.testExecError) failed = true;
    });
    const offFailure = this.on('test-file-failure', () => (failed = true));
    try {
      for (const test of tests) {
        if (failed || watcher.isInterrupted()) break;
        await super.runTests([test], watcher, options);
      }
    } finally {
      offSuccess();
      offFailure();
    }
  }
}

module.exports = BailingTestRunner;
