import type { LoggerService } from '@nestjs/common';
import { createSampleApp } from '../sample/main';
import { connect, fetchWithPushes } from './support/h2-client';

describe('the sample in debug mode', () => {
  it('logs one line per page: pushed, hinted, cancelled', async () => {
    const lines: string[] = [];
    const capture: LoggerService = {
      log: () => undefined,
      warn: () => undefined,
      error: () => undefined,
      verbose: (message: unknown, context?: unknown) => {
        if (context === 'PushSummary') lines.push(String(message));
      },
    };
    const { app, url } = await createSampleApp({ port: 0, h2c: true, logger: capture, pushSummaries: true });
    try {
      const pushing = await connect(url);
      await fetchWithPushes(pushing, '/');
      pushing.close();
      const refusing = await connect(url, { enablePush: false });
      await fetchWithPushes(refusing, '/');
      refusing.close();
      expect(lines).toEqual(['GET / 200: pushed 2, hinted 0, cancelled 0', 'GET / 200: pushed 0, hinted 2, cancelled 0']);
    } finally {
      await app.close();
    }
  });
});
