// Deno, Bun and Node entry: the wasm and the model file read from disk and loaded at start-up, so a
// missing or corrupt model stops the server with one line instead of answering 500 forever.
//   deno serve --allow-read examples/edge/serve.mjs      (Deno 2: resolves heed from node_modules)
//   bun run examples/edge/serve.mjs                      (Bun serves a default export with fetch)
//   node examples/edge/serve.mjs [--host H] [--port N]   (a node:http server around the same handler)
// Then: curl -s localhost:8000/predict -d '{"text": "my code compiles but the tests fail"}'
// HEED_MODEL names another model file. Under Node the server listens on 127.0.0.1 only, port 8000
// (or PORT); `--host 0.0.0.0` serves other machines too, which is a choice to make on purpose.
import { readFile } from 'node:fs/promises';
import { createHandler } from './handler.mjs';

const env = globalThis.process?.env ?? {};
const modelUrl = env.HEED_MODEL ? new URL(env.HEED_MODEL, `file://${globalThis.process.cwd()}/`) : new URL('./model.safetensors', import.meta.url);
const modelPath = decodeURIComponent(modelUrl.pathname);

async function modelBytes() {
  try {
    return await readFile(modelUrl);
  } catch (e) {
    const why = e.code === 'ENOENT' ? 'no such file (make one: node examples/edge/make_model.mjs, or set HEED_MODEL)' : e.message;
    throw new Error(`cannot read the model file ${modelPath}: ${why}`);
  }
}

const handler = createHandler({
  module: async () => WebAssembly.compile(await readFile(new URL(import.meta.resolve('heed/wasm/simd.wasm')))),
  modelBytes,
  modelName: modelPath,
});
export default handler;

// Load now: a server without a usable model refuses to start (Deno, Bun and Node alike).
try {
  await handler.load();
} catch (e) {
  console.error(`heed edge example: ${e.message}`);
  globalThis.process?.exit(1);
  throw e;   // no process object: let the runtime report it
}

/** Node's http.IncomingMessage and ServerResponse → the handler's Request and Response. A request
 *  the fetch API cannot represent (a TRACE, an absolute-form target) gets its answer here; a client
 *  that goes away aborts the request's body, which the handler answers without logging, and the
 *  answer is then dropped. */
async function serveNode(req, res, Readable) {
  const reply = (status, message, headers = {}) => {
    const body = JSON.stringify({ error: { status, message } });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  // TRACE, TRACK and CONNECT are methods the fetch API refuses to build a Request with.
  if (/^(TRACE|TRACK|CONNECT)$/i.test(req.method)) {
    reply(405, `${req.method} is not served: / takes GET or HEAD, /predict takes POST`, { allow: 'GET, HEAD, POST' });
    return;
  }
  // The URL is built from the path alone: the Host header is the client's to write, and the
  // handler routes on the path.
  if (!req.url.startsWith('/')) {
    reply(400, 'the request target must be a path starting with /');
    return;
  }
  const aborted = new AbortController();
  res.on('close', () => { if (!res.writableFinished) aborted.abort(); });
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Readable.toWeb(req);
  let request;
  try {
    request = new Request(new URL(req.url, 'http://localhost'), { method: req.method, headers: req.headers, body, duplex: 'half', signal: aborted.signal });
  } catch (e) {
    reply(400, `the request could not be read: ${e.message}`);
    return;
  }
  const response = await handler.fetch(request, {});
  const bytes = Buffer.from(await response.arrayBuffer());
  if (res.destroyed) return;   // the client is gone; nobody to answer
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(bytes);
}

/** --host H / --port N from argv (PORT from the environment), or a one-line usage error. */
function options(argv) {
  const o = { host: '127.0.0.1', port: Number(env.PORT ?? 8000) };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--host' && value) o.host = value;
    else if (flag === '--port' && value && /^\d+$/.test(value) && Number(value) < 65536) o.port = Number(value);
    else throw new Error(`unknown or incomplete option ${JSON.stringify(flag)}${value === undefined ? '' : ` ${JSON.stringify(value)}`}; usage: node serve.mjs [--host H] [--port N]`);
  }
  return o;
}

// Node has no `export default { fetch }` server: when run as `node serve.mjs`, adapt node:http.
const isNodeMain = !globalThis.Deno && !globalThis.Bun && globalThis.process?.argv[1] &&
  import.meta.url === (await import('node:url')).pathToFileURL(globalThis.process.argv[1]).href;
if (isNodeMain) {
  const { createServer } = await import('node:http');
  const { Readable } = await import('node:stream');
  let o;
  try {
    o = options(process.argv.slice(2));
  } catch (e) {
    console.error(`heed edge example: ${e.message}`);
    process.exit(2);
  }
  const server = createServer((req, res) => {
    res.on('error', () => {});   // a write to a closed socket: the client left, nothing to report
    serveNode(req, res, Readable).catch((e) => {
      console.error(`heed edge example: ${req.method} ${req.url.slice(0, 200)}: ${e.message}`);
      if (!res.headersSent && !res.destroyed) { res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }); res.end('{"error":{"status":500,"message":"internal error"}}'); } else res.destroy();
    });
  });
  server.on('error', (e) => { console.error(`heed edge example: cannot listen on ${o.host}:${o.port}: ${e.message}`); process.exit(1); });
  server.listen(o.port, o.host, () => {
    const { address, port } = server.address();
    const shown = address.includes(':') ? `[${address}]` : address;
    console.log(`heed edge example on http://${shown}:${port} (model ${modelPath})`);
  });
}
