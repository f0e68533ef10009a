// The JavaScript client against a running gateway (OpenApiIT starts one and runs `node --test` with its address and
// key). Environment: INFERIUM_URL, INFERIUM_KEY (an admin key), INFERIUM_TENSOR_MODEL (inputs a and b, FP32 [-1, 4],
// output their sum), INFERIUM_TEXT_MODEL (text generation), INFERIUM_EMBED_MODEL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { InferiumClient, InferiumError } from '../index.js';

const URL_ = process.env.INFERIUM_URL;
const KEY = process.env.INFERIUM_KEY;
const TENSOR = process.env.INFERIUM_TENSOR_MODEL ?? 'adder';
const TEXT = process.env.INFERIUM_TEXT_MODEL ?? 'tiny-gpt';
const EMBED = process.env.INFERIUM_EMBED_MODEL ?? 'tiny-embed';
const skip = !(URL_ && KEY) && 'set INFERIUM_URL and INFERIUM_KEY to run against a gateway';
const client = new InferiumClient(URL_ ?? 'http://127.0.0.1:1', { apiKey: KEY, timeoutMs: 60_000 });

/** Polls `probe` every 200 ms for up to 30 s while it throws a 404 (receipts and usage appear a moment after). */
async function eventually(probe, done = () => true) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const value = await probe();
      if (done(value) || Date.now() > deadline) return value;
    } catch (e) {
      if (!(e instanceof InferiumError && e.status === 404) || Date.now() > deadline) throw e;
    }
    await sleep(200);
  }
}

test('the client covers the documented operations it names', { skip }, async () => {
  const doc = await (await fetch(`${URL_}/openapi.json`)).json();
  for (const [path, method] of [['/api/functions', 'get'], ['/api/functions/{name}', 'get'],
    ['/v2/models/{name}/infer', 'post'], ['/v1/completions', 'post'], ['/v1/chat/completions', 'post'],
    ['/v1/embeddings', 'post'], ['/api/usage', 'get'], ['/api/receipts/{requestId}', 'get']]) {
    assert.ok(doc.paths[path]?.[method], `${method} ${path}`);
  }
});

test('list and get functions', { skip }, async () => {
  const names = (await client.listFunctions()).map((f) => f.name);
  assert.ok(names.includes(TENSOR), names.join());
  const text = await client.listFunctions({ kind: 'text-generation' });
  assert.ok(text.every((f) => f.kind === 'text-generation') && text.some((f) => f.name === TEXT));
  const fn = await client.getFunction(TENSOR);
  assert.equal(fn.name, TENSOR);
  assert.equal(fn.state, 'ready');
  assert.ok(Array.isArray(fn.versions));
});

test('infer adds, and its receipt appears', { skip }, async () => {
  const a = [1.5, 2, -3, 4.25, 0, 1, 2, 3];
  const b = [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5];
  const resp = await client.infer(TENSOR, [
    { name: 'a', datatype: 'FP32', shape: [2, 4], data: a },
    { name: 'b', datatype: 'FP32', shape: [2, 4], data: b },
  ], { id: 'js-1' });
  assert.equal(resp.model_name, TENSOR);
  assert.equal(resp.id, 'js-1');
  assert.deepEqual(resp.outputs[0].shape, [2, 4]);
  assert.deepEqual(resp.outputs[0].data, a.map((x, i) => x + b[i]));
  assert.equal(resp.billed, true);
  assert.ok(resp.requestId);
  const receipt = await eventually(() => client.receipt(resp.requestId));
  assert.equal(receipt.request_id, resp.requestId);
  assert.equal(receipt.receipt.function, TENSOR);
});

test('a wrong input is a typed error naming it', { skip }, async () => {
  await assert.rejects(client.infer(TENSOR, [
    { name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] },
    { name: 'b', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] },
  ]), (e) => e instanceof InferiumError && e.status === 400 && e.code === 'bad_request'
    && e.serverMessage.includes("input 'a'"));
  await assert.rejects(client.getFunction('no-such-function'), (e) => e.status === 404 && e.code === 'not_found');
  await assert.rejects(new InferiumClient(URL_, { apiKey: 'not-a-key' }).listFunctions(), (e) => e.status === 401);
});

test('completions whole and streamed agree', { skip }, async () => {
  const whole = await client.completions(TEXT, 'The license', { max_tokens: 8, temperature: 0 });
  assert.match(whole.id, /^cmpl-/);
  assert.equal(whole.usage.prompt_tokens + whole.usage.completion_tokens, whole.usage.total_tokens);
  const chunks = [];
  for await (const chunk of client.streamCompletions(TEXT, 'The license', {
    max_tokens: 8, temperature: 0, stream_options: { include_usage: true },
  })) {
    chunks.push(chunk);
  }
  assert.ok(chunks.length > 1);
  assert.equal(chunks.map((c) => c.choices[0]?.text ?? '').join(''), whole.choices[0].text);
  assert.deepEqual(chunks.at(-1).usage, whole.usage);
});

test('chat and its stream', { skip }, async () => {
  const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }];
  const whole = await client.chat(TEXT, messages, { max_completion_tokens: 6, temperature: 0 });
  assert.match(whole.id, /^chatcmpl-/);
  const chunks = [];
  for await (const chunk of client.streamChat(TEXT, messages, { max_completion_tokens: 6, temperature: 0 })) {
    chunks.push(chunk);
  }
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), whole.choices[0].message.content);
});

test('OpenAI errors carry code and param', { skip }, async () => {
  await assert.rejects(client.completions(TEXT, 'x', { response_format: { type: 'json_object' } }),
    (e) => e.status === 400 && e.param === 'response_format');
  await assert.rejects(client.chat('no-such-model', [{ role: 'user', content: 'hi' }]),
    (e) => e.status === 404 && e.code === 'model_not_found' && e.requestId?.startsWith('req_'));
});

test('embeddings', { skip }, async () => {
  const result = await client.embeddings(EMBED, ['one', 'two words']);
  assert.equal(result.model, EMBED);
  assert.deepEqual(result.data.map((d) => d.index), [0, 1]);
  assert.equal(result.data[0].embedding.length, result.data[1].embedding.length);
  assert.ok(result.usage.prompt_tokens > 0);
});

test('usage counts the calls', { skip }, async () => {
  await client.infer(TENSOR, [
    { name: 'a', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] },
    { name: 'b', datatype: 'FP32', shape: [1, 4], data: [4, 3, 2, 1] },
  ]);
  const usage = await eventually(() => client.usage({ groupBy: 'function' }),
    (u) => u.groups.some((g) => g.function === TENSOR));
  assert.equal(usage.group_by, 'function');
  assert.ok(usage.groups.some((g) => g.function === TENSOR));
  await assert.rejects(client.usage({ groupBy: 'week' }), (e) => e.status === 400 && e.serverMessage.includes('group_by'));
});
