/**
 * A stand-in for the collector's `/v1/metrics` until that route exists: takes
 * what the real OTLP/HTTP JSON metric exporter sends and keeps the decoded
 * ExportMetricsServiceRequest bodies. Only what a test asserts is typed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}

export interface HistogramPoint {
  attributes: OtlpKeyValue[];
  count: string | number;
  sum?: number;
  explicitBounds: number[];
  bucketCounts: (string | number)[];
}

export interface OtlpMetric {
  name: string;
  unit?: string;
  description?: string;
  histogram?: { dataPoints: HistogramPoint[] };
  sum?: { dataPoints: { attributes: OtlpKeyValue[]; asInt?: string | number; asDouble?: number }[] };
}

export interface MetricsReceiver {
  url: string;
  /** Every metric of every request so far, with the resource's service.name. */
  metrics(): { service: string; scope: string; metric: OtlpMetric }[];
  /** Resolves once a request carried a metric of this name. */
  waitFor(name: string): Promise<void>;
  close(): Promise<void>;
}

export const attr = (kvs: OtlpKeyValue[], key: string) => {
  const v = kvs.find((kv) => kv.key === key)?.value;
  return v?.stringValue ?? v?.intValue ?? v?.boolValue ?? v?.doubleValue;
};

export async function startMetricsReceiver(): Promise<MetricsReceiver> {
  const bodies: any[] = [];
  const waiters: { name: string; resolve: () => void }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/v1/metrics' || !/json/.test(req.headers['content-type'] ?? '')) {
        res.writeHead(415).end();
        return;
      }
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      for (const w of [...waiters]) if (names().includes(w.name)) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const metrics = () =>
    bodies.flatMap((b) =>
      (b.resourceMetrics ?? []).flatMap((rm: any) =>
        (rm.scopeMetrics ?? []).flatMap((sm: any) =>
          (sm.metrics ?? []).map((metric: OtlpMetric) => ({ service: String(attr(rm.resource?.attributes ?? [], 'service.name')), scope: sm.scope?.name ?? '', metric })),
        ),
      ),
    );
  const names = () => metrics().map((m) => m.metric.name);
  return {
    url,
    metrics,
    waitFor: (name) => (names().includes(name) ? Promise.resolve() : new Promise((resolve) => waiters.push({ name, resolve }))),
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
