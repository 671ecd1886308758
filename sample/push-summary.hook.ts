import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pushSummary, type PushSummary } from '../src';

const logger = new Logger('PushSummary');

function log(method: string, url: string, status: number, summary: PushSummary | undefined): void {
  // Only the responses the module did something for: pages, not the assets they pushed or hinted.
  if (summary && summary.pushed + summary.hinted > 0) {
    logger.verbose(`${method} ${url} ${status}: pushed ${summary.pushed}, hinted ${summary.hinted}, cancelled ${summary.cancelled}`);
  }
}

/** Debug mode (`DEBUG=1 npm run sample`): one line per page, e.g. `GET / 200: pushed 2, hinted 0, cancelled 0`. */
export function logPushSummaries(app: NestFastifyApplication | NestExpressApplication): void {
  if (app.getHttpAdapter().getType() === 'express') {
    (app as NestExpressApplication).use((req: IncomingMessage & { originalUrl: string }, res: ServerResponse, next: () => void) => {
      res.on('finish', () => log(req.method ?? '', req.originalUrl, res.statusCode, pushSummary(req as never)));
      next();
    });
    return;
  }
  (app as NestFastifyApplication).getHttpAdapter().getInstance().addHook('onResponse', (request, reply, done) => {
    log(request.method, request.url, reply.statusCode, pushSummary(request));
    done();
  });
}
