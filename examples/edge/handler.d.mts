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
}
export declare const LIMITS: Limits;

export interface HandlerOptions<Env = unknown> {
  /** heed/wasm/simd.wasm (or scalar.wasm) as the platform compiled it, or a function giving it on the first request. */
  module: WebAssembly.Module | ((env: Env) => Awaitable<WebAssembly.Module>);
  /** The model file, or a function giving it on the first request. */
  modelBytes: Bytes | ((env: Env) => Awaitable<Bytes>);
  limits?: Partial<Limits>;
}

export interface FetchHandler<Env = unknown> {
  fetch(request: Request, env?: Env): Promise<Response>;
}

/** One prediction of POST /predict. */
export interface PredictionJSON {
  label: string;
  probability: number;
  probabilities: Record<string, number>;
  attention: { token: string; weight: number }[];
}

export declare function createHandler<Env = unknown>(options: HandlerOptions<Env>): FetchHandler<Env>;

/** Takes the module and the model from env.HEED_WASM and env.HEED_MODEL. */
declare const handler: FetchHandler<{ HEED_WASM?: WebAssembly.Module; HEED_MODEL?: Bytes }>;
export default handler;
