// A function's page: GET /api/functions/{name} (spec, versions, verification report), GET /v2/models/{name}
// (inputs and outputs of a ready tensor function), its benchmark runs as charts (runs.js), its ratings and a form to
// rate it (ratings.js), and snippets to call it.
import { get } from './api.js';
import { h, priceText, policyText, snippet, table, errorBox } from './ui.js';
import { ratingsSection } from './ratings.js';
import { runsSection } from './runs.js';

const TEXT_KINDS = ['text-generation', 'embedding'];

export async function functionPage(main, [name]) {
  const fn = await get(`/api/functions/${encodeURIComponent(name)}`);
  let meta = null;
  if (!TEXT_KINDS.includes(fn.kind) && fn.state === 'ready') {
    meta = await get(`/v2/models/${encodeURIComponent(name)}`);
  }
  const origin = location.origin;
  const ratings = ratingsSection(fn.name);
  const runs = runsSection(fn.name);
  main.replaceChildren(
    h('p', null, h('a', { href: '#/store', text: '← Store' })),
    h('h1', { text: fn.name }),
    fn.description ? h('p', { text: fn.description }) : null,
    h('div.row', null,
      fn.state === 'ready' ? h('a.button', { href: `#/play/${encodeURIComponent(fn.name)}`, id: 'try', text: 'Try it in the playground' }) : null),
    h('div.grid2', null,
      h('section', { 'aria-labelledby': 'about' }, h('h2', { id: 'about', text: 'About' }),
        h('dl.props', null,
          h('dt', { text: 'Kind' }), h('dd', { text: fn.kind }),
          h('dt', { text: 'Category' }), h('dd', { text: fn.category || '—' }),
          h('dt', { text: 'Developer' }), h('dd', { text: fn.developer || fn.owner || 'platform' }),
          h('dt', { text: 'Visibility' }), h('dd', { text: fn.visibility }),
          h('dt', { text: 'State' }), h('dd', { text: fn.state + (fn.state_reason ? ` (${fn.state_reason})` : '') }),
          h('dt', { text: 'Price' }), h('dd', { 'data-testid': 'price', text: priceText(fn.price, fn.kind) }),
          h('dt', { text: 'Verification' }), h('dd', { text: policyText(fn.verification_policy) }),
          h('dt', { text: 'Timeout' }), h('dd', { text: `${fn.timeout_ms} ms` }),
          h('dt', { text: 'Use cases' }), h('dd', { text: (fn.use_cases || []).join(', ') || '—' }),
          fn.labels && fn.labels.length ? h('dt', { text: 'Labels' }) : null,
          fn.labels && fn.labels.length ? h('dd', { text: fn.labels.join(', ') }) : null,
          h('dt', { text: 'Model' }), h('dd', null, h('code', { text: `${(fn.model && fn.model.sha256 || '').slice(0, 16)}…` }),
            ` ${fn.model ? Math.round(fn.model.bytes / 1024) : 0} KiB`))),
      h('section', { 'aria-labelledby': 'io' }, h('h2', { id: 'io', text: 'Inputs and outputs' }),
        meta ? [
          table(meta.inputs, tensorColumns(), 'Inputs'),
          h('p.muted', { text: 'Outputs' }),
          table(meta.outputs, tensorColumns(), 'Outputs')]
          : h('p', { text: fn.kind === 'text-generation' ? 'Text in (a prompt or chat messages), text out, OpenAI-compatible.'
            : fn.kind === 'embedding' ? 'Text in, a vector out, OpenAI-compatible.' : 'Not ready: no signature to show.' }))),
    h('section', { 'aria-labelledby': 'versions' }, h('h2', { id: 'versions', text: 'Versions' }),
      table(fn.versions || [], [{ key: 'version', label: 'Version', num: true }, { key: 'state', label: 'State' }], 'Versions')),
    h('section', { 'aria-labelledby': 'report' }, h('h2', { id: 'report', text: 'Verification report (at deploy)' }),
      report(fn.verification)),
    runs.section,
    ratings.section,
    h('section', { 'aria-labelledby': 'snippets' }, h('h2', { id: 'snippets', text: 'Call it' }),
      snippets(fn, meta, origin)));
  // Both below the fold: one failing shows its error in place, the page stays.
  await Promise.all([runs.load().catch(err => runs.section.append(errorBox(err))),
    ratings.load().catch(err => ratings.section.append(errorBox(err)))]);
}

function tensorColumns() {
  return [{ key: 'name', label: 'Name' }, { key: 'datatype', label: 'Type' },
    { key: 'shape', label: 'Shape', format: r => `[${r.shape.join(', ')}]` }];
}

/** The deploy-time report: its checks as a list when it has them, the rest as JSON. */
function report(r) {
  if (!r || Object.keys(r).length === 0) return h('p.muted', { text: 'No report.' });
  return h('pre', { 'data-testid': 'report', text: JSON.stringify(r, null, 2) });
}

function snippets(fn, meta, origin) {
  const name = fn.name;
  if (fn.kind === 'text-generation') {
    return [
      snippet('curl', `curl -N ${origin}/v1/chat/completions \\\n  -H "Authorization: Bearer $INFERIUM_KEY" -H "Content-Type: application/json" \\\n  -d '{"model": "${name}", "stream": true, "messages": [{"role": "user", "content": "Hello"}]}'`),
      snippet('Python (openai)', `from openai import OpenAI\n\nclient = OpenAI(base_url="${origin}/v1", api_key=os.environ["INFERIUM_KEY"])\nfor chunk in client.chat.completions.create(\n        model="${name}", stream=True,\n        messages=[{"role": "user", "content": "Hello"}]):\n    print(chunk.choices[0].delta.content or "", end="")`),
    ];
  }
  if (fn.kind === 'embedding') {
    return [
      snippet('curl', `curl ${origin}/v1/embeddings \\\n  -H "Authorization: Bearer $INFERIUM_KEY" -H "Content-Type: application/json" \\\n  -d '{"model": "${name}", "input": ["a cat", "a dog"]}'`),
      snippet('Python (openai)', `from openai import OpenAI\n\nclient = OpenAI(base_url="${origin}/v1", api_key=os.environ["INFERIUM_KEY"])\nvectors = client.embeddings.create(model="${name}", input=["a cat", "a dog"])`),
    ];
  }
  const body = JSON.stringify(exampleRequest(fn, meta));
  return [
    snippet('curl (KServe v2)', `curl ${origin}/v2/models/${name}/infer \\\n  -H "Authorization: Bearer $INFERIUM_KEY" -H "Content-Type: application/json" \\\n  -d '${body}'`),
    snippet('Python (KServe v2 over HTTP)', `import os, requests\n\nresp = requests.post("${origin}/v2/models/${name}/infer",\n    headers={"Authorization": "Bearer " + os.environ["INFERIUM_KEY"]},\n    json=${body})\nprint(resp.json()["outputs"], resp.headers.get("X-Inferium-Charge-Micro-Usd"))`),
  ];
}

/** A V2 request for the function: its first shipped example, else zeros shaped like its inputs. */
export function exampleRequest(fn, meta) {
  if (fn.examples && fn.examples.length) return fn.examples[0];
  const inputs = (meta ? meta.inputs : []).map(t => {
    const shape = t.shape.map(d => (d < 0 ? 1 : d));
    const n = shape.reduce((a, b) => a * b, 1);
    const zero = t.datatype === 'BYTES' ? '' : t.datatype === 'BOOL' ? false : 0;
    return { name: t.name, datatype: t.datatype, shape, data: Array(Math.min(n, 4096)).fill(zero) };
  });
  return { inputs };
}
