/**
 * The module on `@nestjs/platform-express`, in hints mode: Express serves HTTP/1.1, so nothing is pushed;
 * every `@Push` resource and `PushService.push()` becomes the preload hint (103 and `Link`, see
 * test/early-hints.e2e-spec.ts for the wire). Here: what the application sees — return values, events,
 * counters, `pushSummary`, `isPushedRequest`, errors, options and start-up logs — is what it sees on Fastify
 * for an HTTP/1.1 client. The app is test/fixtures/push-test.app.ts, the same module the Fastify tests run.
 */
import { Controller, Get, Module, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Push, PushModule, PushOutsideRequestError, PushService, pushSummary, type PushEvent, type PushModuleOptions, type PushSummary,
} from '../src';
import { moduleRefModule } from './fixtures/module-ref.app';
import { caught, configureExpressTestApp, pushTestModule } from './fixtures/push-test.app';
import { http1Exchange } from './support/http1-client';
import { startExpressApp, type StartedApp } from './support/start-app';

const PAGE_LINKS = [
  '</static/style.css>; rel=preload; as=style',
  '</static/app.js>; rel=preload; as=script',
  '</asset/data?v=decorated>; rel=preload; as=fetch; crossorigin',
];

const events: PushEvent[] = [];

async function withExpress(options: PushModuleOptions, test: (server: StartedApp<NestExpressApplication>) => Promise<void>) {
  events.length = 0;
  const server = await startExpressApp(pushTestModule({ onPush: (event) => events.push(event), ...options }), { configure: configureExpressTestApp });
  try {
    await test(server);
  } finally {
    await server.close();
  }
}

const json = async (url: string) => JSON.parse((await http1Exchange(url)).body);

describe('Express: hints mode', () => {
  it('push() returns false, refused as http1, and the resource is hinted; the counters agree', () =>
    withExpress({}, async (server) => {
      const pushes = server.app.get(PushService);
      expect(await json(`${server.url}/service`)).toEqual({ issued: false, canPush: false });
      expect(events).toEqual([{ type: 'refused', path: '/asset/data?v=service', reason: 'http1' }]);
      const stats = pushes.stats();
      expect(stats).toMatchObject({ promised: 0, completed: 0, cancelled: 0, failed: 0, hinted: 1, bytes: 0 });
      expect(stats.refused).toMatchObject({ http1: 1, disabled: 0, limit: 0 });
    }));

  it('@Push resources: each refused as http1 and hinted once, whatever the push-only options say', () =>
    withExpress({ maxPushesPerRequest: 1, maxConcurrentPushesPerConnection: 1, diarySize: 0, pushTimeoutMs: 10 }, async (server) => {
      const page = await http1Exchange(`${server.url}/page`);
      expect(page.statuses).toEqual([103, 200]);
      expect(page.headers.link).toBe(PAGE_LINKS.join(', '));
      expect(events.map((e) => e.type === 'refused' && `${e.path} ${e.reason}`)).toEqual([
        '/static/style.css http1',
        '/static/app.js http1',
        '/asset/data?v=decorated http1',
      ]);
      expect(server.app.get(PushService).stats().hinted).toBe(3);
    }));

  it('a request is never a pushed one: isPushedRequest, isPushed() and canPush() are false', () =>
    withExpress({}, async (server) => {
      expect(await json(`${server.url}/asset/pusher`)).toEqual({ pushedAgain: false, canPush: false, isPushed: false, pushed: false });
      expect(await json(`${server.url}/asset/data`)).toMatchObject({ pushed: false });
    }));

  it('pushSummary tells what was hinted, e.g. when the response finished', async () => {
    const summaries: (PushSummary | undefined)[] = [];
    const server = await startExpressApp(pushTestModule(), {
      configure: (app) => {
        configureExpressTestApp(app);
        app.use((request: IncomingMessage, response: ServerResponse, next: () => void) => {
          if (request.url === '/page') response.on('finish', () => summaries.push(pushSummary(request)));
          next();
        });
      },
    });
    try {
      await http1Exchange(`${server.url}/page`);
      expect(summaries).toEqual([{ pushed: 0, hinted: 3, cancelled: 0 }]);
    } finally {
      await server.close();
    }
  });

  it('invalid pushes and pushes after the response throw as on Fastify', () =>
    withExpress({}, async (server) => {
      expect(await json(`${server.url}/invalid?case=upper`)).toMatchObject({ code: 'ERR_PUSH_INVALID_HEADER', name: 'PushValidationError' });
      expect(await json(`${server.url}/invalid?case=host`)).toMatchObject({ code: 'ERR_PUSH_UNKNOWN_AUTHORITY' });
      caught['/res-late'] = undefined;
      await http1Exchange(`${server.url}/res-late`);
      expect(caught['/res-late']).toMatchObject({ code: 'ERR_PUSH_AFTER_RESPONSE' });
      caught['/after-reply'] = undefined;
      await http1Exchange(`${server.url}/after-reply`);
      for (let i = 0; i < 50 && !caught['/after-reply']; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(caught['/after-reply']).toMatchObject({ code: 'ERR_PUSH_AFTER_RESPONSE' });
    }));

  it('push-only options are accepted and change nothing: no digest cookie, no push from Link headers', () =>
    withExpress({ digestCookie: true, pushLinkHeaders: true, fallback: { nopush: true } }, async (server) => {
      const page = await http1Exchange(`${server.url}/page`);
      expect(page.headers['set-cookie']).toBeUndefined();
      expect(page.headers.link).toBe(PAGE_LINKS.join(', '));
      const before = events.length;
      const linked = await http1Exchange(`${server.url}/linked`);
      expect(linked.statuses).toEqual([200]);
      expect(events.slice(before)).toEqual([]);
    }));
});

describe('Express: the request context', () => {
  const start = async (options: PushModuleOptions) => {
    const server = await startExpressApp(moduleRefModule(options));
    try {
      return await json(`${server.url}/via-module-ref`);
    } finally {
      await server.close();
    }
  };

  it('is entered only when something injects PushService (or requestContext: true)', async () => {
    expect(await start({})).toEqual({ code: 'ERR_PUSH_OUTSIDE_REQUEST' });
    expect(await start({ requestContext: true })).toEqual({ issued: false });
  });

  it('outside a request, push() throws PushOutsideRequestError', () =>
    withExpress({}, async (server) => {
      expect(() => server.app.get(PushService).push('/a.css')).toThrow(PushOutsideRequestError);
    }));
});

describe('Express: start-up', () => {
  /** A logger that keeps what the module says at start-up. */
  function capture() {
    const lines: string[] = [];
    const keep = (level: string) => (message: unknown, context?: unknown) => {
      if (context === 'PushModule') lines.push(`${level} ${String(message)}`);
    };
    const logger: LoggerService = { log: keep('log'), warn: keep('warn'), error: keep('error') };
    return { lines, logger };
  }

  @Controller()
  class PageController {
    @Get('/')
    @Push('/static/style.css')
    page() {
      return 'page';
    }
  }

  it('logs no warning on Express', async () => {
    const { lines, logger } = capture();
    @Module({ imports: [PushModule.forRoot()], controllers: [PageController] })
    class RootModule {}
    const app = await NestFactory.create(RootModule, new ExpressAdapter(), { logger, abortOnError: false });
    await app.init();
    await app.close();
    expect(lines.filter((line) => line.startsWith('warn'))).toEqual([]);
  });

  it('warns, naming the adapter, on an adapter it supports in neither mode', async () => {
    /** An adapter of another kind (Nest knows it by getType()), here built on Express for brevity. */
    class OtherAdapter extends ExpressAdapter {
      override getType(): string {
        return 'other';
      }
    }
    const { lines, logger } = capture();
    @Module({ imports: [PushModule.forRoot()], controllers: [PageController] })
    class RootModule {}
    const app = await NestFactory.create(RootModule, new OtherAdapter(), { logger, abortOnError: false });
    await app.init();
    await app.close();
    expect(lines).toEqual([expect.stringMatching(/^warn .*@nestjs\/platform-fastify.*@nestjs\/platform-express.*"other"/)]);
  });

  it('rejects invalid options at start-up as on Fastify', async () => {
    @Module({ imports: [PushModule.forRoot({ inheritHeaders: ['range'] })] })
    class BadModule {}
    await expect(NestFactory.create(BadModule, new ExpressAdapter(), { logger: false, abortOnError: false })).rejects.toMatchObject({
      name: 'PushValidationError',
      code: 'ERR_PUSH_INVALID_MODULE_OPTION',
    });
  });
});
