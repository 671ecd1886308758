// Jest test environment for mutation runs (stryker.config.mjs): after the first failing test of a suite, the
// suite's other tests are skipped. One failure kills a mutant; without this, a mutant that leaves every push
// unanswered makes each test of the suite wait for Jest's testTimeout, and the sum can pass Stryker's own
// timeout, which would record a killed mutant as 'Timeout'. (mutation.runner.cjs stops the following suites.)
const { TestEnvironment } = require('jest-environment-node');

class BailingEnvironment extends TestEnvironment {
  failed = false;

  handleTestEvent(event) {
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') this.failed = true;
    else if (event.name === 'test_start' && this.failed) event.test.mode = 'skip';
  }
}

module.exports = BailingEnvironment;
