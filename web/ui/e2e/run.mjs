// End-to-end tests of the built UI in headless Chromium (Debian's, driven by playwright-core).
//
//   node e2e/run.mjs                   start Argus ($ARGUS_BIN or target/debug/argus) with a
//                                     scrape/rule/alerting config, and test its own UI and APIs
//   E2E_UPSTREAM=1 node e2e/run.mjs   start Prometheus + Alertmanager + a same-origin server
//                                     serving the built UI instead (the UI against upstream)
//   ARGUS_URL=http://host:9090 node e2e/run.mjs   test a running server instead
//   E2E_ONLY=targets,alerts node e2e/run.mjs      run some scenarios only
//
// Screenshots of every page go to e2e/artifacts/. Without the peers the run fails, unless
// ARGUS_SKIP_PEER_TESTS=1 is set.

import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { findBinary, startArgus, startPeers } from './peers.mjs';
import { scenarios } from './scenarios.mjs';
import { startServer } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.join(here, 'artifacts');
const distDir = path.resolve(here, '../../../crates/ui/dist');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

class Skip extends Error {}

/** Starts what the scenarios run against; registers a stop for everything it starts. */
async function setup(cleanup, skip) {
  let base = process.env.ARGUS_URL?.replace(/\/$/, '');
  if (base) return { base, peers: null };
  if (process.env.E2E_UPSTREAM !== '1') {
    const bin = process.env.ARGUS_BIN ?? path.resolve(here, '../../../target/debug/argus');
    let argus;
    try {
      argus = await startArgus(bin);
    } catch (e) {
      throw new Error(`cannot start Argus (${bin}): ${e.message}`);
    }
    cleanup.push(() => argus.stop());
    return { base: argus.url, peers: argus };
  }
  let peers;
  try {
    peers = await startPeers();
  } catch (e) {
    if (skip && /missing/.test(e.message)) throw new Skip(e.message);
    throw e;
  }
  cleanup.push(() => peers.stop());
  const server = await startServer({ distDir, promUrl: peers.promUrl, amUrl: peers.amUrl });
  cleanup.push(() => server.close());
  return { base: server.url, peers };
}

async function runScenarios(browser, base) {
  const only = process.env.E2E_ONLY ? new Set(process.env.E2E_ONLY.split(',')) : null;
  const results = [];
  const notes = [];
  for (const sc of scenarios) {
    if (only && !only.has(sc.name)) continue;
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
    const page = await context.newPage();
    const consoleErrors = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    const shot = async (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
    const t0 = Date.now();
    try {
      await sc.run({ page, base, shot, note: (n) => notes.push(n), context });
      if (consoleErrors.length) throw new Error(`uncaught errors in the page: ${consoleErrors.join('; ')}`);
      results.push({ name: sc.name, ok: true });
      console.log(`ok   ${sc.name} (${Date.now() - t0}ms)`);
    } catch (e) {
      await shot(`FAILED-${sc.name}`).catch(() => {});
      results.push({ name: sc.name, ok: false });
      console.log(`FAIL ${sc.name}: ${e.stack ?? e}`);
    } finally {
      await context.close();
    }
  }
  for (const n of notes) console.log(`note ${n}`);
  return results;
}

async function main() {
  const skip = process.env.ARGUS_SKIP_PEER_TESTS === '1';
  const chromiumPath = process.env.CHROMIUM_PATH ?? findBinary(['chromium', 'chromium-browser']);
  if (!chromiumPath) {
    if (skip) return console.log('e2e: skipped (no chromium, ARGUS_SKIP_PEER_TESTS=1)');
    throw new Error('headless Chromium is needed: apt-get install chromium (or set ARGUS_SKIP_PEER_TESTS=1 to skip)');
  }
  const cleanup = [];
  const stopAll = async () => {
    for (const c of cleanup.reverse().splice(0)) await Promise.resolve().then(c).catch(() => {});
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => void stopAll().then(() => process.exit(130)));
  // A reader that goes away (`| head`) must not crash the run before it cleans up.
  process.stdout.on('error', () => {});
  let results = [];
  let peers = null;
  try {
    const env = await setup(cleanup, skip);
    peers = env.peers;
    rmSync(artifacts, { recursive: true, force: true });
    mkdirSync(artifacts, { recursive: true });
    const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, headless: true });
    cleanup.push(() => browser.close());
    results = await runScenarios(browser, env.base);
  } catch (e) {
    if (e instanceof Skip) return console.log(`e2e: skipped (${e.message})`);
    throw e;
  } finally {
    await stopAll();
  }
  const failed = results.filter((r) => !r.ok);
  console.log(`e2e: ${results.length - failed.length} passed, ${failed.length} failed; screenshots in ${path.relative(process.cwd(), artifacts)}/`);
  if (failed.length && peers) console.log(peers.logs.slice(-40).join(''));
  if (failed.length) process.exitCode = 1;
}

main().catch((e) => {
  console.error(`e2e: ${e.stack ?? e}`);
  process.exitCode = 1;
});
