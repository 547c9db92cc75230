// A heed text classifier as a fetch handler: the `export default { fetch(request, env) }` shape that
// Cloudflare Workers, Deno (`deno serve`) and Bun (`bun run`) serve as they are.
//
//   POST /predict  {"text": "..."} or {"texts": ["...", ...]}
//     → 200 {"predictions": [{"label", "probability", "probabilities": {label: p},
//                             "attention": [{"token", "weight"}, ...], "tokens", "truncated"}, ...]}
//   GET /          → 200 {"name", "model": {kind, labels, ...}, "limits", "usage"}
//   anything else  → a JSON error {"error": {"status", "message"}}: 400 bad body (an empty or
//                    whitespace-only text included), 404 unknown path, 405 wrong method (with Allow),
//                    413 body too large, 503 more than limits.maxConcurrent requests at once (with
//                    Retry-After), 500 when the model cannot be loaded (details go to console.error,
//                    never into a response).
//
// It imports heed/infer and nothing else: no training code, no file system, no platform API. The
// WebAssembly module and the model file come from the platform, through createHandler (see
// worker.mjs for Cloudflare, serve.mjs for Deno, Bun and Node) or through env bindings (the default
// export). Edge runtimes forbid compiling WebAssembly from bytes at run time, so heed is given the
// module the platform compiled from heed/wasm/simd.wasm: init({ module }).
//
// heed is initialised and the model loaded once per isolate, lazily, by the first request; requests
// arriving meanwhile wait for the same initialisation. A failed initialisation answers 500 and is
// tried again by the next request; load() does the same up front, so a server can refuse to start
// without a model rather than answer 500 forever.
import { HeedError, init, loadClassifier } from 'heed/infer';

/** What one request may ask for. maxChars counts UTF-16 code units (String#length). maxBodyBytes
 *  leaves room for maxTexts texts of maxChars characters each written as \uXXXX escapes.
 *  maxConcurrent bounds the requests in progress at once (reading a body, waiting for the model or
 *  predicting): each may hold a body of maxBodyBytes and its decoded text, and predictions run one
 *  after another on one thread, so without a bound 200 clients sending 4 MB each held ~1 GB and
 *  made a small request wait seconds. Past it the answer is 503 at once. */
export const LIMITS = Object.freeze({ maxTexts: 64, maxChars: 10_000, maxBodyBytes: 4 * 1024 * 1024, maxConcurrent: 8 });

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const ROUTES = { '/': ['GET', 'HEAD'], '/predict': ['POST'] };
const USAGE = 'POST /predict with a JSON body {"text": "..."} or {"texts": ["...", ...]}';

/** An error whose message is safe to show the client. */
class HttpError extends Error {
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

function json(status, body, headers = {}, head = false) {
  return new Response(head ? null : JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

const describe = (v) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
const plural = (n, what) => `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;

/** The request body as text, refusing more than `limit` bytes without reading them all. */
async function readBody(request, limit) {
  const declared = Number(request.headers.get('content-length'));
  if (declared > limit) throw new HttpError(413, `the body is ${plural(declared, 'byte')}; the limit is ${plural(limit, 'byte')}`);
  if (!request.body) return '';
  const reader = request.body.getReader(), chunks = [];
  let size = 0;
  for (;;) {
    let step;
    try {
      step = await reader.read();
    } catch {
      // The stream broke: on a server, the client went away mid-body. Nobody is left to answer,
      // and it is no fault of the server's, so it is not logged as one.
      throw new HttpError(400, 'the body could not be read to its end (did the client disconnect?)');
    }
    const { done, value } = step;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw new HttpError(413, `the body is over the limit of ${plural(limit, 'byte')}`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.byteLength; }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, 'the body is not valid UTF-8');
  }
}

/** The texts a /predict body asks about, or a 400 saying what is wrong with it. */
function textsOf(body, limits) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, `the body must be a JSON object, got ${describe(body)}; ${USAGE}`);
  }
  const hasText = Object.hasOwn(body, 'text'), hasTexts = Object.hasOwn(body, 'texts');
  if (hasText && hasTexts) throw new HttpError(400, 'give either "text" or "texts", not both');
  if (!hasText && !hasTexts) throw new HttpError(400, `the body has no "text" or "texts"; ${USAGE}`);
  let texts;
  if (hasText) {
    if (typeof body.text !== 'string') throw new HttpError(400, `"text" must be a string, got ${describe(body.text)}`);
    texts = [body.text];
  } else {
    if (!Array.isArray(body.texts)) throw new HttpError(400, `"texts" must be an array of strings, got ${describe(body.texts)}`);
    if (body.texts.length > limits.maxTexts) {
      throw new HttpError(400, `"texts" holds ${plural(body.texts.length, 'text')}; the limit is ${limits.maxTexts} per request`);
    }
    const bad = body.texts.findIndex((t) => typeof t !== 'string');
    if (bad >= 0) throw new HttpError(400, `"texts[${bad}]" must be a string, got ${describe(body.texts[bad])}`);
    texts = body.texts;
  }
  texts.forEach((t, i) => {
    const name = hasText ? '"text"' : `"texts[${i}]"`;
    if (t.length > limits.maxChars) {
      throw new HttpError(400, `${name} is ${plural(t.length, 'character')} long; the limit is ${plural(limits.maxChars, 'character')}`);
    }
    // A model answers something for any input, but an answer about nothing would look like a
    // finding about the text.
    if (t.trim() === '') throw new HttpError(400, `${name} is ${t === '' ? 'empty' : 'only whitespace'}: there is nothing to classify`);
  });
  return texts;
}

/** A 400 for a text in which the model's tokenizer finds no token (control characters, say). */
function checkTokens(clf, texts, single) {
  texts.forEach((t, i) => {
    if (clf.tokenizer.pieces(t).length === 0) {
      throw new HttpError(400, `${single ? '"text"' : `"texts[${i}]"`} has no token the model reads: there is nothing to classify`);
    }
  });
}

/** One text's answer: the prediction, each piece's attention weight (explain() computes both in
 *  one forward pass), the text's token count (the ids the model would read: for an n-gram
 *  tokenizer, several per word) and whether the model read only its first maxLen of them. */
function predictionOf(clf, text) {
  const e = clf.explain(text);
  const tokens = clf.tokenizer.encode(text).length;
  return {
    label: e.label,
    probability: e.probability,
    probabilities: e.probabilities,
    attention: e.pieces.map((token, i) => ({ token, weight: e.weights[i] })),
    tokens,
    truncated: e.truncated,
  };
}

function description(clf, limits) {
  const { config } = clf.model;
  return {
    name: 'heed text classifier',
    model: { ...config, labels: clf.labels, maxTokens: clf.maxLen, tokenizer: clf.tokenizer.type },
    limits,
    usage: USAGE,
  };
}

/** Resolves after the event loop has run the other ready tasks (I/O included). */
const turn = () => new Promise((r) => (globalThis.setImmediate ?? setTimeout)(r));

const toBytes = (b) => (b instanceof Uint8Array ? b : b instanceof ArrayBuffer ? new Uint8Array(b) : null);

/**
 * A fetch handler for one model.
 *  - module: the WebAssembly.Module of heed/wasm/simd.wasm (or scalar.wasm), or a function
 *    (env) => module | Promise<module>, called once, on the first request.
 *  - modelBytes: the model file (Uint8Array or ArrayBuffer), or a function (env) => bytes |
 *    Promise<bytes>, called once, on the first request.
 *  - limits: overrides of LIMITS.
 *  - modelName: how error messages name the model file (a path, say; default "model file").
 */
export function createHandler({ module, modelBytes, limits = {}, modelName = 'model file' } = {}) {
  if (!(module instanceof WebAssembly.Module) && typeof module !== 'function') {
    throw new TypeError('createHandler: module must be a WebAssembly.Module or a function returning one');
  }
  if (!toBytes(modelBytes) && typeof modelBytes !== 'function') {
    throw new TypeError('createHandler: modelBytes must be a Uint8Array, an ArrayBuffer or a function returning one');
  }
  const lim = Object.freeze({ ...LIMITS, ...limits });
  let ready = null;

  async function load(env) {
    const [mod, raw] = await Promise.all([
      typeof module === 'function' ? module(env) : module,
      typeof modelBytes === 'function' ? modelBytes(env) : modelBytes,
    ]);
    if (!(mod instanceof WebAssembly.Module)) throw new TypeError(`the platform adapter gave ${describe(mod)}, not a WebAssembly.Module`);
    const bytes = toBytes(raw);
    if (!bytes) throw new TypeError(`the platform adapter gave ${describe(raw)}, not the model file's bytes`);
    return loadClassifier(await init({ module: mod }), bytes, modelName);
  }

  /** The classifier, loaded by the first caller; everyone else awaits the same promise. */
  function classifier(env) {
    if (!ready) {
      ready = load(env);
      ready.catch(() => { ready = null; });   // the next request tries again
    }
    return ready;
  }

  async function route(request, env) {
    const { pathname } = new URL(request.url);
    const allowed = ROUTES[pathname];
    if (!allowed) throw new HttpError(404, `no such path: ${pathname.length > 200 ? `${pathname.slice(0, 200)}…` : pathname}; ${USAGE}`);
    if (!allowed.includes(request.method)) {
      throw new HttpError(405, `${pathname} takes ${allowed.join(' or ')}, not ${request.method}`, { allow: allowed.join(', ') });
    }
    if (pathname === '/') return json(200, description(await classifier(env), lim), {}, request.method === 'HEAD');
    const text = await readBody(request, lim.maxBodyBytes);
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      throw new HttpError(400, `the body is not valid JSON; ${USAGE}`);
    }
    const texts = textsOf(body, lim);
    const clf = await classifier(env);
    checkTokens(clf, texts, Object.hasOwn(body, 'text'));
    const predictions = [];
    for (const t of texts) {
      try {
        predictions.push(predictionOf(clf, t));
      } catch (e) {   // a text the classifier refuses: the caller's mistake, named
        if (e instanceof HeedError) throw new HttpError(400, `${texts.length === 1 && typeof body.text === 'string' ? '"text"' : `"texts[${predictions.length}]"`}: ${e.message}`);
        throw e;
      }
      // Predicting is synchronous: between texts, let the other requests in progress take a turn,
      // so a one-text request waits for one text of each, not for whole requests of 64 long texts.
      if (texts.length > 1) await turn();
    }
    return json(200, { predictions });
  }

  let inFlight = 0;
  return {
    async fetch(request, env = {}) {
      const head = request.method === 'HEAD';
      if (inFlight >= lim.maxConcurrent) {
        return json(503, { error: { status: 503, message: `busy: ${plural(lim.maxConcurrent, 'request')} in progress, the limit; try again shortly` } }, { 'retry-after': '1' }, head);
      }
      inFlight++;
      try {
        return await route(request, env);
      } catch (e) {
        if (e instanceof HttpError) return json(e.status, { error: { status: e.status, message: e.message } }, e.headers, head);
        console.error('heed edge handler:', e);
        return json(500, { error: { status: 500, message: 'internal error: the classifier could not answer (see the server log)' } }, {}, head);
      } finally {
        inFlight--;
      }
    },
    /** Loads heed and the model now rather than on the first request; rejects with the reason
     *  (and the next call, or request, tries again). */
    async load(env = {}) {
      await classifier(env);
    },
  };
}

/** For platforms that hand over the module and the model as bindings: env.HEED_WASM (a
 *  WebAssembly.Module) and env.HEED_MODEL (the model file's bytes). */
export default createHandler({
  module: (env) => env.HEED_WASM,
  modelBytes: (env) => env.HEED_MODEL,
});
