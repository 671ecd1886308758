/**
 * The sample's Prometheus endpoint (`METRICS_PORT`): the module's OpenTelemetry metrics as Prometheus scrapes
 * them, after a page with two pushes fetched over h2c.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { metrics } from '@opentelemetry/api';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { get } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { createSampleApp } from '../sample/main';
import { PACKAGE_VERSION } from '../src/monitor/opentelemetry-api';
import { servePrometheusMetrics } from '../sample/prometheus-metrics';
import { connect, fetchWithPushes, pushedPaths } from './support/h2-client';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`http://127.0.0.1:${port}/metrics`, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** A sample's value, by its name and the labels it has besides the scope's. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const scope = `otel_scope_name="nestjs-http2-push",otel_scope_version="${PACKAGE_VERSION}"`;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels ? `${labels},` : ''}${scope}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('the sample with METRICS_PORT', () => {
  let exporter: PrometheusExporter;
  let app: NestFastifyApplication;
  let url: string;
  let metricsPort: number;
  beforeAll(async () => {
    metricsPort = await freePort();
    exporter = await servePrometheusMetrics(metricsPort);
    ({ app, url } = await createSampleApp({ port: 0, h2c: true, logger: false }));
  });
  afterAll(async () => {
    await app.close();
    await exporter.shutdown();
    metrics.disable();
  });

  it('serves the push counters and histograms for Prometheus', async () => {
    const client = await connect(url);
    const page = await fetchWithPushes(client, '/');
    client.close();
    expect(pushedPaths(page)).toEqual(['/static/style.css', '/static/app.js']);
    const bytes = page.pushes.reduce((sum, p) => sum + Buffer.byteLength(p.body), 0);
    // The pushes end on their streams' 'close', which the server may see after the client: scrape until then.
    let text = '';
    for (let i = 0; i < 50 && sample(text, 'http2_server_push_completed_total', 'http_response_status_code="200"') !== 2; i++) {
      text = await scrape(metricsPort);
    }
    expect(sample(text, 'http2_server_push_promised_total')).toBe(2);
    expect(sample(text, 'http2_server_push_completed_total', 'http_response_status_code="200"')).toBe(2);
    expect(sample(text, 'http2_server_push_body_size_sum', 'http_response_status_code="200"')).toBe(bytes);
    expect(sample(text, 'http2_server_push_duration_count', 'http_response_status_code="200"')).toBe(2);
    expect(text).toContain('# TYPE http2_server_push_duration histogram');
  });
});
