import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Push, PushModule, PushOutsideRequestError, PushService, PushValidationError, type PushModuleOptions } from '../src';
import { connect, fetchWithPushes } from './support/h2-client';
import { moduleRefModule } from './fixtures/module-ref.app';
import { startApp } from './support/start-app';

@Controller()
class ManyController {
  constructor(private readonly pushes: PushService) {}

  @Get('/many')
  many() {
    return { issued: [1, 2, 3].filter((i) => this.pushes.push(`/x/${i}`)).length };
  }
}

describe('PushModule', () => {
  it('forRootAsync takes its options from a factory', async () => {
    @Module({
      imports: [PushModule.forRootAsync({ useFactory: async () => ({ maxPushesPerRequest: 2 }) })],
      controllers: [ManyController],
    })
    class AsyncModule {}
    const server = await startApp(AsyncModule);
    const client = await connect(server.url);
    try {
      const page = await fetchWithPushes(client, '/many');
      expect(JSON.parse(page.body)).toEqual({ issued: 2 });
      expect(page.pushes.map((p) => p.status)).toEqual([404, 404]);
    } finally {
      client.close();
      await server.close();
    }
  });

  it('is global: a feature module injects PushService without importing PushModule', async () => {
    @Module({ controllers: [ManyController] })
    class FeatureModule {}
    @Module({ imports: [PushModule.forRoot(), FeatureModule] })
    class RootModule {}
    const server = await startApp(RootModule);
    const client = await connect(server.url);
    try {
      expect(JSON.parse((await fetchWithPushes(client, '/many')).body)).toEqual({ issued: 3 });
    } finally {
      client.close();
      await server.close();
    }
  });

  it('rejects invalid options at start-up with a PushValidationError naming the option', async () => {
    @Module({ imports: [PushModule.forRoot({ inheritHeaders: ['range'] })] })
    class BadModule {}
    await expect(NestFactory.create(BadModule, new FastifyAdapter(), { logger: false, abortOnError: false })).rejects.toMatchObject({
      name: 'PushValidationError',
      code: 'ERR_PUSH_INVALID_MODULE_OPTION',
      message: expect.stringContaining('"inheritHeaders" cannot contain "range"'),
    });
  });

  it('PushService.push outside a request throws PushOutsideRequestError', async () => {
    @Module({ imports: [PushModule.forRoot()] })
    class RootModule {}
    const server = await startApp(RootModule);
    try {
      const pushes = server.app.get(PushService);
      expect(() => pushes.push('/a.css')).toThrow(PushOutsideRequestError);
      expect(pushes.canPush()).toBe(false);
      expect(pushes.isPushed()).toBe(false);
    } finally {
      await server.close();
    }
  });
  it('in an application context without HTTP (a script, a unit test), push() does nothing and returns false', async () => {
    @Module({ imports: [PushModule.forRoot()] })
    class RootModule {}
    const context = await NestFactory.createApplicationContext(RootModule, { logger: false });
    try {
      const pushes = context.get(PushService);
      expect(pushes.push('/a.css')).toBe(false);
      expect(pushes.canPush()).toBe(false);
      expect(pushes.stats()).toMatchObject({ promised: 0, hinted: 0 });
    } finally {
      await context.close();
    }
  });
});

describe('requestContext (AsyncLocalStorage only when needed)', () => {
  const start = async (options: PushModuleOptions) => {
    const server = await startApp(moduleRefModule(options));
    const client = await connect(server.url);
    try {
      return JSON.parse((await fetchWithPushes(client, '/via-module-ref')).body);
    } finally {
      client.close();
      await server.close();
    }
  };

  it('is off when nothing injects PushService: push() then finds no request', async () => {
    expect(await start({})).toEqual({ code: 'ERR_PUSH_OUTSIDE_REQUEST' });
  });

  it('requestContext: true turns it on', async () => {
    expect(await start({ requestContext: true })).toEqual({ issued: true });
  });
});

describe('@Push', () => {
  it('rejects an invalid resource when the class is defined, not on a request', () => {
    expect(() => {
      class Invalid {
        @Push('relative.css')
        page() {}
      }
      return Invalid;
    }).toThrow(PushValidationError);
  });
});
