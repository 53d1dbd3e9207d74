// A small same-origin server for the end-to-end tests: it serves the built UI from
// crates/ui/dist the way the argus-ui router does (page routes → index.html, gzip when
// accepted) and proxies /api/v1 to Prometheus and /api/v2 to Alertmanager.

import { readFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const PAGES = new Set(['/query', '/alerts', '/rules', '/targets', '/silences', '/status', '/tsdb-status', '/flags', '/config']);
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

function proxy(req, res, target) {
  const url = new URL(req.url, target);
  const up = http.request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', (e) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`proxy error: ${e.message}`);
  });
  req.pipe(up);
}

function send(req, res, file) {
  const body = readFileSync(file);
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  const headers = { 'content-type': type, 'cache-control': file.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable', vary: 'accept-encoding' };
  if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
    const gz = gzipSync(body, { level: 9 });
    res.writeHead(200, { ...headers, 'content-encoding': 'gzip', 'content-length': gz.length });
    res.end(req.method === 'HEAD' ? undefined : gz);
  } else {
    res.writeHead(200, { ...headers, 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

/** Starts the server on a free port; resolves to { url, close }. */
export function startServer({ distDir, promUrl, amUrl }) {
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (p.startsWith('/api/v2/')) return proxy(req, res, amUrl);
    if (p.startsWith('/api/v1/') || p.startsWith('/-/')) return proxy(req, res, promUrl);
    if (p === '/' || p === '/graph') {
      const q = new URL(req.url ?? '/', 'http://x').search;
      res.writeHead(302, { location: p === '/graph' && q ? `/query${q}` : '/query' });
      return res.end();
    }
    if (PAGES.has(p.replace(/\/$/, ''))) return send(req, res, path.join(distDir, 'index.html'));
    if (p.startsWith('/assets/')) {
      const file = path.join(distDir, path.normalize(p).replace(/^(\.\.[/\\])+/, ''));
      if (file.startsWith(path.join(distDir, 'assets')) && existsSync(file)) return send(req, res, file);
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('404 page not found\n');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))) });
    });
  });
}
