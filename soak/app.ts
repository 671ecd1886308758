/**
 * The soaked application: a page pushing three resources with @Push(), a page pushing with PushService,
 * a pushed route that throws every 7th time, one that answers 503 and, for every 50th PushService page,
 * one that answers too late (after pushTimeoutMs, so the module cancels the push and counts it failed).
 * Counts what the driver cannot see.
 */
import { Controller, Get, Header, HttpCode, Module, Query, Req, type LoggerService } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Push, PushModule, PushService, type PushModuleOptions } from '../src';

export const counters = {
  pages: 0,
  pushedHandled: 0,
  flakyCalls: 0,
  flakyThrows: 0,
  slowPending: 0,
  errorLogs: 0,
  errorSamples: [] as string[],
};

const CSS = `body{margin:0}\n${'.c{color:#123456}\n'.repeat(110)}`; // ~2 KB
const JS = `// app\n${'console.log("soak");\n'.repeat(2400)}`; // ~48 KB: three DATA frames, so resets land mid-body
/** The soak server's pushTimeoutMs. */
export const SLOW_AFTER_MS = 300;
const PAGE = '<!doctype html><link rel="stylesheet" href="/asset/style.css"><script src="/asset/app.js"></script><p>soak</p>';

@Controller()
class SoakController {
  constructor(private readonly pushes: PushService) {}

  @Get('/page')
  @Push('/asset/style.css', '/asset/app.js', { path: '/asset/data.json', headers: { accept: 'application/json' } })
  @Header('content-type', 'text/html; charset=utf-8')
  page() {
    counters.pages++;
    return PAGE;
  }

  /**
   * Pushes from code: two resources unique per request (never in the connection's diary), a shared one,
   * and every 50th time one whose handler answers too late.
   */
  @Get('/service')
  service(@Query('n') n = '0') {
    counters.pages++;
    const issued = [
      this.pushes.push('/asset/flaky', {}, { qs: `n=${n}` }),
      this.pushes.push('/asset/error', {}, { qs: `n=${n}` }),
      this.pushes.push('/asset/style.css'),
      Number(n) % 50 === 0 && this.pushes.push('/asset/slow', {}, { qs: `n=${n}` }),
    ].filter(Boolean).length;
    return { n, issued };
  }

  @Get('/asset/style.css')
  @Header('content-type', 'text/css')
  style() {
    counters.pushedHandled++;
    return CSS;
  }

  @Get('/asset/app.js')
  @Header('content-type', 'text/javascript')
  script() {
    counters.pushedHandled++;
    return JS;
  }

  @Get('/asset/data.json')
  data() {
    counters.pushedHandled++;
    return { items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}` })) };
  }

  /** Every 7th call throws: synchronously or after an await, in turn (Nest answers 500 and logs it). */
  @Get('/asset/flaky')
  flaky() {
    counters.pushedHandled++;
    const call = ++counters.flakyCalls;
    if (call % 7 !== 0) return { call };
    counters.flakyThrows++;
    if (call % 14 === 0) throw new Error(`flaky push handler threw (call ${call})`);
    return Promise.resolve().then(() => {
      throw new Error(`flaky push handler rejected (call ${call})`);
    });
  }

  /**
   * Answers after twice pushTimeoutMs, or as soon as its request closes (the module's timeout cancelled
   * the push): then it answers on a stream that is already gone.
   */
  @Get('/asset/slow')
  slow(@Req() req: FastifyRequest) {
    counters.pushedHandled++;
    counters.slowPending++;
    return new Promise((resolve) => {
      let answered = false;
      // Once: under load the timer can fire first and the request close after it.
      const done = () => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        counters.slowPending--;
        resolve('late');
      };
      const timer = setTimeout(done, 2 * SLOW_AFTER_MS);
      req.raw.once('close', done);
    });
  }

  @Get('/asset/error')
  @HttpCode(503)
  unavailable() {
    counters.pushedHandled++;
    return { error: 'unavailable' };
  }
}

/**
 * diarySize 2 (default 256): with the default, every page after the first on a connection would find its
 * three @Push() resources in the connection's diary and push nothing; with 2, the diary evicts all the
 * time and most pages push again, so the soak exercises both.
 */
export const SOAK_PUSH_OPTIONS: PushModuleOptions = { pushTimeoutMs: SLOW_AFTER_MS, diarySize: 2 };

export function soakModule(options: PushModuleOptions = SOAK_PUSH_OPTIONS) {
  @Module({ imports: [PushModule.forRoot(options)], controllers: [SoakController] })
  class SoakModule {}
  return SoakModule;
}

/** Silent except for counting errors (kept to a few samples). */
export const countingLogger: LoggerService = {
  log: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
  fatal: (message: unknown) => countError(message),
  error: (message: unknown) => countError(message),
};

function countError(message: unknown): void {
  counters.errorLogs++;
  if (counters.errorSamples.length < 5) counters.errorSamples.push(String(message).slice(0, 200));
}
