import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { pushSummary } from '../src';

const logger = new Logger('PushSummary');

/** Debug mode (`DEBUG=1 npm run sample`): one line per page, e.g. `GET / 200: pushed 2, hinted 0, cancelled 0`. */
export function logPushSummaries(app: NestFastifyApplication): void {
  app.getHttpAdapter().getInstance().addHook('onResponse', (request, reply, done) => {
    const summary = pushSummary(request);
    // Only the responses the module did something for: pages, not the assets they pushed or hinted.
    if (summary && summary.pushed + summary.hinted > 0) {
      logger.verbose(`${request.method} ${request.url} ${reply.statusCode}: pushed ${summary.pushed}, hinted ${summary.hinted}, cancelled ${summary.cancelled}`);
    }
    done();
  });
}
