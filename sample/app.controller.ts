import { Controller, Get, Header, Inject, UseGuards } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Push, PushService } from '../src';
import { DemoAuthGuard } from './demo-auth.guard';

export const HOME_PAGE = `<!doctype html>
<html>
<head>
  <meta charset="utf-8">
  <title>nestjs-http2-push sample</title>
  <link rel="stylesheet" href="/static/style.css">
</head>
<body>
  <h1>HTTP/2 server push</h1>
  <p>This page was sent with <code>/static/style.css</code> and <code>/static/app.js</code> pushed.</p>
  <p id="status">app.js did not run.</p>
  <script src="/static/app.js"></script>
</body>
</html>
`;

/** Injection token: how long `GET /` thinks before it returns the page, in ms (models a slow page). */
export const PAGE_DELAY_MS = Symbol('PAGE_DELAY_MS');

@Controller()
export class AppController {
  constructor(
    private readonly pushes: PushService,
    @Inject(PAGE_DELAY_MS) private readonly pageDelayMs: number,
  ) {}

  /**
   * Declared pushes: promised before the handler runs, so before the page's headers. A client that refuses
   * push gets them as one 103 Early Hints instead, also before the handler (and its think time) runs.
   */
  @Get('/')
  @Header('content-type', 'text/html; charset=utf-8')
  @Push('/static/style.css', '/static/app.js')
  async home(): Promise<string> {
    if (this.pageDelayMs > 0) await sleep(this.pageDelayMs);
    return HOME_PAGE;
  }

  /** A push decided in code. The guard runs first: a client it rejects gets a 403 and no push. */
  @Get('/account')
  @UseGuards(DemoAuthGuard)
  account() {
    this.pushes.push('/api/profile', { accept: 'application/json' });
    return { account: 'demo', profile: '/api/profile' };
  }

  /** Behind the same guard: when pushed, it passes on the credentials the pushed request inherited. */
  @Get('/api/profile')
  @UseGuards(DemoAuthGuard)
  profile() {
    return { name: 'Demo User', plan: 'free' };
  }
}
