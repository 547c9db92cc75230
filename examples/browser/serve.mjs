#!/usr/bin/env node
// A tiny read-only static file server for the browser example: serves the repository root on
// 127.0.0.1 (the page at /examples/browser/ imports /dist/bundle/heed.js, so run `npm run build`
// first). No dependencies; GET and HEAD only; nothing outside the repository, and no dot-file or
// dot-folder (.git, .ci, ...), is ever served. By default no COOP/COEP headers: heed trains
// single-threaded and needs none. --isolate sends them (Cross-Origin-Opener-Policy: same-origin,
// Cross-Origin-Embedder-Policy: require-corp), which makes the page cross-origin isolated, so it
// has SharedArrayBuffer and ?threads=2 trains data-parallel on two workers.
//
//   node examples/browser/serve.mjs [--port N] [--host 127.0.0.1] [--isolate]
//
// --port 0 (or PORT=0) picks a free port. The first line printed to stdout is always
// "heed example: http://HOST:PORT/examples/browser/" (the end-to-end test reads it).
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PAGE = '/examples/browser/';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.safetensors': 'application/octet-stream',
};

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(body);
}

/** The file a URL path names inside `root`, or null (outside the root, a dot segment, bad encoding). */
export function resolvePath(root, urlPath) {
  let p;
  try {
    p = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (p.includes('\0') || p.includes('\\')) return null;
  const segments = p.split('/').filter(Boolean);
  if (segments.some((s) => s.startsWith('.'))) return null; // also rules out '..'
  const file = join(root, ...segments);
  return file === root || file.startsWith(root + sep) ? file : null;
}

/** Starts the server; resolves with { server, url } once it listens. */
export async function serve({ root = ROOT, port = 8080, host = '127.0.0.1', isolate = false } = {}) {
  root = await realpath(resolve(root));
  const isolation = isolate ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
  const server = createServer(async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'read-only server: GET and HEAD only\n', { allow: 'GET, HEAD' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/') return send(res, 302, '', { location: PAGE });
    let file = resolvePath(root, url.pathname);
    if (!file) return send(res, 404, 'not found\n');
    try {
      let st = await stat(file);
      if (st.isDirectory()) {
        if (!url.pathname.endsWith('/')) return send(res, 301, '', { location: `${url.pathname}/${url.search}` });
        file = join(file, 'index.html');
        st = await stat(file);
      }
      // A symlink must not lead out of the repository.
      const real = await realpath(file);
      if (!st.isFile() || !(real === root || real.startsWith(root + sep))) return send(res, 404, 'not found\n');
      res.writeHead(200, {
        'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': st.size,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        ...isolation,
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
    } catch {
      send(res, 404, 'not found\n');
    }
  });
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolveListen({ server, url: `http://${shownHost}:${actual}${PAGE}` });
    });
  });
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  let values;
  try {
    ({ values } = parseArgs({ options: { port: { type: 'string', short: 'p' }, host: { type: 'string' }, isolate: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    console.error(`serve: ${e.message}`);
    process.exit(2);
  }
  if (values.help) {
    console.log('usage: node examples/browser/serve.mjs [--port N] [--host 127.0.0.1] [--isolate]   (--port 0: any free port; --isolate: COOP/COEP headers, for ?threads=2)');
    process.exit(0);
  }
  const portText = values.port ?? process.env.PORT ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    console.error(`serve: --port must be an integer in [0, 65535], got ${JSON.stringify(portText)}`);
    process.exit(2);
  }
  const host = values.host ?? '127.0.0.1';
  try {
    const { url } = await serve({ port, host, isolate: !!values.isolate });
    console.log(`heed example: ${url}`);
    console.log(`serving ${ROOT} read-only (Ctrl-C to stop)`);
  } catch (e) {
    console.error(`serve: cannot listen on ${host}:${port}: ${e.message}`);
    process.exit(1);
  }
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
}
