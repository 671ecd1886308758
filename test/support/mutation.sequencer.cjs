// Jest test order for mutation runs (stryker.config.mjs). Stryker runs only the tests covering a mutant, by
// name (testNamePattern), but Jest would still load every suite, and loading one (Nest, Fastify, the app) costs
// more than most of its tests. So the names of every suite's tests, recorded in Stryker's first, unfiltered
// run, leave out the suites with no test to run. Then the suite that failed last goes first (neighbouring
// mutants tend to be killed by the same suite) unless it is the slowest by far, then the quickest ones:
// mutation.runner.cjs stops at the first failure.
const fs = require('node:fs');
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const NAMES_FILE = '.mutation-test-names.json';
const namesFile = (test) => path.join(test.context.config.rootDir, NAMES_FILE);

class MutationSequencer extends Sequencer {
  constructor(options) {
    super(options);
    const pattern = options.globalConfig.testNamePattern;
    this.pattern = pattern ? new RegExp(pattern, 'i') : undefined;
  }

  sort(tests) {
    const size = (test) => test.context.hasteFS.getSize(test.path) ?? 0;
    const names = this.pattern && tests.length > 0 ? readNames(namesFile(tests[0])) : undefined;
    const wanted = names ? tests.filter((test) => !names[test.path] || names[test.path].some((name) => this.pattern.test(name))) : [...tests];
    for (const test of wanted) test.duration = this.time(test);
    // The suite that failed last goes first unless it is slower than all the others together (the property
    // suite: seconds of generated input that other suites' quick failures would save).
    const others = (test) => wanted.reduce((sum, other) => sum + (other === test ? 0 : (other.duration ?? 0)), 0);
    const first = new Set(wanted.filter((test) => this.hasFailed(test) && (test.duration ?? 0) <= others(test)));
    return wanted.sort((a, b) => {
      const failed = Number(first.has(b)) - Number(first.has(a));
      if (failed !== 0) return failed;
      if (a.duration != null && b.duration != null) return a.duration - b.duration;
      if ((a.duration == null) !== (b.duration == null)) return a.duration == null ? 1 : -1;
      return size(a) - size(b);
    });
  }

  cacheResults(tests, results) {
    super.cacheResults(tests, results);
    if (this.pattern || tests.length === 0) return; // only a run of every test knows every name
    const names = {};
    for (const suite of results.testResults) names[suite.testFilePath] = suite.testResults.map((t) => t.fullName);
    fs.writeFileSync(namesFile(tests[0]), JSON.stringify(names));
  }
}

function readNames(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined; // not recorded yet: run every suite
  }
}

module.exports = MutationSequencer;
