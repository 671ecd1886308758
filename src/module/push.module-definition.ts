import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { PushModuleOptions } from './push-module-options.interface';

export const {
  ConfigurableModuleClass: ConfigurablePushModule,
  MODULE_OPTIONS_TOKEN: PUSH_MODULE_OPTIONS,
  OPTIONS_TYPE: PUSH_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: PUSH_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<PushModuleOptions>({ moduleName: 'Push' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
