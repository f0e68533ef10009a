// DOM helpers. Everything from the API (names, descriptions, outputs) is set as text, never as HTML.

/** h('div.card', {attrs}, children...): an element; class names after dots, strings become text nodes. */
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(' ');
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'text') el.textContent = v;
      else if (k in el && k !== 'list' && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function announce(text) {
  const s = document.getElementById('status');
  if (s) s.textContent = text;
}

export function errorBox(err) {
  return h('p.error', { role: 'alert' }, err && err.status ? `${err.status}: ${err.message}` : String(err && err.message || err));
}

/** A micro-USD amount as dollars. */
export function usd(micro) {
  if (micro === null || micro === undefined) return '—';
  const d = Number(micro) / 1e6;
  return d === 0 ? '$0' : d < 0.01 ? `$${d.toPrecision(2)}` : `$${d.toFixed(4)}`;
}

/** The price as the caller pays it; token prices only for the kinds that count tokens. */
export function priceText(price, kind) {
  if (!price) return 'free';
  const tokens = !kind || kind === 'text-generation' || kind === 'embedding';
  const parts = [];
  if (price.per_request_micro_usd) parts.push(`${usd(price.per_request_micro_usd)}/request`);
  if (price.per_compute_ms_micro_usd) parts.push(`${usd(price.per_compute_ms_micro_usd)}/compute ms`);
  if (tokens && price.per_1k_tokens_micro_usd) parts.push(`${usd(price.per_1k_tokens_micro_usd)}/1k tokens`);
  return parts.length ? parts.join(' + ') : 'free';
}

/** The per-request price used for sorting. */
export function priceValue(price, kind) {
  if (!price) return 0;
  const tokens = kind === 'text-generation' || kind === 'embedding' ? price.per_1k_tokens_micro_usd || 0 : 0;
  return (price.per_request_micro_usd || 0) + (price.per_compute_ms_micro_usd || 0) * 10 + tokens;
}

export function policyText(v) {
  if (!v || !v.policy || v.policy === 'none') return 'no verification';
  if (v.policy === 'redundant') return `redundant ×${v.k}`;
  if (v.policy === 'audit') return `audit ${Math.round((v.p || 0) * 100)} %`;
  return v.policy;
}

/** A table of rows (objects) with the given columns: [{key, label, num, format}]. */
export function table(rows, columns, caption) {
  return h('div.table-wrap', null, h('table', null,
    caption ? h('caption.sr-only', { text: caption }) : null,
    h('thead', null, h('tr', null, columns.map(c => h(c.num ? 'th.num' : 'th', { scope: 'col', text: c.label })))),
    h('tbody', null, rows.map(r => h('tr', null, columns.map(c => {
      const v = c.format ? c.format(r) : r[c.key];
      return h(c.num ? 'td.num' : 'td', null, v instanceof Node ? v : (v === null || v === undefined ? '—' : String(v)));
    }))))));
}

/** A code block with a copy button. */
export function snippet(title, code) {
  const pre = h('pre', null, h('code', { text: code }));
  const button = h('button.secondary', { type: 'button', 'aria-label': `Copy ${title}`, text: 'Copy' });
  button.addEventListener('click', () => {
    const done = () => { button.textContent = 'Copied'; setTimeout(() => { button.textContent = 'Copy'; }, 1500); };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(code).then(done, () => { button.textContent = 'Select and copy'; });
    }
  });
  return h('div.snippet', null, h('h3', { text: title }), pre, button);
}
