import { Module, type DynamicModule } from '@nestjs/common';
import { PushModule, type PushModuleOptions } from '../src';
import { AppController, PAGE_DELAY_MS } from './app.controller';

export interface AppModuleOptions {
  /** Options of `PushModule.forRoot()`; defaults when left out. */
  push?: PushModuleOptions;
  /** Think time of the `GET /` handler before it returns the page, in ms. Default 0. */
  pageDelayMs?: number;
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [PushModule.forRoot(options.push)],
      controllers: [AppController],
      providers: [{ provide: PAGE_DELAY_MS, useValue: options.pageDelayMs ?? 0 }],
    };
  }
}
