// A small client for the Inferium gateway, written from its OpenAPI document (GET /openapi.json).
// No dependencies: Node 20's built-in fetch. Types in index.d.ts; see README.md.

/** @typedef {import('./index.d.ts').Tensor} Tensor */
/** @typedef {import('./index.d.ts').InferResponse} InferResponse */

// Error codes for routes outside /v1, whose body is {"error": "..."}: named after the status, as the document's
// components/responses do. /v1 errors carry OpenAI's own code (or type) instead.
const CODES = {
  400: 'bad_request', 401: 'unauthorized', 402: 'quota_exhausted', 403: 'forbidden', 404: 'not_found',
  405: 'method_not_allowed', 409: 'conflict', 413: 'too_large', 415: 'unsupported_media_type',
  429: 'too_many_requests', 499: 'client_gone', 500: 'internal_error', 502: 'worker_failure',
  503: 'unavailable', 504: 'deadline_exceeded',
};

// A stream's error event has no status of its own (the answer's was 200): the one its code stands for.
const STREAM_STATUS = {
  timeout: 504, internal_error: 500, rate_limit_exceeded: 429, insufficient_quota: 429,
  invalid_request_error: 400, server_error: 502,
};

/** Any error answer (or a stream's error event): the HTTP status, a code and the server's message. */
export class InferiumError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {{param?: string|null, retryAfter?: number|null, errorId?: string|null, requestId?: string|null}} [more]
   */
  constructor(status, code, message, more = {}) {
    super(`${status} ${code}: ${message}`);
    this.name = 'InferiumError';
    this.status = status;
    this.code = code;
    this.serverMessage = message;
    this.param = more.param ?? null;
    this.retryAfter = more.retryAfter ?? null;
    this.errorId = more.errorId ?? null;
    this.requestId = more.requestId ?? null;
  }

  /**
   * @param {number} status
   * @param {string} text the body
   * @param {Headers} [headers]
   */
  static fromBody(status, text, headers) {
    const retry = headers?.get('retry-after');
    const retryAfter = retry && /^\d+$/.test(retry) ? Number(retry) : null;
    const requestId = headers?.get('x-request-id') ?? null;
    let parsed = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: the text is the message
    }
    const error = parsed && typeof parsed === 'object' ? parsed.error : undefined;
    if (error && typeof error === 'object') {
      return new InferiumError(status, error.code || error.type || CODES[status] || 'error', String(error.message),
        { param: error.param, retryAfter, errorId: error.error_id, requestId });
    }
    if (typeof error === 'string') {
      return new InferiumError(status, CODES[status] || 'error', error, { retryAfter, errorId: parsed.error_id, requestId });
    }
    return new InferiumError(status, CODES[status] || 'error', text.slice(0, 500) || `HTTP ${status}`, { retryAfter, requestId });
  }
}

const seg = (value) => encodeURIComponent(String(value));

/** Calls one Inferium gateway with one API key. */
export class InferiumClient {
  /**
   * @param {string} baseUrl e.g. http://127.0.0.1:8080
   * @param {{apiKey?: string, timeoutMs?: number}} [options]
   */
  constructor(baseUrl, options = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {{body?: object, query?: Record<string, string|undefined|null>, accept?: string}} [opts]
   * @returns {Promise<Response>}
   */
  async #fetch(method, path, opts = {}) {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
    /** @type {Record<string, string>} */
    const headers = { Accept: opts.accept ?? 'application/json' };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.apiKey) headers.Authorization = `Bearer ${this.apiKey}`;
    const resp = await fetch(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!resp.ok) {
      throw InferiumError.fromBody(resp.status, await resp.text(), resp.headers);
    }
    return resp;
  }

  /** @returns {Promise<{body: any, headers: Headers}>} */
  async #json(method, path, opts) {
    const resp = await this.#fetch(method, path, opts);
    return { body: await resp.json(), headers: resp.headers };
  }

  /**
   * The JSON payloads of a Server-Sent Events answer, until `data: [DONE]`; an error event throws.
   * @param {string} path
   * @param {object} body
   */
  async *#events(path, body) {
    const resp = await this.#fetch('POST', path, { body, accept: 'text/event-stream' });
    const requestId = resp.headers.get('x-request-id');
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const bytes of resp.body) {
      buffer += decoder.decode(bytes, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, ''));
        if (data.length === 0) continue; // a comment (": ...") or other fields
        const payload = data.join('\n');
        if (payload === '[DONE]') return;
        const event = JSON.parse(payload);
        if (event && typeof event === 'object' && 'error' in event) {
          const e = typeof event.error === 'object' && event.error ? event.error : {};
          const status = STREAM_STATUS[e.code || e.type] ?? 502;
          const h = new Headers(requestId ? { 'x-request-id': requestId } : {});
          throw InferiumError.fromBody(status, payload, h);
        }
        yield event;
      }
    }
    throw new InferiumError(502, 'stream_cut', 'the stream ended without data: [DONE]', { requestId });
  }

  // -- the platform ---------------------------------------------------------------------------------------------

  /**
   * `GET /api/functions`: the function versions this key may see.
   * @param {{q?: string, kind?: string, category?: string}} [filter]
   */
  async listFunctions(filter = {}) {
    return (await this.#json('GET', '/api/functions', { query: filter })).body.functions;
  }

  /** `GET /api/functions/{name}`: the latest version, with `versions` listing them all. */
  async getFunction(name) {
    return (await this.#json('GET', `/api/functions/${seg(name)}`)).body;
  }

  /**
   * `GET /api/usage`: requests and charges (integer micro-dollars), by function or by day.
   * @param {{from?: string, to?: string, groupBy?: 'function'|'day', tenant?: string}} [opts]
   */
  async usage(opts = {}) {
    return (await this.#json('GET', '/api/usage', {
      query: { from: opts.from, to: opts.to, group_by: opts.groupBy, tenant: opts.tenant },
    })).body;
  }

  /** `GET /api/receipts/{requestId}`: the receipt of an answered request (it appears a moment after the answer). */
  async receipt(requestId) {
    return (await this.#json('GET', `/api/receipts/${seg(requestId)}`)).body;
  }

  // -- KServe v2 ------------------------------------------------------------------------------------------------

  /** `GET /v2`: name, version and protocol extensions. */
  async serverMetadata() {
    return (await this.#json('GET', '/v2')).body;
  }

  /** `GET /v2/models/{name}[/versions/{version}]`: the model's tensors. */
  async modelMetadata(name, version) {
    return (await this.#json('GET', `/v2/models/${seg(name)}${version === undefined ? '' : `/versions/${Number(version)}`}`)).body;
  }

  /**
   * `POST /v2/models/{model}[/versions/{version}]/infer` with JSON tensors.
   * @param {string} model
   * @param {Tensor[]} inputs
   * @param {{outputs?: string[], version?: number, id?: string, parameters?: object}} [opts]
   * @returns {Promise<InferResponse>}
   */
  async infer(model, inputs, opts = {}) {
    /** @type {any} */
    const body = { inputs };
    if (opts.outputs) body.outputs = opts.outputs.map((name) => ({ name }));
    if (opts.id !== undefined) body.id = opts.id;
    if (opts.parameters) body.parameters = opts.parameters;
    const path = `/v2/models/${seg(model)}${opts.version === undefined ? '' : `/versions/${Number(opts.version)}`}/infer`;
    const { body: out, headers } = await this.#json('POST', path, { body });
    const charge = headers.get('x-inferium-charge-micro-usd');
    const billed = headers.get('x-inferium-billed');
    return {
      ...out,
      requestId: headers.get('x-inferium-request-id'),
      chargeMicroUsd: charge === null ? null : Number(charge),
      billed: billed === null ? null : billed === 'true',
    };
  }

  // -- OpenAI-compatible ----------------------------------------------------------------------------------------

  /** `POST /v1/completions`; `params` are OpenAI's (max_tokens, temperature, seed, stop, n, ...). */
  async completions(model, prompt, params = {}) {
    return (await this.#json('POST', '/v1/completions', { body: { ...params, model, prompt } })).body;
  }

  /** `POST /v1/completions` with `stream: true`: an async iterable of chunks. */
  streamCompletions(model, prompt, params = {}) {
    return this.#events('/v1/completions', { ...params, model, prompt, stream: true });
  }

  /** `POST /v1/chat/completions`: `messages` are `{role, content}`. */
  async chat(model, messages, params = {}) {
    return (await this.#json('POST', '/v1/chat/completions', { body: { ...params, model, messages } })).body;
  }

  /** `POST /v1/chat/completions` with `stream: true`: the first chunk carries the role, then deltas. */
  streamChat(model, messages, params = {}) {
    return this.#events('/v1/chat/completions', { ...params, model, messages, stream: true });
  }

  /** `POST /v1/embeddings`: one vector per input string. */
  async embeddings(model, input, params = {}) {
    return (await this.#json('POST', '/v1/embeddings', { body: { ...params, model, input } })).body;
  }
}
