// Drives Inferium through the official `openai` client, the way an app builder would, and prints
// what the client returned as one JSON object for OpenAiIT to assert on.
// Usage: INFERIUM_URL=http://127.0.0.1:PORT INFERIUM_KEY=... node openai-client.mjs
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: `${process.env.INFERIUM_URL}/v1`, apiKey: process.env.INFERIUM_KEY, maxRetries: 0 });
const out = {};

const models = await client.models.list();
out.models = models.data.map((m) => m.id);

const completion = await client.completions.create({ model: 'tiny-gpt', prompt: 'The license', max_tokens: 8, temperature: 0 });
out.completion = { text: completion.choices[0].text, finish_reason: completion.choices[0].finish_reason, usage: completion.usage };

// An array of prompts with n = 2: one choice per prompt and sample, index = prompt * n + sample.
const several = await client.completions.create({ model: 'tiny-gpt', prompt: ['The license', 'Hello there'], n: 2,
  max_tokens: 6, temperature: 0 });
out.promptArray = { choices: several.choices.map((c) => ({ index: c.index, text: c.text })), usage: several.usage };

const chat = await client.chat.completions.create({
  model: 'tiny-gpt', temperature: 0, max_completion_tokens: 8,
  messages: [{ role: 'user', content: 'Hello there' }],
});
out.chat = { content: chat.choices[0].message.content, role: chat.choices[0].message.role, usage: chat.usage };

const stream = await client.chat.completions.create({
  model: 'tiny-gpt', temperature: 0, max_completion_tokens: 8, stream: true, stream_options: { include_usage: true },
  messages: [{ role: 'user', content: 'Hello there' }],
});
let streamed = '';
let finish = null;
let usage = null;
let chunks = 0;
for await (const chunk of stream) {
  chunks++;
  if (chunk.usage) usage = chunk.usage;
  for (const c of chunk.choices) {
    streamed += c.delta?.content ?? '';
    if (c.finish_reason) finish = c.finish_reason;
  }
}
out.stream = { content: streamed, finish_reason: finish, usage, chunks };

// The client asks for base64 by default and decodes it to floats itself.
const embedding = await client.embeddings.create({ model: 'tiny-embed', input: ['a short sentence', 'another one'] });
const v = embedding.data[0].embedding;
out.embeddings = { count: embedding.data.length, dims: v.length, norm: Math.sqrt(v.reduce((s, x) => s + x * x, 0)),
  usage: embedding.usage };

try {
  await client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] });
  out.error = { thrown: false };
} catch (e) {
  out.error = { thrown: true, name: e.constructor.name, status: e.status, type: e.type, code: e.code, message: e.message };
}

try {
  await client.completions.create({ model: 'tiny-gpt', prompt: 'x', temperature: 5 });
  out.badParam = { thrown: false };
} catch (e) {
  out.badParam = { thrown: true, name: e.constructor.name, status: e.status, param: e.param };
}

console.log(JSON.stringify(out));
