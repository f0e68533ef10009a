// Admin (admin keys only; the API answers 403 to anyone else): tenants (GET/POST /api/tenants), their keys
// (GET/POST /api/tenants/{id}/keys, DELETE .../keys/{key}), operator keys (POST /api/operator-keys) and the tiers
// (GET /api/tiers) with the tenants on each. A new key's secret is shown once, in this page only: it is never stored,
// and the key list, which is all a reload can ask for, has no secrets.
import { get, call } from './api.js';
import { h, table, usd, errorBox, announce } from './ui.js';

export async function adminPage(main) {
  const tiersBox = h('div', { id: 'admin-tiers' });
  const tenantsBox = h('div', { id: 'admin-tenants' });
  const keysBox = h('div', { id: 'admin-keys', 'aria-live': 'polite' });
  const secretBox = h('div', { id: 'admin-secret' });
  let tiers = [];
  let tenants = [];
  let selected = null;

  const tenantId = h('input', { id: 'tenant-id', required: true, pattern: '[a-z0-9][a-z0-9-]{0,62}', autocomplete: 'off',
    spellcheck: 'false', 'aria-describedby': 'tenant-id-help' });
  const tenantName = h('input', { id: 'tenant-name', autocomplete: 'off' });
  const tenantTier = h('select', { id: 'tenant-tier' });
  const tenantStatus = h('div', { 'aria-live': 'polite' });
  const tenantForm = h('form.panel', { id: 'tenant-form', novalidate: true },
    h('h3', { text: 'New tenant' }),
    h('div.form-grid', null,
      h('div', null, h('label', { for: 'tenant-id', text: 'Id' }), tenantId,
        h('p.muted.help', { id: 'tenant-id-help', text: 'Lower-case letters, digits and -, up to 63.' })),
      h('div', null, h('label', { for: 'tenant-name', text: 'Name' }), tenantName),
      h('div', null, h('label', { for: 'tenant-tier', text: 'Tier' }), tenantTier)),
    h('div.row', null, h('button', { type: 'submit', id: 'tenant-create', text: 'Create tenant' })), tenantStatus);
  tenantForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const id = tenantId.value.trim();
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) {
      tenantStatus.replaceChildren(h('p.error', { role: 'alert', text: 'The id must be lower-case letters, digits and -, up to 63.' }));
      return;
    }
    const body = { id, tier: tenantTier.value };
    if (tenantName.value.trim()) body.name = tenantName.value.trim();
    try {
      await call('POST', '/api/tenants', body);
      tenantId.value = '';
      tenantName.value = '';
      tenantStatus.replaceChildren(h('p', { 'data-testid': 'tenant-created', text: `Created tenant ${id}.` }));
      announce(`Created tenant ${id}`);
      await loadTenants();
      await showKeys(id);
    } catch (err) {
      tenantStatus.replaceChildren(errorBox(err));
    }
  });

  const keyName = h('input', { id: 'key-name', autocomplete: 'off' });
  const keyRole = h('select', { id: 'key-role' }, ['user', 'developer'].map(r => h('option', { value: r, text: r })));
  const keyForm = h('form.panel', { id: 'key-form', novalidate: true, hidden: true },
    h('h3', { id: 'key-form-title', text: 'New key' }),
    h('div.form-grid', null,
      h('div', null, h('label', { for: 'key-name', text: 'Name' }), keyName),
      h('div', null, h('label', { for: 'key-role', text: 'Role' }), keyRole)),
    h('div.row', null, h('button', { type: 'submit', id: 'key-create', text: 'Create key' })));
  keyForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!selected) return;
    const body = { role: keyRole.value };
    if (keyName.value.trim()) body.name = keyName.value.trim();
    try {
      const { data } = await call('POST', `/api/tenants/${encodeURIComponent(selected)}/keys`, body);
      keyName.value = '';
      showSecret(data);
      await showKeys(selected);
    } catch (err) {
      secretBox.replaceChildren(errorBox(err));
    }
  });

  const operatorName = h('input', { id: 'operator-name', autocomplete: 'off', placeholder: 'operator' });
  const operatorForm = h('form.panel', { id: 'operator-form', novalidate: true },
    h('h3', { text: 'New operator key (platform: metrics and nodes only)' }),
    h('label', { for: 'operator-name', text: 'Name' }), operatorName,
    h('div.row', null, h('button', { type: 'submit', id: 'operator-create', text: 'Create operator key' })));
  operatorForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const { data } = await call('POST', '/api/operator-keys', { name: operatorName.value.trim() || 'operator' });
      operatorName.value = '';
      showSecret(data);
    } catch (err) {
      secretBox.replaceChildren(errorBox(err));
    }
  });

  /** The one time a secret is on screen: until the page is left or another key is made. */
  function showSecret(key) {
    const code = h('code', { 'data-testid': 'new-secret', text: key.secret });
    const copy = h('button.secondary.small', { type: 'button', text: 'Copy' });
    copy.addEventListener('click', () => {
      if (navigator.clipboard) navigator.clipboard.writeText(key.secret).then(() => { copy.textContent = 'Copied'; }, () => {});
    });
    const dismiss = h('button.secondary.small', { type: 'button', id: 'secret-done', text: 'I have saved it' });
    dismiss.addEventListener('click', () => secretBox.replaceChildren());
    secretBox.replaceChildren(h('div.panel.secret', { role: 'alert' },
      h('p', null, h('b', { text: `New ${key.role} key ${key.id}${key.tenant_id ? ` for ${key.tenant_id}` : ''}. ` }),
        'This secret is shown once: copy it now, it cannot be shown again.'),
      h('pre', null, code), h('div.row', null, copy, dismiss)));
    announce(`Created key ${key.id}; its secret is shown once`);
    dismiss.focus();
  }

  async function showKeys(id) {
    selected = id;
    keyForm.hidden = false;
    document.getElementById('key-form-title').textContent = `New key for ${id}`;
    const keys = (await get(`/api/tenants/${encodeURIComponent(id)}/keys`)).keys || [];
    keysBox.replaceChildren(h('h3', { text: `Keys of ${id}` }), keys.length ? table(keys, [
      { key: 'id', label: 'Key', format: k => h('code', { text: k.id }) },
      { key: 'name', label: 'Name' },
      { key: 'role', label: 'Role' },
      { key: 'created_at', label: 'Created', format: k => (k.created_at || '').slice(0, 16).replace('T', ' ') },
      { key: 'revoked_at', label: 'State', format: k => (k.revoked_at ? h('span.tag.bad', { text: 'revoked' })
        : h('button.secondary.small.danger', { type: 'button', 'data-key': k.id, 'aria-label': `Revoke key ${k.id}`,
          text: 'Revoke', onclick: () => revoke(id, k.id) })) },
    ], `Keys of ${id}`) : h('p.muted', { text: 'No keys yet.' }));
  }

  async function revoke(id, key) {
    if (!window.confirm(`Revoke key ${key}? Its sessions end at once.`)) return;
    try {
      await call('DELETE', `/api/tenants/${encodeURIComponent(id)}/keys/${encodeURIComponent(key)}`);
      announce(`Revoked key ${key}`);
    } catch (err) {
      keysBox.prepend(errorBox(err));
      return;
    }
    await showKeys(id);
  }

  async function loadTenants() {
    tenants = (await get('/api/tenants')).tenants || [];
    tenantsBox.replaceChildren(tenants.length ? table(tenants, [
      { key: 'id', label: 'Tenant', format: t => h('code', { text: t.id }) },
      { key: 'name', label: 'Name' },
      { key: 'tier', label: 'Tier', format: t => tierPicker(t) },
      { key: 'created_at', label: 'Created', format: t => (t.created_at || '').slice(0, 10) },
      { key: 'keys', label: '', format: t => h('button.secondary.small', { type: 'button', 'data-tenant': t.id,
        'aria-label': `Keys of ${t.id}`, text: 'Keys', onclick: () => showKeys(t.id).catch(err => keysBox.replaceChildren(errorBox(err))) }) },
    ], 'Tenants') : h('p.muted', { text: 'No tenants yet.' }));
    renderTiers();
  }

  // PUT /api/tenants/{id} {tier}: the tenant's keys and sessions take the new tier at once.
  function tierPicker(t) {
    const select = h('select.small', { 'data-tenant-tier': t.id, 'aria-label': `Tier of ${t.id}` },
      tiers.map(x => h('option', { value: x.name, text: x.name, selected: x.name === t.tier })));
    select.addEventListener('change', async () => {
      try {
        await call('PUT', `/api/tenants/${encodeURIComponent(t.id)}`, { tier: select.value });
        announce(`Moved tenant ${t.id} to tier ${select.value}`);
        tenantStatus.replaceChildren(h('p', { 'data-testid': 'tenant-moved', text: `Moved ${t.id} to tier ${select.value}.` }));
        await loadTenants();
      } catch (err) {
        select.value = t.tier;
        tenantStatus.replaceChildren(errorBox(err));
      }
    });
    return select;
  }

  function renderTiers() {
    tiersBox.replaceChildren(table(tiers, [
      { key: 'name', label: 'Tier' },
      { key: 'requests_per_minute', label: 'Requests/min', num: true },
      { key: 'monthly_included_micro_usd', label: 'Included/month', num: true, format: t => usd(t.monthly_included_micro_usd) },
      { key: 'storage_bytes', label: 'Storage', num: true, format: t => `${Math.round(t.storage_bytes / 1048576)} MiB` },
      { key: 'max_concurrent_generations', label: 'Generations', num: true },
      { key: 'gpu_access', label: 'GPU', format: t => (t.gpu_access ? 'yes' : 'no') },
      { key: 'tenants', label: 'Tenants', format: t => tenants.filter(x => x.tier === t.name).map(x => x.id).join(', ') || '—' },
    ], 'Tiers'));
  }

  tiers = Object.values((await get('/api/tiers')).tiers || {});
  tenantTier.replaceChildren(...tiers.map(t => h('option', { value: t.name, text: t.name })));
  main.replaceChildren(h('h1', { text: 'Admin' }),
    h('section', { 'aria-labelledby': 'tenants-h' }, h('h2', { id: 'tenants-h', text: 'Tenants' }), tenantsBox, tenantForm),
    h('section', { 'aria-labelledby': 'keys-h' }, h('h2', { id: 'keys-h', text: 'Keys' }), secretBox, keysBox, keyForm, operatorForm),
    h('section', { 'aria-labelledby': 'tiers-h' }, h('h2', { id: 'tiers-h', text: 'Tiers' }),
      h('p.muted', { text: 'A tenant is moved to another tier with the picker in its row; its keys and sessions take the new limits at once.' }), tiersBox));
  await loadTenants();
}
