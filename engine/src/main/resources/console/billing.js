// Usage and billing: usage per day (an SVG bar chart) and by function (GET /api/usage?group_by=day|function),
// invoices with their lines and a CSV download (GET /api/invoices, /api/invoices/{id}[?format=csv]), and for a
// developer the earnings, contest credits and settlements (GET /api/earnings) and the payout address
// (PUT /api/payout-address).
import { get, send, parse, call } from './api.js';
import { h, table, usd, errorBox, announce } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';

export async function usagePage(main, args, me) {
  const admin = me.role === 'admin';
  let tenant = '';
  const now = new Date();
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const from = h('input', { id: 'usage-from', type: 'date', value: isoDay(new Date(now.getTime() - 29 * 86400000)) });
  const to = h('input', { id: 'usage-to', type: 'date', value: isoDay(now) });
  const holder = h('div', { id: 'usage' });
  const billing = h('div', { id: 'billing' });
  const earnings = h('div', { id: 'earnings' });

  async function loadUsage() {
    const t = tenant ? `&tenant=${encodeURIComponent(tenant)}` : '';
    const range = rangeQuery(from.value, to.value);
    const [byDay, byFn] = await Promise.all([get(`/api/usage?group_by=day${range}${t}`), get(`/api/usage?group_by=function${range}${t}`)]);
    const rows = byFn.groups || [];
    holder.replaceChildren(
      h('p.muted', null, `Tenant: ${byFn.tenant || (admin ? 'all' : me.tenant_id)} · ${byFn.from.slice(0, 10)} to ${byFn.to.slice(0, 10)}`),
      h('p.stats', null, h('span', null, 'Requests: ', h('b', { id: 'usage-requests', text: String(byFn.requests ?? 0) })),
        h('span', null, 'Charges: ', h('b', { id: 'usage-charge', text: usd(byFn.charge_micro_usd ?? 0) }))),
      h('h2', { id: 'per-day', text: 'Per day' }),
      chart(days(byDay.groups || [], byDay.from, byDay.to)),
      h('h2', { id: 'by-function', text: 'By function' }),
      rows.length ? table(rows, [
        { key: 'function', label: 'Function' },
        { key: 'requests', label: 'Requests', num: true },
        { key: 'units', label: 'Units', num: true },
        { key: 'compute_us', label: 'Compute (ms)', num: true, format: r => (r.compute_us / 1000).toFixed(1) },
        { key: 'charge_micro_usd', label: 'Charge', num: true, format: r => usd(r.charge_micro_usd) },
      ], 'Usage by function') : h('p.muted', { text: 'No usage in this period.' }));
  }

  async function loadInvoices() {
    if (admin && !tenant) {
      billing.replaceChildren(h('p.muted', { text: 'Name a tenant to see its invoices.' }));
      return;
    }
    const q = admin ? `?tenant=${encodeURIComponent(tenant)}` : '';
    const list = (await get(`/api/invoices${q}`)).invoices || [];
    if (!list.length) {
      billing.replaceChildren(h('p.muted', { text: 'No invoices yet.' }));
      return;
    }
    billing.replaceChildren(h('ul.invoices', null, list.map(inv => invoiceItem(inv, q))));
  }

  async function load() {
    await Promise.all([loadUsage(), loadInvoices()]);
  }
  const reload = () => load().catch(err => holder.replaceChildren(errorBox(err)));
  from.addEventListener('change', reload);
  to.addEventListener('change', reload);
  const filters = h('div.row.range', null,
    h('div', null, h('label', { for: 'usage-from', text: 'From' }), from),
    h('div', null, h('label', { for: 'usage-to', text: 'To' }), to));
  if (admin) {
    const input = h('input', { id: 'usage-tenant', placeholder: 'all tenants' });
    input.addEventListener('change', () => { tenant = input.value.trim(); reload(); });
    filters.append(h('div', null, h('label', { for: 'usage-tenant', text: 'Tenant' }), input));
  }
  main.replaceChildren(h('h1', { text: 'Usage and billing' }), filters, holder,
    h('section', { 'aria-labelledby': 'invoices-h' }, h('h2', { id: 'invoices-h', text: 'Invoices' }), billing));
  if (me.role === 'developer') {
    main.append(h('section', { 'aria-labelledby': 'earnings-h' }, h('h2', { id: 'earnings-h', text: 'Earnings' }), earnings));
  }
  const work = [load()];
  if (me.role === 'developer') work.push(loadEarnings(earnings, isoTime(monthStart)));
  await Promise.all(work);
}

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

function isoTime(d) {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The date inputs as from/to query parameters: whole UTC days, 'to' inclusive. */
function rangeQuery(fromDay, toDay) {
  let q = '';
  if (fromDay) q += `&from=${fromDay}T00:00:00Z`;
  if (toDay) {
    const end = new Date(`${toDay}T00:00:00Z`).getTime() + 86400000;
    q += `&to=${encodeURIComponent(isoTime(new Date(Math.min(end, Date.now() + 1000))))}`;
  }
  return q;
}

/** One bar a day from 'from' to 'to', days without usage at zero. */
function days(groups, from, to) {
  const byDay = new Map(groups.map(g => [String(g.day).slice(0, 10), g]));
  const out = [];
  const end = new Date(to).getTime();
  for (let t = Date.parse(`${from.slice(0, 10)}T00:00:00Z`); t < end && out.length < 400; t += 86400000) {
    const day = new Date(t).toISOString().slice(0, 10);
    const g = byDay.get(day);
    out.push({ day, requests: g ? g.requests : 0, charge: g ? g.charge_micro_usd : 0 });
  }
  return out;
}

/** Requests per day as SVG bars (scales with its box), with a text table for screen readers. */
function chart(points) {
  if (!points.length) return h('p.muted', { text: 'No days in this range.' });
  const W = 600;
  const H = 160;
  const pad = 24;
  const max = Math.max(1, ...points.map(p => p.requests));
  const bw = (W - pad) / points.length;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H + 18}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('id', 'usage-chart');
  const total = points.reduce((a, p) => a + p.requests, 0);
  svg.setAttribute('aria-label', `Requests per day, ${points[0].day} to ${points[points.length - 1].day}: ${total} in all, at most ${max} a day`);
  const el = (name, attrs, text) => {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  el('line', { x1: pad, y1: H, x2: W, y2: H, class: 'axis' });
  el('text', { x: 0, y: 10, class: 'label' }, String(max));
  el('text', { x: 0, y: H, class: 'label' }, '0');
  points.forEach((p, i) => {
    const bh = Math.round((H - 8) * p.requests / max);
    const bar = el('rect', { x: (pad + i * bw + 1).toFixed(1), y: H - bh, width: Math.max(1, bw - 2).toFixed(1), height: bh,
      class: 'bar', 'data-day': p.day, 'data-requests': p.requests });
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${p.day}: ${p.requests} requests, ${usd(p.charge)}`;
    bar.append(title);
  });
  el('text', { x: pad, y: H + 15, class: 'label' }, points[0].day);
  el('text', { x: W, y: H + 15, class: 'label end' }, points[points.length - 1].day);
  const active = points.filter(p => p.requests > 0);
  return h('figure.chart-box', null, svg,
    h('details', null, h('summary', { text: 'As a table' }), active.length ? table(active, [
      { key: 'day', label: 'Day' }, { key: 'requests', label: 'Requests', num: true },
      { key: 'charge', label: 'Charge', num: true, format: r => usd(r.charge) }], 'Requests per day') : h('p.muted', { text: 'No requests.' })));
}

function invoiceItem(inv, q) {
  const lines = h('div', { 'data-testid': `invoice-lines-${inv.id}` });
  const toggle = h('button.secondary', { type: 'button', 'aria-expanded': 'false', text: 'Lines' });
  toggle.addEventListener('click', async () => {
    const open = toggle.getAttribute('aria-expanded') === 'true';
    toggle.setAttribute('aria-expanded', String(!open));
    if (open) {
      lines.replaceChildren();
      return;
    }
    try {
      const full = await get(`/api/invoices/${encodeURIComponent(inv.id)}${q}`);
      const rows = full.lines || [];
      lines.replaceChildren(rows.length ? table(rows, lineColumns(rows), `Invoice ${inv.id}`) : h('p.muted', { text: 'No lines.' }));
    } catch (err) {
      lines.replaceChildren(errorBox(err));
    }
  });
  const csv = h('button.secondary', { type: 'button', 'data-testid': 'invoice-csv', text: 'Download CSV' });
  csv.addEventListener('click', async () => {
    try {
      // The session cookie authenticates the GET; the answer is offered as a file from a blob.
      const res = await send('GET', `/api/invoices/${encodeURIComponent(inv.id)}${q}${q ? '&' : '?'}format=csv`);
      if (!res.ok) await parse(res);
      const url = URL.createObjectURL(await res.blob());
      const a = h('a', { href: url, download: `${inv.id}.csv`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      announce(`Downloaded ${inv.id}.csv`);
    } catch (err) {
      lines.replaceChildren(errorBox(err));
    }
  });
  return h('li.panel.invoice', { 'data-id': inv.id },
    h('div.row.spread', null, h('b', { text: inv.period || inv.id }),
      h('span', null, `${inv.requests ?? 0} requests · `, h('b', { text: usd(inv.total_micro_usd) })),
      h('span.row', null, toggle, csv)), lines);
}

function lineColumns(rows) {
  const keys = [...new Set(rows.flatMap(r => Object.keys(r)))].filter(k => rows.every(r => typeof r[k] !== 'object' || r[k] === null));
  return keys.map(k => ({ key: k, label: k.replace(/_micro_usd$/, '').replace(/_us$/, ' (µs)').replace(/_/g, ' '),
    num: typeof rows[0][k] === 'number', format: k.endsWith('micro_usd') ? r => usd(r[k]) : undefined }));
}

async function loadEarnings(box, from) {
  const e = await get(`/api/earnings?from=${encodeURIComponent(from)}`);
  const fns = e.functions || [];
  const credits = e.credits || [];
  const settlements = e.settlements || [];
  const address = h('input', { id: 'payout-address', value: e.payout_address || '', placeholder: '0x…', autocomplete: 'off',
    spellcheck: 'false', pattern: '0x[0-9a-fA-F]{40}', 'aria-describedby': 'payout-help' });
  const message = h('div', { 'aria-live': 'polite' });
  const form = h('form.panel.payout', { id: 'payout-form', novalidate: true },
    h('label', { for: 'payout-address', text: 'Payout address' }), address,
    h('p.muted', { id: 'payout-help', text: 'The EVM address the PayoutDistributor pays this tenant (0x and 40 hex digits).' }),
    h('button', { type: 'submit', text: 'Save address' }), message);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = address.value.trim();
    if (!/^0x[0-9a-fA-F]{40}$/.test(value)) {
      message.replaceChildren(h('p.error', { role: 'alert', text: 'Expected 0x followed by 40 hex digits.' }));
      return;
    }
    try {
      const { data } = await call('PUT', '/api/payout-address', { address: value });
      message.replaceChildren(h('p', { 'data-testid': 'payout-saved', text: `Saved: ${data.address}` }));
      announce('Payout address saved');
    } catch (err) {
      message.replaceChildren(errorBox(err));
    }
  });
  box.replaceChildren(
    h('p.stats', null,
      h('span', null, 'Earned: ', h('b', { id: 'earned', text: usd(e.earned_micro_usd ?? 0) })),
      h('span', null, 'Contest credits: ', h('b', { text: usd(e.credited_micro_usd ?? 0) })),
      h('span', null, 'Total this month: ', h('b', { text: usd(e.total_micro_usd ?? 0) }))),
    h('h3', { text: 'By function' }),
    fns.length ? table(fns, lineColumns(fns), 'Earnings by function') : h('p.muted', { text: 'No earnings this month.' }),
    h('h3', { text: 'Contest credits' }),
    credits.length ? table(credits, lineColumns(credits), 'Contest credits') : h('p.muted', { text: 'No contest credits.' }),
    h('h3', { text: 'Settlements' }),
    settlements.length ? table(settlements, [
      { key: 'epoch', label: 'Epoch', num: true },
      { key: 'amount_micro_usd', label: 'Amount', num: true, format: s => usd(s.amount_micro_usd) },
      { key: 'state', label: 'State' },
      { key: 'address', label: 'Address', format: s => h('code', { text: s.address }) },
      { key: 'tx_hash', label: 'Transaction', format: s => (s.tx_hash ? h('code', { text: `${s.tx_hash.slice(0, 12)}…` }) : '—') },
    ], 'Settlements') : h('p.muted', { text: 'No settlements yet.' }),
    form);
}
