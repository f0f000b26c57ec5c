/**
 * A real Alertmanager (Debian's prometheus-alertmanager) for the alert tests,
 * routing everything to a local webhook receiver, plus that receiver.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

export interface ReceivedMessage {
  path: string;
  body: {
    status: 'firing' | 'resolved';
    groupLabels: Record<string, string>;
    alerts: Array<{ status: 'firing' | 'resolved'; labels: Record<string, string>; fingerprint: string; startsAt: string; endsAt: string }>;
  };
}

export interface WebhookReceiver {
  url: string;
  messages: ReceivedMessage[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const messages: ReceivedMessage[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      messages.push({ path: req.url ?? '/', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    messages,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RunningAlertmanager {
  url: string;
  /** GET /api/v2/alerts (active alerts only, as Alertmanager returns by default). */
  alerts(): Promise<Array<{ labels: Record<string, string>; status: { state: string }; startsAt: string; endsAt: string; fingerprint: string }>>;
  stop(): Promise<void>;
}

/** Starts Alertmanager with one route to `webhookUrl`, grouping one page per rule × tenant. */
export async function startAlertmanager(webhookUrl: string): Promise<RunningAlertmanager> {
  const dir = await mkdtemp(join(tmpdir(), 'mcptrail-am-'));
  const config = join(dir, 'alertmanager.yml');
  await writeFile(
    config,
    `route:
  receiver: local
  group_by: [alertname, tenant_id]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: local
    webhook_configs:
      - url: ${webhookUrl}
        send_resolved: true
`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    ALERTMANAGER_BIN,
    [`--config.file=${config}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`alertmanager exited: ${stderr}`);
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`alertmanager not ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async alerts() {
      const res = await fetch(`${url}/api/v2/alerts`);
      if (!res.ok) throw new Error(`alertmanager answered ${res.status}`);
      return (await res.json()) as Awaited<ReturnType<RunningAlertmanager['alerts']>>;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
