// Starts a real Prometheus and Alertmanager on free ports, with a config that gives every UI
// page something to show: three scrape pools (one target down), a recording rule, a firing,
// a pending and a target-down alert, and an alert manager that receives them.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, accessSync, constants } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export function findBinary(names) {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
      const p = path.join(dir, name);
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {
        // keep looking
      }
    }
  }
  return null;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor(what, fn, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

function startProcess(bin, args, name, logs) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk) => {
    logs.push(`[${name}] ${chunk}`);
    if (logs.length > 400) logs.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // Never leave a peer behind, even when the runner dies (uncaught error, closed stdout).
  process.on('exit', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return child;
}

const RULES = `groups:
  - name: e2e
    interval: 1s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: AlwaysFiring
        expr: vector(1)
        labels:
          severity: page
        annotations:
          summary: Fires all the time, for the UI tests.
      - alert: TargetDown
        expr: up == 0
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.job }} target {{ $labels.instance }} is down"
      - alert: SlowBurn
        expr: vector(1)
        for: 1h
        annotations:
          summary: Stays pending for an hour.
`;

function writeConfigs(dir, { promPort, amPort, deadPort }) {
  writeFileSync(path.join(dir, 'rules.yml'), RULES);
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:${amPort}']
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:${promPort}']
  - job_name: alertmanager
    static_configs:
      - targets: ['127.0.0.1:${amPort}']
  - job_name: broken
    static_configs:
      - targets: ['127.0.0.1:${deadPort}']
`,
  );
  writeFileSync(
    path.join(dir, 'alertmanager.yml'),
    `route:
  receiver: blackhole
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
receivers:
  - name: blackhole
`,
  );
}

/** Waits until both APIs answer with the data every page needs; kills everything on failure. */
async function waitForData(promUrl, amUrl, logs, stop) {
  try {
    await waitFor('the server to be ready', async () => (await fetch(`${promUrl}/-/ready`)).ok);
    await waitFor('the alert manager to be ready', async () => (await fetch(`${amUrl}/-/ready`)).ok);
    // Data for every page: all three pools scraped once, and alerts delivered to the alert manager.
    await waitFor('the first scrapes', async () => {
      const r = await (await fetch(`${promUrl}/api/v1/query?query=count(up)`)).json();
      return Number(r.data.result[0]?.value[1] ?? 0) >= 3;
    });
    await waitFor('alerts to reach the alert manager', async () => {
      const r = await (await fetch(`${amUrl}/api/v2/alerts`)).json();
      return r.some((a) => a.labels.alertname === 'AlwaysFiring');
    });
  } catch (e) {
    stop();
    throw new Error(`${e.message}\n${logs.join('')}`);
  }
}

/** Starts both peers; returns their URLs and a stop() that kills them and removes their data. */
export async function startPeers() {
  const promBin = findBinary(['prometheus']);
  const amBin = findBinary(['prometheus-alertmanager', 'alertmanager']);
  if (!promBin || !amBin) {
    throw new Error(
      `the UI end-to-end tests need a real Prometheus and Alertmanager: missing ${[!promBin && 'prometheus', !amBin && 'prometheus-alertmanager'].filter(Boolean).join(' and ')} ` +
        '(apt-get install prometheus prometheus-alertmanager, or set ARGUS_SKIP_PEER_TESTS=1 to skip)',
    );
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'argus-ui-e2e-'));
  const ports = { promPort: await freePort(), amPort: await freePort(), deadPort: await freePort() };
  writeConfigs(dir, ports);
  const logs = [];
  const children = [
    startProcess(
      amBin,
      [
        `--config.file=${path.join(dir, 'alertmanager.yml')}`,
        `--storage.path=${path.join(dir, 'am')}`,
        `--web.listen-address=127.0.0.1:${ports.amPort}`,
        '--cluster.listen-address=',
      ],
      'alertmanager',
      logs,
    ),
    startProcess(
      promBin,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'prom')}`,
        `--web.listen-address=127.0.0.1:${ports.promPort}`,
        // The first notification can go out before the alert manager is discovered; resend soon.
        '--rules.alert.resend-delay=1s',
      ],
      'prometheus',
      logs,
    ),
  ];
  const stop = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const promUrl = `http://127.0.0.1:${ports.promPort}`;
  const amUrl = `http://127.0.0.1:${ports.amPort}`;
  await waitForData(promUrl, amUrl, logs, stop);
  return { promUrl, amUrl, stop, logs };
}

/**
 * Starts Argus itself (the binary at `bin`) with the same scrape, rule and alerting setup:
 * it serves the UI, /api/v1 and /api/v2 on one port, so the tests need no proxy. The
 * "prometheus" and "alertmanager" pools both scrape Argus.
 */
export async function startArgus(bin) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'argus-ui-e2e-'));
  const port = await freePort();
  writeConfigs(dir, { promPort: port, amPort: port, deadPort: await freePort() });
  const logs = [];
  const child = startProcess(
    bin,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // No Kubernetes metrics APIs listener: it would need :6443.
      '--adapter.listen-address=',
      '--rules.alert.resend-delay=1s',
    ],
    'argus',
    logs,
  );
  const stop = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  await waitForData(url, url, logs, stop);
  return { url, stop, logs };
}
