import { Module } from '@nestjs/common';
import { PushModule } from '../src';
import { AppController } from './app.controller';

@Module({ imports: [PushModule.forRoot()], controllers: [AppController] })
export class AppModule {}
