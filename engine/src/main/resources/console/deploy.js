// Deploy (developers and admins): POST /api/functions as multipart (spec + model) with upload progress, then the
// verification is polled (GET /api/functions/{name}/versions/{v}/verification) while it runs: each step ticks from
// pending to running to done, each check shows as it finishes; then the version's report. Below: the caller's
// functions (GET /api/functions?mine=true; every one for an admin), their versions, and delete (confirmed first).
import { get, send, parse, csrfToken, ApiFailure } from './api.js';
import { h, errorBox, announce, priceText, table } from './ui.js';

const KINDS = ['tensor', 'classifier', 'regressor', 'embedding', 'text-generation'];
const POLL_MS = 250;
const MARKS = { done: '✓', running: '…', failed: '✗', skipped: '–' };
const STEP_TEXT = {
  queued: 'Waiting for a verification slot',
  static_checks: 'Static checks of the ONNX file',
  sandbox_start: 'Starting a sandbox worker',
  sandbox_load: 'Loading the model in the sandbox',
  smoke_run: 'Smoke run on examples or synthesized inputs',
  recording: 'Storing the report',
};

export async function deployPage(main, args, me) {
  let stopped = false;
  const timers = new Set();
  const field = (id, label, input, help) => h('div', null, h('label', { for: id, text: label }), input,
    help ? h('p.muted.help', { id: `${id}-help`, text: help }) : null);
  const file = h('input', { id: 'deploy-file', type: 'file', accept: '.onnx', required: true });
  const name = h('input', { id: 'deploy-name', required: true, pattern: '[a-z0-9][a-z0-9._-]{0,63}', autocomplete: 'off',
    spellcheck: 'false', 'aria-describedby': 'deploy-name-help' });
  const description = h('input', { id: 'deploy-description' });
  const kind = h('select', { id: 'deploy-kind' }, KINDS.map(k => h('option', { value: k, text: k })));
  const category = h('input', { id: 'deploy-category', placeholder: 'e.g. tabular' });
  const price = h('input', { id: 'deploy-price', type: 'number', min: '0', step: '1', value: '0', inputmode: 'numeric',
    'aria-describedby': 'deploy-price-help' });
  const visibility = h('select', { id: 'deploy-visibility' },
    h('option', { value: 'public', text: 'public' }), h('option', { value: 'private', text: 'private' }));
  const submit = h('button', { type: 'submit', id: 'deploy-submit', text: 'Upload and verify' });
  const progress = h('progress', { id: 'deploy-progress', max: 100, value: 0, hidden: true, 'aria-label': 'Upload progress' });
  const status = h('div', { id: 'deploy-status', 'aria-live': 'polite' });
  const mine = h('div', { id: 'my-functions' });
  file.addEventListener('change', () => {
    const f = file.files[0];
    if (f && !name.value) name.value = f.name.replace(/\.onnx$/i, '').toLowerCase().replace(/[^a-z0-9._-]/g, '-').slice(0, 64);
  });

  const form = h('form.panel', { id: 'deploy-form', novalidate: true },
    h('div.form-grid', null,
      field('deploy-file', 'Model (.onnx)', file),
      field('deploy-name', 'Name', name, 'Lower-case letters, digits, . _ - (up to 64).'),
      field('deploy-kind', 'Kind', kind),
      field('deploy-category', 'Category', category),
      field('deploy-description', 'Description', description),
      field('deploy-price', 'Price per request (micro-USD)', price, '1 000 000 = $1.'),
      field('deploy-visibility', 'Visibility', visibility)),
    h('div.row', null, submit, progress), status);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = file.files[0];
    const problems = [];
    if (!f) problems.push('Choose an .onnx file.');
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name.value.trim())) problems.push('The name must be lower-case letters, digits, . _ - (up to 64).');
    const micro = Number(price.value || 0);
    if (!Number.isInteger(micro) || micro < 0) problems.push('The price must be a whole number of micro-USD, 0 or more.');
    if (problems.length) {
      status.replaceChildren(h('p.error', { role: 'alert', text: problems.join(' ') }));
      return;
    }
    const spec = { name: name.value.trim(), kind: kind.value, visibility: visibility.value,
      price: { per_request_micro_usd: micro } };
    if (category.value.trim()) spec.category = category.value.trim();
    if (description.value.trim()) spec.description = description.value.trim();
    submit.disabled = true;
    try {
      const accepted = await upload(spec, f, progress, status);
      announce(`Uploaded ${accepted.name} version ${accepted.version}; verifying`);
      await watch(accepted, status);
    } catch (err) {
      status.replaceChildren(errorBox(err));
    } finally {
      submit.disabled = false;
      progress.hidden = true;
      if (!stopped) loadMine().catch(err => mine.replaceChildren(errorBox(err)));
    }
  });

  /** Polls the verification until the version is ready or rejected, its steps ticking; then the report. */
  async function watch(v, out) {
    const path = `/api/functions/${encodeURIComponent(v.name)}/versions/${v.version}`;
    const steps = h('ol.steps', { id: 'deploy-steps', 'aria-label': 'Verification steps' });
    const sofar = h('div', { id: 'deploy-checks' });
    const line = stateLine(v, 'verifying');
    out.replaceChildren(line, steps, sofar);
    const seen = new Set();
    let live = { state: 'verifying' };
    while (live.state === 'verifying' && !stopped) {
      live = await get(`${path}/verification`);
      if (stopped) return;
      line.querySelector('[data-testid=deploy-state]').textContent = live.state === 'verifying'
        ? `verifying… ${(live.elapsed_ms / 1000).toFixed(1)} s` : live.state;
      steps.replaceChildren(...live.steps.map(s => h(`li.${s.state}`, { 'data-step': s.name, 'data-state': s.state },
        h('span.mark', { 'aria-hidden': 'true', text: MARKS[s.state] || '·' }),
        ` ${STEP_TEXT[s.name] || s.name}`, h('span.sr-only', { text: ` (${s.state})` }))));
      // Which steps this page saw running: the page's record that it watched them tick (read by its tests).
      live.steps.filter(s => s.state === 'running').forEach(s => seen.add(s.name));
      steps.dataset.seenRunning = [...seen].join(' ');
      sofar.replaceChildren(...(live.checks.length ? [checks({ checks: live.checks })] : []));
      if (live.state === 'verifying') await sleep(POLL_MS);
    }
    if (stopped) return;
    const rec = await get(path);
    // replaceChildren would print a null as text: the optional parts are dropped first.
    out.replaceChildren(...[stateLine(rec, rec.state), steps,
      rec.state_reason ? h('p.error', { 'data-testid': 'deploy-reason', text: rec.state_reason }) : null,
      checks(rec.verification),
      rec.state === 'ready' ? h('p', null, h('a', { href: `#/fn/${encodeURIComponent(rec.name)}`, text: `Open ${rec.name}` })) : null]
      .filter(Boolean));
    announce(`${rec.name} version ${rec.version} is ${rec.state}`);
  }

  function sleep(ms) {
    return new Promise(resolve => { const t = setTimeout(() => { timers.delete(t); resolve(); }, ms); timers.add(t); });
  }

  async function loadMine() {
    const own = (await get(me.role === 'admin' ? '/api/functions' : '/api/functions?mine=true')).functions;
    if (!own.length) {
      mine.replaceChildren(h('p.muted', { text: 'No functions yet.' }));
      return;
    }
    const details = await Promise.all(own.map(f => get(`/api/functions/${encodeURIComponent(f.name)}`).catch(() => f)));
    mine.replaceChildren(table(details, [
      { key: 'name', label: 'Function', format: f => h('a', { href: `#/fn/${encodeURIComponent(f.name)}`, text: f.name }) },
      { key: 'kind', label: 'Kind' },
      { key: 'price', label: 'Price', format: f => priceText(f.price, f.kind) },
      { key: 'versions', label: 'Versions', format: f => h('ul.versions', null, (f.versions || [{ version: f.version, state: f.state }])
        .map(v => h('li', { 'data-testid': `version-${f.name}-${v.version}` }, `v${v.version} `, h(`span.tag.${v.state === 'ready' ? 'ok' : v.state === 'rejected' ? 'bad' : 'wait'}`, { text: v.state }), ' ',
          h('button.secondary.small', { type: 'button', 'aria-label': `Delete ${f.name} version ${v.version}`, text: 'Delete',
            onclick: () => remove(f.name, v.version) })))) },
      { key: 'delete', label: '', format: f => h('button.secondary.danger', { type: 'button', id: `delete-${f.name}`,
        'aria-label': `Delete ${f.name} (every version)`, text: 'Delete all', onclick: () => remove(f.name) }) },
    ], 'Your functions'));
  }

  async function remove(fn, version) {
    const what = version ? `${fn} version ${version}` : `${fn} and every version of it`;
    if (!window.confirm(`Delete ${what}? Callers of it will get 404.`)) return;
    try {
      await parse(await send('DELETE', `/api/functions/${encodeURIComponent(fn)}${version ? `/versions/${version}` : ''}`));
      announce(`Deleted ${what}`);
    } catch (err) {
      mine.prepend(errorBox(err));
      return;
    }
    await loadMine();
  }

  main.replaceChildren(h('h1', { text: 'Deploy a model' }), form,
    h('section', { 'aria-labelledby': 'mine-h' }, h('h2', { id: 'mine-h', text: me.role === 'admin' ? 'All functions' : 'Your functions' }), mine));
  await loadMine();
  return () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
  };
}

/** POST /api/functions with XMLHttpRequest, whose upload events drive the progress bar. */
function upload(spec, file, progress, out) {
  return new Promise((resolve, reject) => {
    const body = new FormData();
    body.append('spec', JSON.stringify(spec));
    body.append('model', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/functions');
    xhr.setRequestHeader('Accept', 'application/json');
    if (csrfToken()) xhr.setRequestHeader('X-CSRF-Token', csrfToken());
    progress.hidden = false;
    progress.value = 0;
    out.replaceChildren(h('p', { 'data-testid': 'deploy-state', text: 'uploading' }));
    xhr.upload.addEventListener('progress', (ev) => {
      if (ev.lengthComputable) {
        progress.value = Math.round(100 * ev.loaded / ev.total);
        out.replaceChildren(h('p', { 'data-testid': 'deploy-state', text: `uploading ${progress.value} %` }));
      }
    });
    xhr.addEventListener('load', () => {
      progress.value = 100;
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch (e) {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && data) resolve(data);
      else {
        const err = data && data.error;
        reject(new ApiFailure(xhr.status, typeof err === 'string' ? err : (err && err.message) || xhr.statusText));
      }
    });
    xhr.addEventListener('error', () => reject(new Error('the upload failed (network)')));
    xhr.send(body);
  });
}

function stateLine(rec, text) {
  return h('p', null, `${rec.name} v${rec.version}: `, h('b', { 'data-testid': 'deploy-state', text }));
}

/** The report's checks (name, passed, severity, message, time), the rest of it as JSON. */
function checks(report) {
  if (!report || !Array.isArray(report.checks)) return null;
  const rest = { ...report };
  delete rest.checks;
  return h('div', { 'data-testid': 'deploy-report' },
    table(report.checks, [
      { key: 'passed', label: 'Result', format: c => h(`span.tag.${c.passed ? 'ok' : 'bad'}`, { text: c.passed ? (c.severity === 'warning' ? 'warning' : 'passed') : 'failed' }) },
      { key: 'name', label: 'Check' },
      { key: 'message', label: 'Detail' },
      { key: 'duration_ms', label: 'ms', num: true },
    ], 'Verification checks'),
    Object.keys(rest).length ? h('details', null, h('summary', { text: 'Full report' }), h('pre', { text: JSON.stringify(rest, null, 2) })) : null);
}
