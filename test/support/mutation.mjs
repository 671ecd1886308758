// npm run mutation: StrykerJS (stryker.config.mjs) in two passes, so that a run fits in an hour on 2 cores.
// 1. Only the unit suites (MUTATION_SUITES=unit): seconds per mutant, even for static mutants (code run when a
//    module loads or an app starts, which Stryker must run against every test).
// 2. Every suite, for the mutants the first pass left alive (survived, not covered, timed out), selected by
//    their location (`--mutate src/FILE.ts:LINE:COLUMN-LINE:COLUMN`).
// Then it prints each file's result, the second pass's verdict taking precedence. Arguments go to Stryker
// (`npm run mutation -- --mutate src/push/push.issuer.ts`); --mutate only to the first pass.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const UNIT_REPORT = 'reports/mutation/mutation-unit.json';
const FULL_REPORT = 'reports/mutation/mutation.json';
const ALIVE = new Set(['Survived', 'NoCoverage', 'Timeout']);

const args = process.argv.slice(2);
const withoutMutate = args.filter((arg, i) => !['--mutate', '-m'].includes(arg) && !['--mutate', '-m'].includes(args[i - 1]));

function stryker(env, strykerArgs) {
  const run = spawnSync('npx', ['stryker', 'run', ...strykerArgs], { stdio: 'inherit', env: { ...process.env, ...env } });
  if (run.status !== 0) process.exit(run.status ?? 1);
}

const mutantsOf = (file) => Object.entries(JSON.parse(readFileSync(file, 'utf8')).files);
const keyOf = (name, m) => `${name} ${m.mutatorName} ${m.replacement} ${m.location.start.line}:${m.location.start.column}-${m.location.end.line}:${m.location.end.column}`;

stryker({ MUTATION_SUITES: 'unit' }, args);
const first = mutantsOf(UNIT_REPORT);
// Report columns count from 1, --mutate columns from 0.
const ranges = first.flatMap(([name, file]) =>
  file.mutants
    .filter((m) => ALIVE.has(m.status))
    .map(({ location: { start, end } }) => `${name}:${start.line}:${start.column - 1}-${end.line}:${end.column - 1}`),
);
const second = new Map();
if (ranges.length > 0) {
  stryker({ MUTATION_SUITES: 'all' }, [...withoutMutate, '--mutate', [...new Set(ranges)].join(',')]);
  for (const [name, file] of mutantsOf(FULL_REPORT)) for (const m of file.mutants) second.set(keyOf(name, m), m.status);
}

const percent = (part, whole) => (whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(1)} %`);
console.log('\n| file | mutants | compile errors | killed | timed out | survived | no coverage | killed % | score |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const alive = [];
for (const [name, file] of first) {
  const count = { CompileError: 0, Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0 };
  for (const m of file.mutants) {
    const status = second.get(keyOf(name, m)) ?? m.status;
    count[status] = (count[status] ?? 0) + 1;
    if (ALIVE.has(status)) alive.push(`${status} ${name}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName}: ${m.replacement.split('\n')[0].slice(0, 100)}`);
  }
  const valid = count.Killed + count.Timeout + count.Survived + count.NoCoverage;
  console.log(
    `| \`${name}\` | ${file.mutants.length} | ${count.CompileError} | ${count.Killed} | ${count.Timeout} | ${count.Survived} | ` +
      `${count.NoCoverage} | ${percent(count.Killed, valid)} | ${percent(count.Killed + count.Timeout, valid)} |`,
  );
}
console.log(alive.length > 0 ? `\nNot killed:\n${alive.join('\n')}` : '\nEvery mutant killed.');
