// Development helper: starts Prometheus + Alertmanager (as the e2e tests do) and the
// same-origin UI server, prints the URL and runs until interrupted.
//   node e2e/dev.mjs        (rebuild with `npm run build` and reload the page to see changes)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPeers } from './peers.mjs';
import { startServer } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const peers = await startPeers();
const server = await startServer({ distDir: path.resolve(here, '../../../crates/ui/dist'), promUrl: peers.promUrl, amUrl: peers.amUrl });
console.log(`UI: ${server.url}  Prometheus: ${peers.promUrl}  Alertmanager: ${peers.amUrl}`);
const stop = async () => {
  await server.close();
  peers.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
