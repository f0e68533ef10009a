// Nodes (operators and admins): GET /api/nodes (the nodes that matter now: attached, remote, local ones seen in the
// last day; state, reputation, stake, slashes, capabilities), and for the node
// picked its ledger history (GET /api/nodes/{id}/events, newest first, paged): reputation over time as a chart, the
// slashes and ejections with their evidence, the stake's movements. For an operator, what each of its nodes earned
// this month (GET /api/earnings: share of the charges it served, rewards, slashes, net).
import { get } from './api.js';
import { h, table, usd, errorBox, announce } from './ui.js';
import { lineChart } from './charts.js';

const PAGE = 200;
/** Event kinds that cost the node: shown with their evidence. */
const PENALTIES = ['slash', 'eject', 'heartbeat_miss', 'deadline_miss', 'attestation_failed'];

export async function nodesPage(main, [picked], me) {
  const data = await get('/api/nodes');
  const nodes = data.nodes || [];
  const detail = h('div', { id: 'node-detail', 'aria-live': 'polite' });
  main.replaceChildren(h('h1', { text: 'Nodes' }),
    nodes.length ? table(nodes, [
      { key: 'node_id', label: 'Node', format: n => h('a', { href: `#/nodes/${encodeURIComponent(n.node_id)}`,
        'data-node': n.node_id, 'aria-label': `History of node ${n.node_id}` }, h('code', { text: String(n.node_id || '').slice(0, 16) })) },
      { key: 'slot', label: 'Slot' },
      { key: 'state', label: 'State', format: n => h(`span.tag.${n.state === 'active' ? 'ok' : 'bad'}`, { text: n.state }) },
      { key: 'attached', label: 'Attached', format: n => (n.attached ? 'yes' : 'no') },
      { key: 'reputation', label: 'Reputation', num: true, format: n => (n.reputation ?? 0).toFixed(3) },
      { key: 'stake_micro_usd', label: 'Stake', num: true, format: n => usd(n.stake_micro_usd) },
      { key: 'slashes', label: 'Slashes', num: true },
      { key: 'inflight', label: 'In flight', num: true },
      { key: 'capabilities', label: 'Capabilities', format: n => (n.capabilities ? JSON.stringify(n.capabilities) : '—') },
    ], 'Nodes') : h('p.muted', { text: 'No nodes.' }), detail);
  if (me && me.role === 'operator') {
    const box = h('div', { id: 'operator-earnings' });
    detail.before(h('section', { 'aria-labelledby': 'operator-earnings-h' },
      h('h2', { id: 'operator-earnings-h', text: 'Earnings this month' }), box));
    earnings(box).catch(err => box.replaceChildren(errorBox(err)));
  }
  // The list holds the nodes that matter now; a node gone for over a day is fetched on its own.
  const node = nodes.find(n => n.node_id === picked)
    || (picked ? ((await get(`/api/nodes?node=${encodeURIComponent(picked)}`)).nodes || [])[0] : undefined);
  if (picked && !node) detail.replaceChildren(h('p.error', { role: 'alert', text: `No node ${picked}.` }));
  if (node) await history(node, detail);
}

/** The operator's nodes with their share of the charges they served, rewards, slashes and net (this month, UTC). */
async function earnings(box) {
  const now = new Date();
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const e = await get(`/api/earnings?from=${encodeURIComponent(from)}`);
  const t = e.totals || {};
  const money = (key, label) => ({ key, label, num: true, format: r => usd(r[key]) });
  box.replaceChildren(
    h('p.stats', null,
      h('span', null, 'Share of charges: ', h('b', { text: usd(t.share_micro_usd ?? 0) })),
      h('span', null, 'Rewards: ', h('b', { text: usd(t.rewards_micro_usd ?? 0) })),
      h('span', null, 'Slashed: ', h('b', { text: usd(t.slashed_micro_usd ?? 0) })),
      h('span', null, 'Net: ', h('b', { 'data-testid': 'operator-net', text: usd(t.net_micro_usd ?? 0) }))),
    (e.nodes || []).length ? table(e.nodes, [
      { key: 'node_id', label: 'Node', format: n => h('code', { title: n.key_sha256 || '', text: n.node_id }) },
      { key: 'served_requests', label: 'Served', num: true },
      money('share_micro_usd', 'Share'), { key: 'verified_runs', label: 'Verified runs', num: true },
      money('rewards_micro_usd', 'Rewards'), { key: 'slashes', label: 'Slashes', num: true },
      money('slashed_micro_usd', 'Slashed'), money('net_micro_usd', 'Net'),
    ], 'Earnings per node') : h('p.muted', { text: 'No nodes of this operator.' }));
}

/** The node's events, newest first, a page at a time ("Older" fetches the next); the chart covers what is loaded. */
async function history(node, box) {
  const events = [];
  let next = null;
  const chartBox = h('div.charts', { id: 'reputation-chart' });
  const penaltiesBox = h('div', { id: 'node-slashes' });
  const eventsBox = h('div', { id: 'node-events' });
  const older = h('button.secondary', { type: 'button', id: 'node-older', text: 'Older events', hidden: true });

  async function more() {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (next) q.set('before', String(next));
    const page = await get(`/api/nodes/${encodeURIComponent(node.node_id)}/events?${q}`);
    events.push(...(page.events || []));
    next = page.next_before ?? null;
    older.hidden = !next;
    render();
  }

  function render() {
    const chrono = events.filter(e => typeof e.reputation_after === 'number').slice().reverse();
    chartBox.replaceChildren(chrono.length
      ? lineChart({ name: 'reputation', points: chrono.map(e => ({ value: e.reputation_after, event: e })) },
        p => `${p.event.kind} · ${when(p.event.at)}`, [0, 1])
      : h('p.muted', { text: 'No events yet: the reputation has not moved.' }));
    const penalties = events.filter(e => PENALTIES.includes(e.kind));
    penaltiesBox.replaceChildren(penalties.length ? h('ul.evidence', null, penalties.map(e => h('li', { 'data-event': e.id },
      h('span.tag.bad', { text: e.kind }), ` ${when(e.at)}`,
      e.stake_delta_micro_usd ? ` · stake ${usd(e.stake_delta_micro_usd)}` : '',
      e.task_id ? h('span', null, ' · task ', h('code', { text: e.task_id })) : '',
      e.evidence ? h('details', null, h('summary', { text: 'Evidence' }), h('pre', { text: JSON.stringify(e.evidence, null, 2) })) : null)))
      : h('p.muted', { text: 'No slashes.' }));
    eventsBox.replaceChildren(table(events.slice(0, 50), [
      { key: 'at', label: 'When', format: e => when(e.at) },
      { key: 'kind', label: 'Event' },
      { key: 'reputation_after', label: 'Reputation after', num: true, format: e => (typeof e.reputation_after === 'number' ? e.reputation_after.toFixed(3) : '—') },
      { key: 'stake_delta_micro_usd', label: 'Stake change', num: true, format: e => (e.stake_delta_micro_usd ? usd(e.stake_delta_micro_usd) : '—') },
      { key: 'task_id', label: 'Task', format: e => (e.task_id ? h('code', { text: String(e.task_id).slice(0, 16) }) : '—') },
    ], 'Latest events'));
    announce(`${events.length} events of node ${node.node_id}`);
  }

  older.addEventListener('click', () => more().catch(err => box.append(errorBox(err))));
  // replaceChildren would print a null as text: the optional parts are dropped first.
  box.replaceChildren(...[h('h2', { id: 'node-h', text: `Node ${node.node_id}` }),
    h('p.stats', null,
      h('span', null, 'Reputation: ', h('b', { 'data-testid': 'node-reputation', text: (node.reputation ?? 0).toFixed(3) })),
      h('span', null, 'Stake: ', h('b', { 'data-testid': 'node-stake', text: usd(node.stake_micro_usd) })),
      h('span', null, 'Slashes: ', h('b', { text: String(node.slashes ?? 0) })),
      h('span', null, 'Verified tasks: ', h('b', { text: String(node.verified_tasks ?? 0) })),
      h('span', null, 'Rewards: ', h('b', { text: usd(node.rewards_micro_usd) }))),
    node.ejected_reason ? h('p.error', { text: `Ejected: ${node.ejected_reason}` }) : null,
    h('h3', { text: 'Reputation over time' }), chartBox,
    h('h3', { text: 'Slashes and their evidence' }), penaltiesBox,
    h('h3', { text: 'Events' }), eventsBox, older].filter(Boolean));
  await more();
}

function when(t) {
  return String(t).slice(0, 19).replace('T', ' ');
}
