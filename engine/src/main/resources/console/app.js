// The console's shell: who is signed in, the navigation (only what the role may use), and hash routing.
import { send, parse, setCsrf, ApiFailure } from './api.js';
import { h, errorBox, announce } from './ui.js';
import { storePage } from './store.js';
import { functionPage } from './function.js';
import { playgroundPage } from './playground.js';
import { leaderboardsPage } from './leaderboards.js';
import { arenaPage } from './arena.js';
import { nodesPage } from './ops.js';
import { usagePage } from './billing.js';
import { deployPage } from './deploy.js';
import { adminPage } from './admin.js';

const main = document.getElementById('main');
const state = { me: null, cleanup: null, shown: 0 };

/** What each role may open; the API refuses the rest, so the console does not offer it. */
const PAGES = {
  store: { roles: ['admin', 'developer', 'user'], render: storePage },
  fn: { roles: ['admin', 'developer', 'user'], render: functionPage },
  play: { roles: ['admin', 'developer', 'user'], render: playgroundPage },
  arena: { roles: ['admin', 'developer', 'user'], render: arenaPage },
  leaderboards: { roles: ['admin', 'developer', 'user'], render: leaderboardsPage },
  usage: { roles: ['admin', 'developer', 'user'], render: usagePage },
  deploy: { roles: ['admin', 'developer'], render: deployPage },
  nodes: { roles: ['admin', 'operator'], render: nodesPage },
  admin: { roles: ['admin'], render: adminPage },
};

function home(me) {
  return me.role === 'operator' ? '#/nodes' : '#/store';
}

async function whoAmI() {
  const res = await send('GET', '/api/session');
  if (res.status === 200) {
    const me = await parse(res);
    return me.signed_in === false ? null : me;
  }
  await parse(res).catch(() => null);
  return null;
}

function signedIn(me) {
  state.me = me;
  setCsrf(me.csrf_token || null);
  const nav = document.getElementById('nav');
  nav.hidden = false;
  for (const a of nav.querySelectorAll('a[data-roles]')) {
    a.hidden = !a.dataset.roles.split(' ').includes(me.role);
  }
  for (const a of nav.querySelectorAll('a[data-page]')) {
    const page = PAGES[a.dataset.page];
    if (page && !page.roles.includes(me.role)) a.hidden = true;
  }
  const who = document.getElementById('who');
  who.replaceChildren(
    h('span', { 'data-testid': 'who' }, `${me.tenant_id || 'platform'} · ${me.role}`),
    h('button.secondary', { type: 'button', id: 'signout', onclick: signOut, text: 'Sign out' }));
}

function signedOut() {
  state.me = null;
  setCsrf(null);
  document.getElementById('nav').hidden = true;
  document.getElementById('who').replaceChildren();
}

async function signOut() {
  try {
    await parse(await send('DELETE', '/api/session'));
  } catch (e) {
    // Already gone on the server: the page forgets it either way.
  }
  signedOut();
  announce('Signed out');
  location.hash = '#/signin';
}

function signInPage() {
  const key = h('input', { id: 'key', type: 'password', name: 'key', autocomplete: 'off', required: true,
    spellcheck: 'false', 'aria-describedby': 'key-help' });
  const message = h('div', { 'aria-live': 'assertive' });
  const form = h('form.panel.narrow', { id: 'signin-form', novalidate: true },
    h('h1', { text: 'Sign in' }),
    h('label', { for: 'key', text: 'API key' }), key,
    h('p.muted', { id: 'key-help', text: 'The key is exchanged for a session cookie and is not kept by this page.' }),
    h('button', { type: 'submit', text: 'Sign in' }), message);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const secret = key.value.trim();
    key.value = '';
    if (!secret) {
      message.replaceChildren(h('p.error', { role: 'alert', text: 'Enter an API key.' }));
      return;
    }
    try {
      const me = await parse(await send('POST', '/api/session', { key: secret }));
      signedIn(me);
      announce('Signed in');
      location.hash = home(me);
    } catch (err) {
      message.replaceChildren(errorBox(err));
      key.focus();
    }
  });
  main.replaceChildren(form);
  key.focus();
}

async function route() {
  if (state.cleanup) {
    state.cleanup();
    state.cleanup = null;
  }
  // Each page renders into a view of its own: one left before it finished loading writes into a detached view and
  // its late answer (or error) is dropped, so it never overwrites the page opened after it.
  const shown = ++state.shown;
  const [name, ...args] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (!state.me) {
    signInPage();
    return;
  }
  if (name === 'signin' || !name) {
    location.replace(home(state.me));
    return;
  }
  for (const a of document.querySelectorAll('nav a[data-page]')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const page = PAGES[name];
  if (!page) {
    main.replaceChildren(h('h1', { text: 'Not found' }), h('p', null, h('a', { href: home(state.me), text: 'Back' })));
    return;
  }
  if (!page.roles.includes(state.me.role)) {
    main.replaceChildren(h('h1', { text: 'Not available' }),
      h('p', { 'data-testid': 'forbidden', text: `${['admin', 'operator'].includes(state.me.role) ? 'An' : 'A'} ${state.me.role} key may not use this page.` }));
    return;
  }
  const view = h('div.view', null, h('p.muted', { text: 'Loading…' }));
  main.replaceChildren(view);
  try {
    const cleanup = await page.render(view, args, state.me) || null;
    if (shown !== state.shown) {
      if (cleanup) cleanup();
      return;
    }
    state.cleanup = cleanup;
  } catch (err) {
    if (shown !== state.shown) return;
    if (err instanceof ApiFailure && err.status === 401) {
      signedOut();
      signInPage();
      return;
    }
    view.replaceChildren(errorBox(err));
  }
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', route);
whoAmI().then((me) => {
  if (me) signedIn(me);
  route();
}, (err) => main.replaceChildren(errorBox(err)));
