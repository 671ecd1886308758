/**
 * The module's OpenTelemetry metrics for Prometheus (`METRICS_PORT=9464 npm run sample`, then
 * `curl http://127.0.0.1:9464/metrics`): a MeterProvider whose reader is the Prometheus exporter, registered
 * globally before the Nest application is created, since the module takes its meter at start-up.
 */
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/** Serves every meter's metrics, the module's `http2_server_push_*` among them, on `http://host:port/metrics`. */
export async function servePrometheusMetrics(port: number, host = '127.0.0.1'): Promise<PrometheusExporter> {
  const exporter = new PrometheusExporter({ port, host, preventServerStart: true });
  await exporter.startServer();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
  return exporter;
}
