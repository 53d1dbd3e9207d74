// Checks that the committed bundle in crates/ui/dist is exactly what the sources build to,
// so `cargo build` (which embeds crates/ui/dist and never runs npm) ships the current UI.
// Builds into a temporary directory and compares file lists and bytes.
//   node scripts/check-bundle.mjs    exit 1 with the differences if they do not match

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const uiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const committed = path.resolve(uiDir, '../../crates/ui/dist');

function listFiles(dir, prefix = '') {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, `${prefix}${name}/`));
    else out.push(`${prefix}${name}`);
  }
  return out;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'argus-ui-bundle-'));
try {
  execFileSync(process.execPath, [path.join(uiDir, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: uiDir,
    env: { ...process.env, ARGUS_UI_OUT_DIR: tmp },
    stdio: 'inherit',
  });
  const want = listFiles(tmp);
  const have = listFiles(committed);
  const problems = [];
  for (const f of want) {
    if (!have.includes(f)) problems.push(`missing from crates/ui/dist: ${f}`);
    else if (!readFileSync(path.join(tmp, f)).equals(readFileSync(path.join(committed, f)))) problems.push(`differs: ${f}`);
  }
  for (const f of have) if (!want.includes(f)) problems.push(`stale in crates/ui/dist: ${f}`);
  if (problems.length) {
    console.error(`crates/ui/dist does not match web/ui's sources:\n  ${problems.join('\n  ')}`);
    console.error('Run `npm run build` in web/ui and commit crates/ui/dist.');
    process.exit(1);
  }
  console.log(`crates/ui/dist matches the sources (${want.length} files).`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
