// Types of handler.mjs, for TypeScript callers (and test/edge/handler.test.ts).
type Awaitable<T> = T | Promise<T>;
type Bytes = Uint8Array | ArrayBuffer;

export interface Limits {
  /** Texts per request (default 64). */
  readonly maxTexts: number;
  /** UTF-16 code units per text (default 10,000). */
  readonly maxChars: number;
  /** Request body size (default 4 MiB); more answers 413. */
  readonly maxBodyBytes: number;
  /** Requests in progress at once (default 8); more answer 503 with Retry-After. */
  readonly maxConcurrent: number;
}
export declare const LIMITS: Limits;

export interface HandlerOptions<Env = unknown> {
  /** heed/wasm/simd.wasm (or scalar.wasm) as the platform compiled it, or a function giving it on the first request. */
  module: WebAssembly.Module | ((env: Env) => Awaitable<WebAssembly.Module>);
  /** The model file, or a function giving it on the first request. */
  modelBytes: Bytes | ((env: Env) => Awaitable<Bytes>);
  limits?: Partial<Limits>;
  /** How error messages name the model file (a path, say; default "model file"). */
  modelName?: string;
}

export interface FetchHandler<Env = unknown> {
  fetch(request: Request, env?: Env): Promise<Response>;
  /** Loads heed and the model now instead of on the first request; rejects with the reason. */
  load(env?: Env): Promise<void>;
}

/** One prediction of POST /predict. */
export interface PredictionJSON {
  label: string;
  probability: number;
  probabilities: Record<string, number>;
  attention: { token: string; weight: number }[];
  /** The text's token count, as the model's tokenizer cuts it. */
  tokens: number;
  /** True when the text has more tokens than the model reads (GET / names it: model.maxTokens):
   *  the prediction and `attention` cover only the first maxTokens. */
  truncated: boolean;
}

export declare function createHandler<Env = unknown>(options: HandlerOptions<Env>): FetchHandler<Env>;

/** Takes the module and the model from env.HEED_WASM and env.HEED_MODEL. */
declare const handler: FetchHandler<{ HEED_WASM?: WebAssembly.Module; HEED_MODEL?: Bytes }>;
export default handler;
