// Leaderboards, live: GET /api/leaderboard/stream?category= (Server-Sent Events, the cookie rides along). Each
// board replaces the table; rows whose rank or score changed flash.
import { get } from './api.js';
import { h, announce } from './ui.js';

export async function leaderboardsPage(main, [wanted]) {
  const fns = await get('/api/functions');
  const categories = [...new Set(fns.functions.map(f => f.category).filter(Boolean))].sort();
  const category = categories.includes(wanted) ? wanted : categories[0];
  const picker = h('select', { id: 'board-category' }, categories.map(c => h('option', { value: c, text: c, selected: c === category })));
  picker.addEventListener('change', () => { location.hash = `#/leaderboards/${encodeURIComponent(picker.value)}`; });
  const live = h('p.muted', { id: 'live', 'aria-live': 'polite', text: 'Connecting…' });
  const holder = h('div', { id: 'board' });
  main.replaceChildren(h('h1', { text: 'Leaderboards' }),
    h('div.row', null, h('div', null, h('label', { for: 'board-category', text: 'Category' }), picker)), live, holder);
  if (!category) {
    live.textContent = 'No categories yet.';
    return null;
  }
  const source = new EventSource(`/api/leaderboard/stream?category=${encodeURIComponent(category)}`);
  let previous = new Map();
  let updates = 0;
  source.addEventListener('leaderboard', (ev) => {
    const board = JSON.parse(ev.data);
    updates += 1;
    live.textContent = `Live · update ${updates} · ${new Date().toLocaleTimeString()}`;
    live.dataset.updates = String(updates);
    holder.replaceChildren(render(board, previous));
    previous = new Map(board.rows.map(r => [r.name, `${r.rank}:${r.score}:${r.users}`]));
    if (updates > 1) announce(`Leaderboard ${category} updated`);
  });
  source.addEventListener('error', () => { live.textContent = 'Reconnecting…'; });
  return () => source.close();
}

function render(board, previous) {
  const rows = board.rows.map(r => {
    const parts = r.parts || {};
    const metric = parts.metric;
    const arena = r.arena;
    const tip = `metric score ${parts.metric_score} · user score ${parts.user_score} · α ${parts.alpha} β ${parts.beta}`
      + (parts.rating_average !== null && parts.rating_average !== undefined ? ` · rating ${parts.rating_average} (${parts.ratings})` : '');
    const changed = previous.size > 0 && previous.get(r.name) !== `${r.rank}:${r.score}:${r.users}`;
    return h(changed ? 'tr.moved' : 'tr', { 'data-name': r.name },
      h('td.num', { text: String(r.rank) }),
      h('td', null, h('a', { href: `#/fn/${encodeURIComponent(r.name)}`, text: r.name })),
      h('td.num', { title: tip, tabindex: 0, 'aria-label': `score ${r.score}; ${tip}`, 'data-testid': 'score', text: r.score.toFixed(1) }),
      h('td', { text: metric ? `${metric.name} ${Number(metric.value).toFixed(3)}` : '—' }),
      h('td.num', { text: arena ? `${arena.rating} [${arena.lower}, ${arena.upper}]` : '—' }),
      h('td.num', { 'data-testid': 'users', text: String(r.users) }),
      h('td', { text: r.model_type || '' }),
      h('td', { text: r.developer || '—' }));
  });
  return h('div.table-wrap', null, h('table', null, h('caption.sr-only', { text: `Leaderboard ${board.category}` }),
    h('thead', null, h('tr', null, ['Rank', 'Function', 'Score', 'Metric', 'Arena rating [interval]', 'Users', 'Type', 'Developer']
      .map((t, i) => h([0, 2, 4, 5].includes(i) ? 'th.num' : 'th', { scope: 'col', text: t })))),
    h('tbody', null, rows)));
}
