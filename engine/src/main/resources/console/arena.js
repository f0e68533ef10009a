// The arena: pick a category, enter an input fitting its kind (a prompt, texts, a KServe v2 request, or an image,
// WAV or MP4 file for image classifiers, audio and video functions), see the
// anonymous answers side by side (text generations stream in parallel over one POST /api/arena/battles stream whose
// events are labelled by model), rank them (ties allowed) or mark all bad, then the reveal. Nothing here knows which
// model is which until POST /api/arena/battles/{id}/vote answers.
import { get, send, parse, ApiFailure } from './api.js';
import { h, errorBox, usd, announce } from './ui.js';
import { exampleRequest } from './function.js';

const TENSOR_KINDS = ['tensor', 'classifier', 'regressor'];
const MEDIA_KINDS = ['image-classifier', 'audio', 'video'];
/** Per media kind: what the file picker accepts, its label, the empty-picker message and the input's field. */
const MEDIA_FILES = {
  'image-classifier': { accept: 'image/png,image/jpeg,image/webp', label: 'A PNG, JPEG or WebP image', missing: 'Pick an image.', field: 'image' },
  audio: { accept: 'audio/wav,.wav', label: 'A WAV clip', missing: 'Pick a WAV clip.', field: 'audio' },
  video: { accept: 'video/mp4,.mp4', label: 'An MP4 video (H.264)', missing: 'Pick an MP4 video.', field: 'video' },
};

/** Categories with at least two functions of one battle kind: [{category, kind, functions}]. */
function arenas(functions) {
  const groups = new Map();
  for (const f of functions) {
    if (!f.category) continue;
    const kind = TENSOR_KINDS.includes(f.kind) ? 'tensor' : f.kind;
    const key = `${f.category}\u0000${kind}`;
    if (!groups.has(key)) groups.set(key, { category: f.category, kind, functions: [] });
    groups.get(key).functions.push(f);
  }
  return [...groups.values()].filter(g => g.functions.length >= 2)
    .sort((a, b) => a.category.localeCompare(b.category) || a.kind.localeCompare(b.kind));
}

export async function arenaPage(main, [wanted, wantedKind]) {
  const all = (await get('/api/functions')).functions;
  const choices = arenas(all);
  const title = h('h1', { text: 'Arena' });
  if (!choices.length) {
    main.replaceChildren(title, h('p.muted', { text: 'No category has two functions of one kind to battle yet.' }));
    return null;
  }
  const chosen = choices.find(c => c.category === wanted && (!wantedKind || c.kind === wantedKind))
    || choices.find(c => c.category === wanted) || choices[0];
  const picker = h('select', { id: 'arena-category' }, choices.map(c => h('option', {
    value: `${c.category}/${c.kind}`, selected: c === chosen, text: `${c.category} · ${c.kind} (${c.functions.length})`,
  })));
  picker.addEventListener('change', () => { location.hash = `#/arena/${picker.value.split('/').map(encodeURIComponent).join('/')}`; });
  const intro = h('p.muted', { text: 'Two or three anonymous models answer the same input. Judge the answers, then see who they were.' });
  const state = h('b', { id: 'arena-state', 'data-testid': 'arena-state', text: 'ready' });
  const sides = h('div.arena-sides', { id: 'arena-sides' });
  const votes = h('div', { id: 'arena-vote' });
  const form = h('form', { id: 'arena-form' });
  const fight = h('button', { type: 'submit', id: 'fight', text: 'Fight' });
  const field = await inputFor(chosen);
  form.append(...field.elements, h('div.row', null, fight), h('p.stats', { 'aria-live': 'polite' }, 'State: ', state));
  main.replaceChildren(title, intro,
    h('div.row', null, h('div', null, h('label', { for: 'arena-category', text: 'Category' }), picker)),
    form, sides, votes);

  let controller = null;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (controller) return;
    let input;
    try {
      input = await field.read();
    } catch (err) {
      votes.replaceChildren(h('p.error', { role: 'alert', text: err.message }));
      return;
    }
    controller = new AbortController();
    fight.disabled = true;
    votes.replaceChildren();
    sides.replaceChildren();
    state.textContent = 'running';
    try {
      const stream = chosen.kind === 'text-generation';
      const res = await send('POST', '/api/arena/battles', { category: chosen.category, input, stream }, controller.signal);
      const battle = stream ? await streamed(res, sides, state) : render(chosen.kind, await parse(res), sides, input);
      state.textContent = 'vote';
      votes.replaceChildren(ballot(battle, sides, state));
      announce('Answers ready: rank them');
    } catch (err) {
      state.textContent = err.name === 'AbortError' ? 'stopped' : 'failed';
      if (err.name !== 'AbortError') votes.replaceChildren(errorBox(err));
    } finally {
      controller = null;
      fight.disabled = false;
    }
  });
  return () => controller && controller.abort();
}

/** The input form of a battle kind: its elements and a read() that returns the battle's input (or throws). */
async function inputFor(arena) {
  if (MEDIA_KINDS.includes(arena.kind)) {
    const media = MEDIA_FILES[arena.kind];
    const file = h('input', { id: 'arena-file', type: 'file', accept: media.accept, required: true });
    return {
      elements: [h('label', { for: 'arena-file', text: media.label }), file],
      read() {
        const picked = file.files[0];
        if (!picked) throw new Error(media.missing);
        // A data URL: the API takes it as base64 (the server checks type and size).
        return new Promise((resolve, reject) => {
          const reader = new FileReader();
          reader.onload = () => resolve({ [media.field]: reader.result });
          reader.onerror = () => reject(new Error('The file could not be read.'));
          reader.readAsDataURL(picked);
        });
      },
    };
  }
  if (arena.kind === 'text-generation') {
    const prompt = h('textarea', { id: 'arena-prompt', rows: 3, placeholder: 'Ask both models something…', required: true });
    const max = h('input', { id: 'arena-max-tokens', type: 'number', min: 1, max: 1024, placeholder: 'default' });
    const temperature = h('input', { id: 'arena-temperature', type: 'number', min: 0, max: 2, step: 0.1, placeholder: 'default' });
    return {
      elements: [h('label', { for: 'arena-prompt', text: 'Prompt' }), prompt,
        h('div.row', null, h('div', null, h('label', { for: 'arena-max-tokens', text: 'Max tokens' }), max),
          h('div', null, h('label', { for: 'arena-temperature', text: 'Temperature' }), temperature))],
      read() {
        const text = prompt.value.trim();
        if (!text) throw new Error('Enter a prompt.');
        const input = { messages: [{ role: 'user', content: text }] };
        if (max.value) input.max_tokens = Number(max.value);
        if (temperature.value) input.temperature = Number(temperature.value);
        return input;
      },
    };
  }
  if (arena.kind === 'embedding') {
    const texts = h('textarea', { id: 'arena-texts', rows: 5, 'aria-describedby': 'arena-texts-help' });
    texts.value = 'a cat sat on the mat\na kitten slept on a rug\nthe stock market fell\nshares dropped sharply';
    return {
      elements: [h('label', { for: 'arena-texts', text: 'Texts, one a line (2 to 16)' }), texts,
        h('p.muted', { id: 'arena-texts-help', text: 'Each model embeds them; judge which one finds the right neighbours.' })],
      read() {
        const list = texts.value.split('\n').map(s => s.trim()).filter(Boolean);
        if (list.length < 2 || list.length > 16) throw new Error('Enter 2 to 16 texts, one a line.');
        return { texts: list };
      },
    };
  }
  const first = arena.functions[0];
  const request = exampleRequest(first, await get(`/v2/models/${encodeURIComponent(first.name)}`).catch(() => null));
  const editor = h('textarea', { id: 'arena-input', rows: 8, spellcheck: 'false' });
  editor.value = JSON.stringify(request, null, 2);
  return {
    elements: [h('label', { for: 'arena-input', text: 'Request (KServe v2 JSON)' }), editor],
    read() {
      try {
        return JSON.parse(editor.value);
      } catch (e) {
        throw new Error(`The request is not valid JSON: ${e.message}`);
      }
    },
  };
}

function sideBox(id, label) {
  return h('section.panel.side', { 'data-side': id, 'aria-labelledby': `side-${id}` },
    h('h2', { id: `side-${id}`, text: label }), h('div.reveal', { 'data-testid': `reveal-${id}` }));
}

/** Reads the battle's event stream: deltas go to their side as they come; resolves with the battle at 'done'. */
async function streamed(res, sides, state) {
  if (!res.ok) await parse(res);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const texts = new Map();
  let buffer = '';
  state.textContent = 'streaming';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the battle stream ended early');
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      const body = data ? JSON.parse(data) : {};
      if (name === 'battle') {
        for (const m of body.models) {
          const box = sideBox(m.id, m.label);
          const text = h('div.answer', { 'data-testid': `answer-${m.id}`, 'aria-live': 'off' });
          box.querySelector('h2').after(text);
          texts.set(m.id, text);
          sides.append(box);
        }
      } else if (name === 'delta') {
        const text = texts.get(body.model);
        if (text) text.textContent += body.text;
      } else if (name === 'done') {
        for (const m of body.models) {
          if (m.finish_reason === 'length') texts.get(m.id).append(h('span.muted', { text: ' [cut at the token limit]' }));
        }
        reader.cancel().catch(() => {});
        return body;
      } else if (name === 'error') {
        throw new ApiFailure(body.status, body.error);
      }
    }
  }
}

/** Shows a JSON battle (embedding or tensor) side by side; returns it. */
function render(kind, battle, sides, input) {
  for (const m of battle.models) {
    const box = sideBox(m.id, m.label);
    const body = kind === 'embedding' ? similarity(battle.texts, m) : MEDIA_KINDS.includes(kind) ? predictions(m) : tensorOutputs(m);
    box.querySelector('h2').after(body);
    sides.append(box);
  }
  return battle;
}

function similarity(texts, side) {
  const short = (t) => (t.length > 28 ? `${t.slice(0, 27)}…` : t);
  const nearest = h('ol.nearest', { 'data-testid': `nearest-${side.id}` }, texts.map((t, i) => h('li', null,
    h('span', { text: short(t) }), ' → ', h('b', { text: short(texts[side.nearest[i]]) }),
    h('span.muted', { text: ` (${side.similarity[i][side.nearest[i]].toFixed(2)})` }))));
  const matrix = h('div.table-wrap', null, h('table.matrix', null,
    h('caption', { text: `${side.label}: cosine similarity` }),
    h('thead', null, h('tr', null, h('th', { scope: 'col', text: '' }), texts.map((_, j) => h('th.num', { scope: 'col', text: `#${j + 1}` })))),
    h('tbody', null, side.similarity.map((row, i) => h('tr', null, h('th', { scope: 'row', title: texts[i], text: `#${i + 1}` }),
      row.map(v => heat(h('td.num', { text: v.toFixed(2) }), v)))))));
  return h('div', null, h('h3', { text: 'Nearest text' }), nearest, matrix);
}

/** A cell's background, stronger for closer texts; set through CSSOM (the CSP refuses style attributes). */
function heat(cell, v) {
  cell.style.backgroundColor = `rgba(31, 79, 209, ${(Math.max(0, Math.min(1, v)) * 0.45).toFixed(2)})`;
  return cell;
}

function predictions(side) {
  return h('ol.predictions', { 'data-testid': `predictions-${side.id}` }, side.predictions.map(p => h('li', null,
    h('b', { text: p.label }), h('span.muted', { text: p.score === null ? '' : ` ${p.score.toFixed(3)}` }))));
}

function tensorOutputs(side) {
  return h('div', null, side.outputs.map(o => h('div', null, h('b', { text: `${o.name} ${o.datatype} [${o.shape.join(', ')}]` }),
    h('pre', null, h('code', { text: JSON.stringify(o.data.slice(0, 32)) + (o.data.length > 32 ? ' …' : '') })))));
}

/** The vote: a rank per side (ties allowed) or all bad; then the reveal in each side's box. */
function ballot(battle, sides, state) {
  const n = battle.models.length;
  const selects = battle.models.map((m, i) => {
    const select = h('select', { id: `rank-${m.id}`, 'data-testid': `rank-${m.id}` },
      Array.from({ length: n }, (_, r) => h('option', { value: r + 1, selected: r === i, text: `${r + 1}${r === 0 ? ' (best)' : ''}` })));
    return h('div', null, h('label', { for: `rank-${m.id}`, text: `${m.label} rank` }), select);
  });
  const submit = h('button', { type: 'submit', id: 'vote', text: 'Vote' });
  const bad = h('button.secondary', { type: 'button', id: 'all-bad', text: 'All bad' });
  const message = h('div', { 'aria-live': 'assertive' });
  const form = h('form.panel', { id: 'ballot' }, h('h2', { text: 'Your verdict' }),
    h('p.muted', { text: 'Give each model a rank; equal ranks are a tie.' }),
    h('div.row', null, ...selects, submit, bad), message);
  const cast = async (body) => {
    submit.disabled = true;
    bad.disabled = true;
    try {
      const result = await parse(await send('POST', `/api/arena/battles/${encodeURIComponent(battle.id)}/vote`, body));
      reveal(result, sides);
      form.replaceChildren(h('p', { 'data-testid': 'voted', text: result.all_bad ? 'Marked all bad. Thank you.' : 'Vote counted. Thank you.' }));
      state.textContent = 'revealed';
      announce('Vote counted; the models are revealed');
    } catch (err) {
      message.replaceChildren(errorBox(err));
      submit.disabled = false;
      bad.disabled = false;
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const ranking = {};
    battle.models.forEach((m, i) => { ranking[m.id] = Number(selects[i].querySelector('select').value); });
    cast({ ranking });
  });
  bad.addEventListener('click', () => cast({ all_bad: true }));
  return form;
}

function reveal(result, sides) {
  for (const [label, who] of Object.entries(result.models)) {
    const box = sides.querySelector(`[data-side="${label}"] .reveal`);
    if (!box) continue;
    box.replaceChildren(h('p', null,
      h('a', { href: `#/fn/${encodeURIComponent(who.function)}`, 'data-testid': 'revealed-name', text: who.function }),
      ` v${who.version}`, who.rank ? ` · rank ${who.rank}` : '',
      who.charge_micro_usd !== undefined ? ` · ${usd(who.charge_micro_usd)}` : '',
      who.completion_tokens !== undefined ? ` · ${who.completion_tokens} tokens` : ''));
  }
}
