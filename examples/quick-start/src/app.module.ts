import { Module } from '@nestjs/common';
import { PushModule } from 'nestjs-http2-push';
import { PageController } from './page.controller';

@Module({ imports: [PushModule.forRoot()], controllers: [PageController] })
export class AppModule {}
