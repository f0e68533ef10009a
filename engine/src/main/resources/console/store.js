// The store: GET /api/functions (search, kind, category, mine: the caller's tenant's own), developer and use-case
// filters on the answer, and scores and popularity from each category's leaderboard (GET /api/leaderboard).
import { get } from './api.js';
import { h, priceText, priceValue, policyText, announce } from './ui.js';

const KINDS = ['tensor', 'classifier', 'regressor', 'embedding', 'text-generation'];

function select(id, label, options, value) {
  return [h('label', { for: id, text: label }),
    h('select', { id }, h('option', { value: '', text: 'Any' }),
      options.map(o => h('option', { value: o, text: o, selected: o === value })))];
}

export async function storePage(main) {
  const params = new URLSearchParams(sessionParams());
  const search = h('input', { id: 'q', type: 'search', placeholder: 'Name or description', value: params.get('q') || '' });
  const results = h('ul.cards', { id: 'results', 'aria-label': 'Functions' });
  const count = h('p.muted', { id: 'count', 'aria-live': 'polite' });
  const filters = h('form.filters', { role: 'search', onsubmit: (e) => e.preventDefault() },
    h('div.search', null, h('label', { for: 'q', text: 'Search' }), search),
    h('div', null, ...select('kind', 'Kind', KINDS, params.get('kind'))),
    h('div', { id: 'category-box' }, ...select('category', 'Category', [], null)),
    h('div', { id: 'developer-box' }, ...select('developer', 'Developer', [], null)),
    h('div', null, h('label', { for: 'sort', text: 'Sort by' }),
      h('select', { id: 'sort' }, ['score', 'popularity', 'price', 'name'].map(s => h('option', { value: s, text: s })))),
    h('div.check', null, h('input', { id: 'mine', type: 'checkbox', checked: params.get('mine') === 'true' }),
      h('label', { for: 'mine', text: 'My functions' })));
  main.replaceChildren(h('h1', { text: 'Store' }), filters, count, results);

  let all = [];
  const boards = new Map();
  let seq = 0;

  async function board(category) {
    if (!boards.has(category)) {
      boards.set(category, get(`/api/leaderboard?category=${encodeURIComponent(category)}`)
        .then(b => new Map(b.rows.map(r => [r.name, r])), () => new Map()));
    }
    return boards.get(category);
  }

  async function load() {
    const mine = ++seq;
    const q = new URLSearchParams();
    if (search.value.trim()) q.set('q', search.value.trim());
    const kind = document.getElementById('kind').value;
    if (kind) q.set('kind', kind);
    const category = document.getElementById('category').value;
    if (category) q.set('category', category);
    if (document.getElementById('mine').checked) q.set('mine', 'true');
    const data = await get(`/api/functions?${q}`);
    const categories = [...new Set(data.functions.map(f => f.category).filter(Boolean))];
    const rows = await Promise.all(categories.map(c => board(c)));
    const byName = new Map();
    rows.forEach(m => m.forEach((r, n) => byName.set(n, r)));
    if (mine !== seq) return;
    all = data.functions.map(f => ({ ...f, board: byName.get(f.name) }));
    options('category', categories);
    options('developer', [...new Set(all.map(f => f.developer || f.owner).filter(Boolean))]);
    render();
  }

  function options(id, values) {
    const sel = document.getElementById(id);
    const current = sel.value;
    const known = new Set([...sel.options].map(o => o.value));
    values.filter(v => !known.has(v)).sort().forEach(v => sel.append(h('option', { value: v, text: v })));
    sel.value = current;
  }

  function render() {
    const developer = document.getElementById('developer').value;
    const sort = document.getElementById('sort').value;
    let list = all.filter(f => !developer || (f.developer || f.owner) === developer);
    const score = f => (f.board ? f.board.score : -1);
    const users = f => (f.board ? f.board.users : 0);
    const by = {
      score: (a, b) => score(b) - score(a) || a.name.localeCompare(b.name),
      popularity: (a, b) => users(b) - users(a) || a.name.localeCompare(b.name),
      price: (a, b) => priceValue(a.price, a.kind) - priceValue(b.price, b.kind) || a.name.localeCompare(b.name),
      name: (a, b) => a.name.localeCompare(b.name),
    }[sort];
    list = [...list].sort(by);
    count.textContent = `${list.length} function${list.length === 1 ? '' : 's'}`;
    results.replaceChildren(...list.map(card));
    announce(count.textContent);
  }

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => load().catch(showError), 250);
  });
  for (const id of ['kind', 'category', 'mine']) document.getElementById(id).addEventListener('change', () => load().catch(showError));
  for (const id of ['developer', 'sort']) document.getElementById(id).addEventListener('change', render);

  function showError(err) {
    count.textContent = `Search failed: ${err.message}`;
  }

  await load();
  return () => clearTimeout(timer);
}

function sessionParams() {
  const i = location.hash.indexOf('?');
  return i < 0 ? '' : location.hash.slice(i + 1);
}

function card(f) {
  const score = f.board ? f.board.score.toFixed(1) : '—';
  return h('li.card', { 'data-name': f.name },
    h('h2', null, h('a', { href: `#/fn/${encodeURIComponent(f.name)}`, text: f.name })),
    h('div.facts', null,
      h('span.tag', { text: f.kind }),
      f.category ? h('span.tag', { text: f.category }) : null,
      h('span.tag', { class: `tag ${f.state === 'ready' ? 'ok' : 'bad'}`, text: f.state }),
      f.visibility === 'private' ? h('span.tag', { text: 'private' }) : null),
    f.description ? h('p', { text: f.description }) : null,
    h('dl.props', null,
      h('dt', { text: 'Score' }), h('dd', { 'data-testid': 'score', text: score }),
      h('dt', { text: 'Users' }), h('dd', { text: f.board ? String(f.board.users) : '0' }),
      h('dt', { text: 'Price' }), h('dd', { text: priceText(f.price, f.kind) }),
      h('dt', { text: 'Verification' }), h('dd', { text: policyText(f.verification_policy) }),
      f.developer || f.owner ? h('dt', { text: 'Developer' }) : null,
      f.developer || f.owner ? h('dd', { text: f.developer || f.owner }) : null));
}
