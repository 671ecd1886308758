/** The soak report as a plain-text table (console) and as Markdown (soak/RESULTS.md). */
import type { SoakReport } from './soak';

type Section = { title: string; rows: [string, string][] };

const MiB = 1024 * 1024;
const mib = (bytes: number | undefined) => (bytes === undefined ? '–' : `${(bytes / MiB).toFixed(1)} MiB`);
const signedMib = (bytes: number | undefined) =>
  bytes === undefined ? '–' : `${bytes >= 0 ? '+' : ''}${(bytes / MiB).toFixed(2)} MiB (${bytes >= 0 ? '+' : ''}${Math.round(bytes / 1024)} KiB)`;
const int = (n: number) => n.toLocaleString('en-US');
const counts = (record: Record<string, number>) => {
  const entries = Object.entries(record).filter(([, n]) => n !== 0).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ${int(n)}`).join(', ');
};

function sections(r: SoakReport, command: string): Section[] {
  const c = r.client;
  const run = r.pushes.run;
  const b = r.before;
  const a = r.after;
  return [
    {
      title: 'Run',
      rows: [
        ['command', command],
        ['date', r.startedAt],
        ['seed', String(r.seed)],
        ['connections at once', String(r.connections)],
        ['warm-up page requests (before the "before" snapshot)', int(r.warmupRequests)],
        ['measured drive', `${(r.driveMs / 1000).toFixed(1)} s (${int(Math.round(c.pagesSent / Math.max(0.001, r.driveMs / 1000)))} pages/s)`],
        ['whole soak (start, warm-up, drive, settle, stop)', `${(r.durationMs / 1000).toFixed(1)} s`],
        ['aborted', r.aborted ?? 'no'],
      ],
    },
    {
      title: 'Requests (measured run)',
      rows: [
        ['page requests sent', `${int(c.pagesSent)} of ${int(r.requests)}`],
        ['page requests served (handler ran)', int(r.served)],
        ['pages 200 and complete', int(c.pagesOk)],
        ['clean pages (no fault on page or connection): 200 and complete', `${int(c.cleanPagesOk)} / ${int(c.cleanPages)}`],
        ['page outcome seen by clients', counts(c.pageStatus)],
        ['103 Early Hints received', int(c.earlyHints)],
        ['connections by kind', counts(c.connections)],
        ['faults injected', counts(c.faults)],
        ['destroyers: connections broken (moment × way pairs) / page over first / reset storms ended by the server', r.destroyers
          ? `${int(Object.values(r.destroyers.broken).reduce((a, b) => a + b, 0))} (${Object.keys(r.destroyers.broken).length} pairs) / ${int(r.destroyers.missed)} / ${r.destroyers.stormsEnded} of 2`
          : 'none'],
      ],
    },
    {
      title: 'Pushes (server counters, measured run)',
      rows: [
        ['promised', int(run.promised)],
        ['completed', int(run.completed)],
        ['cancelled', int(run.cancelled)],
        ['failed', int(run.failed)],
        ['refused', counts(run.refused)],
        ['hinted (103 / Link instead)', int(run.hinted)],
        ['bytes of completed pushes', mib(run.bytes)],
        ['completed by status (since start)', counts(r.pushes.completedByStatus)],
        ['since start: promised = completed + cancelled + failed', `${int(r.pushes.after.promised)} = ${int(r.pushes.after.completed)} + ${int(r.pushes.after.cancelled)} + ${int(r.pushes.after.failed)}${r.settled ? '' : ' (NOT settled)'}`],
        ['client side: promises seen / received in full / reset by client', `${int(c.pushesPromised)} / ${int(c.pushesReceived)} / ${int(c.pushesReset)}`],
        ['client side: pushed responses by status', counts(c.pushStatus)],
        ['client side: /asset/slow pushes cancelled by the server (pushTimeoutMs)', int(c.slowCancelled)],
      ],
    },
    {
      title: 'Client-side errors',
      rows: [
        ['after a fault the client injected (expected)', counts(c.inducedErrors)],
        ['unexpected (well-behaved clients)', counts(c.unexpectedErrors)],
        ['page timeouts', int(c.pageTimeouts)],
      ],
    },
    {
      title: 'Server process (after all clients closed and the closed sessions were released, after GC)',
      rows: [
        ['RSS before → after (peak seen)', `${mib(b?.memory.rss)} → ${mib(a?.memory.rss)} (${mib(r.peakRss)})`],
        ['heapUsed before → after', `${mib(b?.memory.heapUsed)} → ${mib(a?.memory.heapUsed)}`],
        ['heap growth', `${signedMib(r.heapGrowth)} (bound ${mib(r.maxHeapGrowthBytes)})`],
        [
          `right after the clients closed, before the sessions' ${r.sessionTimeoutMs / 1000} s idle timers fired`,
          r.afterClose ? `heapUsed ${mib(r.afterClose.memory.heapUsed)}, ${int(r.afterClose.closedSessionsReachable)} closed sessions still reachable` : '–',
        ],
        ['closed sessions still reachable after', a ? int(a.closedSessionsReachable) : '–'],
        ['RSS growth', signedMib(r.rssGrowth)],
        ['heapTotal / external / arrayBuffers after', `${mib(a?.memory.heapTotal)} / ${mib(a?.memory.external)} / ${mib(a?.memory.arrayBuffers)}`],
        ['open HTTP/2 sessions after / sessions in all', `${a?.openSessions ?? '–'} / ${a ? int(a.sessions) : '–'}`],
        ['active resources before', b ? counts(b.resources) : '–'],
        ['active resources after', a ? counts(a.resources) : '–'],
        ['flaky pushed handler throws / error logs', a ? `${int(a.flakyThrows)} / ${int(a.errorLogs)}` : '–'],
        ['server sessionError events', a ? counts(a.sessionErrors) : '–'],
        ['uncaught exceptions / unhandled rejections', a ? `${a.uncaughtExceptions.length} / ${a.unhandledRejections.length}` : '–'],
        ['process warnings', a ? counts(a.warnings) : '–'],
        ['crashed (exit before stop)', r.child.crashed ? `yes: ${JSON.stringify(r.child.exit)}` : 'no'],
      ],
    },
    {
      title: `Verdict: ${r.pass ? 'PASS' : 'FAIL'}`,
      rows: r.checks.map((check) => [`${check.pass ? 'PASS' : 'FAIL'} ${check.name}`, check.detail]),
    },
  ];
}

export function formatText(r: SoakReport, command: string): string {
  const all = sections(r, command);
  const width = Math.max(...all.flatMap((s) => s.rows.map(([label]) => label.length)));
  const lines: string[] = [];
  for (const section of all) {
    lines.push('', section.title, '-'.repeat(section.title.length));
    for (const [label, value] of section.rows) lines.push(`${label.padEnd(width)}  ${value}`);
  }
  if (r.child.crashed && r.child.stderrTail) lines.push('', 'server output (tail):', r.child.stderrTail);
  return lines.join('\n');
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function formatMarkdown(r: SoakReport, command: string): string {
  const lines = [
    '# Soak results',
    '',
    `\`${command}\` on ${r.startedAt.slice(0, 10)}: Node ${process.version}, ${r.pass ? '**PASS**' : '**FAIL**'}.`,
    'A Nest + Fastify HTTP/2 (h2c) server with PushModule in a child process (`--expose-gc`), driven over',
    'loopback by node:http2 clients with random faults; see soak/driver.ts for the mix and soak/soak.ts for',
    'the pass criteria. Written by `npm run soak`.',
    '',
    'Memory is read after `global.gc()`, "before" after a warm-up and "after" once every closed HTTP/2 session',
    'was garbage-collected. On Node 20 a destroyed session stays reachable until its idle timer fires',
    "(Fastify's `http2SessionTimeout`, 72 s by default: `closeSession()` calls `setTimeout(0)` on the already",
    'destroyed session, which returns early), about 2.7 KiB of heap per closed connection; the soak server',
    `uses ${r.sessionTimeoutMs / 1000} s and waits for it. The heap bound (${(r.maxHeapGrowthBytes / 1024 / 1024).toFixed(0)} MiB) leaves room for compiled code (under`,
    '1 MiB) and fails a leak of 168 B per page, 64 B per push or 1.5 KiB per connection over 100,000 pages.',
  ];
  for (const section of sections(r, command)) {
    lines.push('', `## ${section.title}`, '', '| | |', '|---|---|');
    for (const [label, value] of section.rows) lines.push(`| ${cell(label)} | ${cell(value)} |`);
  }
  return `${lines.join('\n')}\n`;
}
