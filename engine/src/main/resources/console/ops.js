// Nodes (GET /api/nodes, operators and admins).
import { get } from './api.js';
import { h, table } from './ui.js';

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
