// Deno, Bun and Node entry: the wasm and the model file read from disk on the first request.
//   deno serve --allow-read examples/edge/serve.mjs      (Deno 2: resolves heed from node_modules)
//   bun run examples/edge/serve.mjs                      (Bun serves a default export with fetch)
//   node examples/edge/serve.mjs                         (a node:http server around the same handler)
// Then: curl -s localhost:8000/predict -d '{"text": "my code compiles but the tests fail"}'
// HEED_MODEL names another model file; PORT another port (Node).
import { readFile } from 'node:fs/promises';
import { createHandler } from './handler.mjs';

const env = globalThis.process?.env ?? {};
const modelUrl = env.HEED_MODEL ? new URL(env.HEED_MODEL, `file://${globalThis.process.cwd()}/`) : new URL('./model.safetensors', import.meta.url);

const handler = createHandler({
  module: async () => WebAssembly.compile(await readFile(new URL(import.meta.resolve('heed/wasm/simd.wasm')))),
  modelBytes: () => readFile(modelUrl),
});
export default handler;

// Node has no `export default { fetch }` server: when run as `node serve.mjs`, adapt node:http.
const isNodeMain = !globalThis.Deno && !globalThis.Bun && globalThis.process?.argv[1] &&
  import.meta.url === (await import('node:url')).pathToFileURL(globalThis.process.argv[1]).href;
if (isNodeMain) {
  const { createServer } = await import('node:http');
  const { Readable } = await import('node:stream');
  const port = Number(env.PORT ?? 8000);
  const server = createServer(async (req, res) => {
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Readable.toWeb(req);
    const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, { method: req.method, headers: req.headers, body, duplex: 'half' });
    const response = await handler.fetch(request, {});
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  server.listen(port, () => console.log(`heed edge example on http://localhost:${server.address().port} (model ${modelUrl.pathname})`));
}
