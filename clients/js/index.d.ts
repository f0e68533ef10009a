// Types for index.js, from the gateway's OpenAPI document (GET /openapi.json, components/schemas).

export type Datatype = 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'FP32' | 'FP64' | 'BF16' | 'BYTES';

/** A KServe v2 tensor (InferInputTensor / InferOutputTensor): `data` flat in row-major order. */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: Array<number | string | boolean> | unknown[];
  parameters?: Record<string, unknown>;
}

/** InferResponse, plus what the answer's headers say. */
export interface InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, unknown>;
  outputs: Tensor[];
  /** X-Inferium-Request-Id: the id of its receipt. */
  requestId: string | null;
  chargeMicroUsd: number | null;
  billed: boolean | null;
}

export type FunctionState = 'verifying' | 'ready' | 'rejected';
export type FunctionKind = 'tensor' | 'classifier' | 'regressor' | 'embedding' | 'text-generation';

/** FunctionVersion (fields the server may add are kept). */
export interface FunctionVersion {
  name: string;
  version: number;
  kind: FunctionKind;
  state: FunctionState;
  state_reason?: string;
  category?: string;
  description?: string;
  visibility?: 'public' | 'private';
  owner?: string;
  created_at?: string;
  signature?: { inputs: TensorMetadata[]; outputs: TensorMetadata[] };
  [field: string]: unknown;
}

export interface TensorMetadata { name: string; datatype: Datatype; shape: number[] }

export interface FunctionWithVersions extends FunctionVersion {
  versions: Array<{ version: number; state: FunctionState }>;
}

export interface Usage { prompt_tokens: number; completion_tokens?: number; total_tokens: number }

export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: Array<{ index: number; text: string; logprobs: null; finish_reason: string | null }>;
  usage: Usage;
}

export interface CompletionChunk extends Omit<Completion, 'usage'> { usage?: Usage | null }

export interface ChatMessage { role: 'system' | 'developer' | 'user' | 'assistant'; content: string | Array<{ type: 'text'; text: string }> }

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{ index: number; message: { role: 'assistant'; content: string; refusal: null }; logprobs: null; finish_reason: string | null }>;
  usage: Usage;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{ index: number; delta: { role?: string; content?: string }; logprobs: null; finish_reason: string | null }>;
  usage?: Usage | null;
}

export interface EmbeddingList {
  object: 'list';
  model: string;
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  usage: { prompt_tokens: number; total_tokens: number };
}

export interface UsageSummary {
  from: string;
  to: string;
  group_by: 'function' | 'day';
  tenant: string | null;
  groups: Array<{ function?: string; day?: string; requests: number; units: number; compute_us: number; charge_micro_usd: number }>;
  requests: number;
  charge_micro_usd: number;
}

export interface ReceiptView {
  request_id: string;
  status?: string;
  epoch: number | null;
  root: string | null;
  proof: string[] | null;
  leaf: string;
  receipt: { request_id: string; function: string; version: number; charge_micro_usd: number; [field: string]: unknown };
  anchoring: { state: 'off' | 'pending' | 'queued' | 'anchored'; [field: string]: unknown };
}

/** Sampling parameters OpenAI's clients send (max_tokens, temperature, seed, stop, n, ...). */
export type SamplingParams = Record<string, unknown>;

export class InferiumError extends Error {
  constructor(status: number, code: string, message: string,
    more?: { param?: string | null; retryAfter?: number | null; errorId?: string | null; requestId?: string | null });
  /** The HTTP status (for a stream's error event: the one its code stands for). */
  readonly status: number;
  /** OpenAI's code or type under /v1; elsewhere named after the status (bad_request, not_found, ...). */
  readonly code: string;
  /** The server's own message. */
  readonly serverMessage: string;
  /** The request field at fault, where the server names it (/v1). */
  readonly param: string | null;
  /** Retry-After, in seconds (429, 503). */
  readonly retryAfter: number | null;
  /** On an internal error: the id to quote. */
  readonly errorId: string | null;
  /** x-request-id of a /v1 answer. */
  readonly requestId: string | null;
  static fromBody(status: number, text: string, headers?: Headers): InferiumError;
}

export class InferiumClient {
  constructor(baseUrl: string, options?: { apiKey?: string; timeoutMs?: number });
  listFunctions(filter?: { q?: string; kind?: FunctionKind; category?: string }): Promise<FunctionVersion[]>;
  getFunction(name: string): Promise<FunctionWithVersions>;
  usage(opts?: { from?: string; to?: string; groupBy?: 'function' | 'day'; tenant?: string }): Promise<UsageSummary>;
  receipt(requestId: string): Promise<ReceiptView>;
  serverMetadata(): Promise<{ name: string; version: string; extensions: string[] }>;
  modelMetadata(name: string, version?: number): Promise<{ name: string; versions?: string[]; platform: string; inputs: TensorMetadata[]; outputs: TensorMetadata[] }>;
  infer(model: string, inputs: Tensor[], opts?: { outputs?: string[]; version?: number; id?: string; parameters?: Record<string, unknown> }): Promise<InferResponse>;
  completions(model: string, prompt: string | [string], params?: SamplingParams): Promise<Completion>;
  streamCompletions(model: string, prompt: string | [string], params?: SamplingParams): AsyncGenerator<CompletionChunk, void, void>;
  chat(model: string, messages: ChatMessage[], params?: SamplingParams): Promise<ChatCompletion>;
  streamChat(model: string, messages: ChatMessage[], params?: SamplingParams): AsyncGenerator<ChatCompletionChunk, void, void>;
  embeddings(model: string, input: string | string[], params?: { encoding_format?: 'float' | 'base64'; dimensions?: number }): Promise<EmbeddingList>;
}
