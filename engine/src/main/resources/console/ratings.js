// A function's ratings on its page: the average and the latest feedback (GET /api/functions/{name}/ratings), and a
// form to give one's own (PUT /api/functions/{name}/rating: 1 to 5 stars, optional text; one per tenant, editable).
import { get, call } from './api.js';
import { h, errorBox, announce } from './ui.js';

const SHOWN = 10;
const MAX_FEEDBACK = 4000;

export function ratingsSection(name) {
  const summary = h('div', { id: 'rating-summary', 'aria-live': 'polite' });
  const recent = h('div', { id: 'rating-recent' });
  const status = h('div', { 'aria-live': 'polite' });
  const stars = h('fieldset.stars', null, h('legend', { text: 'Your rating' }),
    [1, 2, 3, 4, 5].map(n => h('label', null,
      h('input', { type: 'radio', name: 'stars', value: String(n), id: `stars-${n}` }), `${n} ★`)));
  const feedback = h('textarea', { id: 'rating-feedback', maxlength: String(MAX_FEEDBACK), rows: 3,
    'aria-describedby': 'rating-feedback-help' });
  const form = h('form.panel', { id: 'rating-form', novalidate: true }, stars,
    h('label', { for: 'rating-feedback', text: 'Feedback (optional)' }), feedback,
    h('p.muted.help', { id: 'rating-feedback-help', text: `Up to ${MAX_FEEDBACK} characters; the developer and other users see it.` }),
    h('div.row', null, h('button', { type: 'submit', id: 'rating-submit', text: 'Rate' })), status);

  async function load() {
    const r = await get(`/api/functions/${encodeURIComponent(name)}/ratings`);
    summary.replaceChildren(h('p.stats', null,
      h('span', null, 'Average: ', h('b', { 'data-testid': 'rating-average', text: r.average === null ? '—' : `${r.average.toFixed(2)} ★` })),
      h('span', null, 'Ratings: ', h('b', { 'data-testid': 'rating-count', text: String(r.count) })),
      h('span', null, 'Marked helpful: ', h('b', { text: String(r.helpful_feedback) }))));
    const withText = (r.ratings || []).filter(x => x.feedback).slice(0, SHOWN);
    recent.replaceChildren(withText.length ? h('ul.feedback', null, withText.map(x => h('li', null,
      h('span.tag', { text: `${x.stars} ★` }), ' ', h('q', { text: x.feedback }),
      h('span.muted', { text: ` — ${x.user}, ${String(x.updated_at).slice(0, 10)}${x.helpful ? ', marked helpful' : ''}` }))))
      : h('p.muted', { text: 'No written feedback yet.' }));
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const chosen = form.querySelector('input[name=stars]:checked');
    if (!chosen) {
      status.replaceChildren(h('p.error', { role: 'alert', text: 'Choose 1 to 5 stars.' }));
      return;
    }
    const body = { stars: Number(chosen.value) };
    if (feedback.value.trim()) body.feedback = feedback.value.trim();
    try {
      const { data } = await call('PUT', `/api/functions/${encodeURIComponent(name)}/rating`, body);
      status.replaceChildren(h('p', { 'data-testid': 'rating-saved', text: data.created ? 'Thank you: rating saved.' : 'Rating updated.' }));
      announce('Rating saved');
      await load();
    } catch (err) {
      status.replaceChildren(errorBox(err));
    }
  });

  const section = h('section', { 'aria-labelledby': 'ratings-h' }, h('h2', { id: 'ratings-h', text: 'Ratings and feedback' }),
    summary, recent, form);
  return { section, load };
}
