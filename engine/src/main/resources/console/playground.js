// The playground. Tensor functions: a form built from the input metadata (GET /v2/models/{name}) feeding a JSON
// editor, sent to POST /v2/models/{name}/infer; latency, verdict and charge come from the answer's headers.
// Text generation: a chat streamed token by token from POST /v1/chat/completions (fetch + ReadableStream), with a
// Stop button that aborts the request. Embeddings: vectors and their cosine similarity matrix.
import { get, send, parse } from './api.js';
import { h, errorBox, usd, table, announce } from './ui.js';
import { exampleRequest } from './function.js';

export async function playgroundPage(main, [name]) {
  const fn = await get(`/api/functions/${encodeURIComponent(name)}`);
  const header = [h('p', null, h('a', { href: `#/fn/${encodeURIComponent(name)}`, text: `← ${name}` })),
    h('h1', { text: `Playground: ${name}` })];
  if (fn.kind === 'text-generation') return chat(main, header, fn);
  if (fn.kind === 'embedding') return embeddings(main, header, fn);
  return tensor(main, header, fn, await get(`/v2/models/${encodeURIComponent(name)}`));
}

function stat(label, id) {
  return h('span', null, `${label}: `, h('b', { id, 'data-testid': id, text: '—' }));
}

function tensor(main, header, fn, meta) {
  const request = exampleRequest(fn, meta);
  const editor = h('textarea', { id: 'request', rows: 10, spellcheck: 'false', 'aria-describedby': 'request-help' });
  editor.value = JSON.stringify(request, null, 2);
  const fields = meta.inputs.map((t, i) => {
    const given = request.inputs.find(x => x.name === t.name) || { shape: t.shape, data: [] };
    const shape = h('input', { id: `shape-${i}`, value: given.shape.join(','), inputmode: 'numeric' });
    const data = h('textarea', { id: `data-${i}`, rows: 2, spellcheck: 'false' });
    data.value = given.data.join(', ');
    const sync = () => {
      try {
        const body = JSON.parse(editor.value);
        const entry = body.inputs.find(x => x.name === t.name);
        entry.shape = shape.value.split(',').map(s => Number(s.trim()));
        entry.data = data.value.split(',').map(s => s.trim()).filter(s => s !== '')
          .map(s => (t.datatype === 'BYTES' ? s : t.datatype === 'BOOL' ? s === 'true' : Number(s)));
        editor.value = JSON.stringify(body, null, 2);
      } catch (e) {
        // The JSON editor holds something else now; it wins.
      }
    };
    shape.addEventListener('input', sync);
    data.addEventListener('input', sync);
    return h('fieldset.panel', null, h('legend', { text: `${t.name} · ${t.datatype} [${t.shape.join(', ')}]` }),
      h('label', { for: `shape-${i}`, text: 'Shape' }), shape,
      h('label', { for: `data-${i}`, text: 'Values (comma-separated, row-major)' }), data);
  });
  const run = h('button', { type: 'submit', id: 'run', text: 'Run' });
  const stats = h('div.stats', { 'aria-live': 'polite' },
    stat('Latency', 'latency'), stat('Compute', 'compute'), stat('Queue', 'queue'),
    stat('Verdict', 'verdict'), stat('Charge', 'charge'));
  const output = h('div', { id: 'output' });
  const form = h('form', { id: 'tensor-form' },
    h('div.grid2', null, h('div', null, h('h2', { text: 'Inputs' }), fields),
      h('div', null, h('h2', null, h('label', { for: 'request', text: 'Request (JSON)' })), editor,
        h('p.muted', { id: 'request-help', text: 'The form writes this KServe v2 request; edit it directly if you like.' }))),
    h('div.row', null, run), stats, output);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let body;
    try {
      body = JSON.parse(editor.value);
    } catch (e) {
      output.replaceChildren(h('p.error', { role: 'alert', text: `The request is not valid JSON: ${e.message}` }));
      return;
    }
    run.disabled = true;
    const started = performance.now();
    try {
      const res = await send('POST', `/v2/models/${encodeURIComponent(fn.name)}/infer`, body);
      const ms = performance.now() - started;
      const headers = res.headers;
      const answer = await parse(res);
      document.getElementById('latency').textContent = `${ms.toFixed(1)} ms`;
      const us = headers.get('X-Inferium-Compute-Us');
      document.getElementById('compute').textContent = us ? `${(Number(us) / 1000).toFixed(2)} ms` : '—';
      const queue = headers.get('X-Inferium-Queue-Ms');
      document.getElementById('queue').textContent = queue ? `${queue} ms` : '—';
      document.getElementById('verdict').textContent = headers.get('X-Inferium-Verdict') || 'not verified (no policy)';
      const charge = headers.get('X-Inferium-Charge-Micro-Usd');
      document.getElementById('charge').textContent = charge === null ? '—'
        : `${usd(charge)}${headers.get('X-Inferium-Billed') === 'false' ? ' (not billed)' : ''}`;
      output.replaceChildren(h('h2', { text: 'Outputs' }), table(answer.outputs, [
        { key: 'name', label: 'Name' }, { key: 'datatype', label: 'Type' },
        { key: 'shape', label: 'Shape', format: r => `[${r.shape.join(', ')}]` },
        { key: 'data', label: 'Values', format: r => h('code', { 'data-testid': 'output-values', text: preview(r.data) + labelled(fn, r) }) }],
      'Outputs'));
      announce('Inference done');
    } catch (err) {
      output.replaceChildren(errorBox(err));
    } finally {
      run.disabled = false;
    }
  });
  main.replaceChildren(...header, form);
}

/** A classifier's label indices with their names. */
function labelled(fn, output) {
  if (!fn.labels || !fn.labels.length || !output.datatype.startsWith('INT') || output.data.length > 32) return '';
  return ` (${output.data.map(i => fn.labels[i] ?? '?').join(', ')})`;
}

function preview(data) {
  const shown = data.slice(0, 32).map(v => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(5)) : v));
  return JSON.stringify(shown) + (data.length > 32 ? ` … (${data.length} values)` : '');
}

function chat(main, header, fn) {
  const log = h('div.chat', { id: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation' });
  const prompt = h('textarea', { id: 'prompt', rows: 3, placeholder: 'Say something…' });
  const maxTokens = h('input', { id: 'max-tokens', type: 'number', min: 1, max: 4096, value: 48 });
  const temperature = h('input', { id: 'temperature', type: 'number', min: 0, max: 2, step: 0.1, value: 0.7 });
  const sendButton = h('button', { type: 'submit', id: 'send', text: 'Send' });
  const stop = h('button.secondary', { type: 'button', id: 'stop', disabled: true, text: 'Stop' });
  const stats = h('div.stats', { 'aria-live': 'polite' },
    stat('First token', 'ttft'), stat('Latency', 'latency'), stat('Tokens', 'tokens'), stat('State', 'chat-state'));
  const messages = [];
  let controller = null;

  const form = h('form', { id: 'chat-form' }, log,
    h('label', { for: 'prompt', text: 'Message' }), prompt,
    h('div.row', null,
      h('div', null, h('label', { for: 'max-tokens', text: 'Max tokens' }), maxTokens),
      h('div', null, h('label', { for: 'temperature', text: 'Temperature' }), temperature),
      sendButton, stop), stats);
  stop.addEventListener('click', () => controller && controller.abort());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = prompt.value.trim();
    if (!text || controller) return;
    prompt.value = '';
    messages.push({ role: 'user', content: text });
    log.append(h('div.msg.user', { text }));
    const reply = h('div.msg.assistant', { 'data-testid': 'reply' });
    log.append(reply);
    controller = new AbortController();
    sendButton.disabled = true;
    stop.disabled = false;
    document.getElementById('chat-state').textContent = 'streaming';
    const started = performance.now();
    let first = null;
    let tokens = 0;
    let content = '';
    try {
      const res = await send('POST', '/v1/chat/completions', {
        model: fn.name, messages, stream: true, stream_options: { include_usage: true },
        max_tokens: Number(maxTokens.value) || 48, temperature: Number(temperature.value),
      }, controller.signal);
      if (!res.ok) await parse(res);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          for (const line of event.split('\n')) {
            if (!line.startsWith('data:')) continue;
            const data = line.slice(5).trim();
            if (data === '[DONE]') continue;
            const chunk = JSON.parse(data);
            if (chunk.error) throw new Error(chunk.error.message || 'the stream failed');
            const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
            if (delta && delta.content) {
              if (first === null) {
                first = performance.now() - started;
                document.getElementById('ttft').textContent = `${first.toFixed(0)} ms`;
              }
              content += delta.content;
              reply.textContent = content;
              tokens += 1;
              document.getElementById('tokens').textContent = String(tokens);
            }
            if (chunk.usage) document.getElementById('tokens').textContent = String(chunk.usage.completion_tokens);
          }
        }
      }
      document.getElementById('chat-state').textContent = 'done';
    } catch (err) {
      if (err.name === 'AbortError') {
        document.getElementById('chat-state').textContent = 'stopped';
        reply.append(h('span.muted', { text: ' [stopped]' }));
      } else {
        document.getElementById('chat-state').textContent = 'failed';
        reply.after(errorBox(err));
      }
    } finally {
      messages.push({ role: 'assistant', content });
      document.getElementById('latency').textContent = `${(performance.now() - started).toFixed(0)} ms`;
      controller = null;
      sendButton.disabled = false;
      stop.disabled = true;
      log.scrollTop = log.scrollHeight;
    }
  });
  main.replaceChildren(...header, form);
  prompt.focus();
  return () => controller && controller.abort();
}

function embeddings(main, header, fn) {
  const input = h('textarea', { id: 'texts', rows: 4 });
  input.value = 'a cat sat on the mat\na kitten on a rug\nthe stock market fell';
  const out = h('div', { id: 'output' });
  const form = h('form', { id: 'embed-form' },
    h('label', { for: 'texts', text: 'Texts, one a line' }), input,
    h('div.row', null, h('button', { type: 'submit', id: 'run', text: 'Embed' })), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const texts = input.value.split('\n').map(s => s.trim()).filter(Boolean).slice(0, 16);
    try {
      const started = performance.now();
      const answer = await parse(await send('POST', '/v1/embeddings', { model: fn.name, input: texts }));
      const ms = performance.now() - started;
      const vectors = answer.data.map(d => d.embedding);
      const rows = texts.map((t, i) => {
        const row = { text: t };
        texts.forEach((_, j) => { row[`c${j}`] = cosine(vectors[i], vectors[j]).toFixed(3); });
        return row;
      });
      out.replaceChildren(h('p.stats', null, `Latency: ${ms.toFixed(0)} ms · ${vectors[0].length} dimensions`),
        h('h2', { text: 'Cosine similarity' }),
        table(rows, [{ key: 'text', label: 'Text' }, ...texts.map((t, j) => ({ key: `c${j}`, label: `#${j + 1}`, num: true }))],
          'Cosine similarity'));
    } catch (err) {
      out.replaceChildren(errorBox(err));
    }
  });
  main.replaceChildren(...header, form);
}

function cosine(a, b) {
  let dot = 0; let na = 0; let nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return dot / (Math.sqrt(na * nb) || 1);
}
