// Usage (GET /api/usage, by function this month) and nodes (GET /api/nodes, operators and admins).
import { get } from './api.js';
import { h, table, usd } from './ui.js';

export async function usagePage(main, args, me) {
  const tenantBox = h('div');
  let tenant = '';
  const holder = h('div', { id: 'usage' });
  async function load() {
    const q = tenant ? `?tenant=${encodeURIComponent(tenant)}` : '';
    const usage = await get(`/api/usage${q}`);
    const rows = usage.functions || usage.rows || usage.groups || [];
    holder.replaceChildren(
      h('p', null, `Tenant: ${usage.tenant || (me.role === 'admin' ? 'all' : me.tenant_id)} · from ${usage.from || ''} to ${usage.to || ''}`),
      h('p.stats', null, h('span', null, 'Requests: ', h('b', { id: 'usage-requests', text: String(usage.requests ?? 0) })),
        h('span', null, 'Charges: ', h('b', { id: 'usage-charge', text: usd(usage.charge_micro_usd ?? 0) }))),
      rows.length ? table(rows, columns(rows), 'Usage') : h('p.muted', { text: 'No usage in this period.' }),
      h('details', null, h('summary', { text: 'Raw answer' }), h('pre', { text: JSON.stringify(usage, null, 2) })));
  }
  if (me.role === 'admin') {
    const input = h('input', { id: 'usage-tenant', placeholder: 'all tenants' });
    input.addEventListener('change', () => { tenant = input.value.trim(); load().catch(() => {}); });
    tenantBox.append(h('label', { for: 'usage-tenant', text: 'Tenant' }), input);
  }
  main.replaceChildren(h('h1', { text: 'Usage this month' }), tenantBox, holder);
  await load();
}

function columns(rows) {
  const keys = [...new Set(rows.flatMap(r => Object.keys(r)))].filter(k => typeof rows[0][k] !== 'object' || rows[0][k] === null);
  return keys.map(k => ({ key: k, label: k.replace(/_micro_usd$/, '').replace(/_us$/, ' (µs)').replace(/_/g, ' '),
    num: typeof rows[0][k] === 'number',
    format: k.endsWith('micro_usd') ? r => usd(r[k]) : undefined }));
}

export async function nodesPage(main) {
  const data = await get('/api/nodes');
  const nodes = data.nodes || [];
  main.replaceChildren(h('h1', { text: 'Nodes' }),
    nodes.length ? table(nodes, [
      { key: 'node_id', label: 'Node', format: n => h('code', { text: String(n.node_id || '').slice(0, 16) }) },
      { key: 'slot', label: 'Slot' },
      { key: 'state', label: 'State' },
      { key: 'attached', label: 'Attached' },
      { key: 'reputation', label: 'Reputation', num: true },
      { key: 'inflight', label: 'In flight', num: true },
      { key: 'capabilities', label: 'Capabilities', format: n => (n.capabilities ? JSON.stringify(n.capabilities) : '—') },
    ], 'Nodes') : h('p.muted', { text: 'No nodes.' }));
}
