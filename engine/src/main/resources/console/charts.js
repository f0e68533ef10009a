// Inline SVG charts, no library: a line over time (benchmark metrics, a node's reputation).
const SVG = 'http://www.w3.org/2000/svg';

/** A number with as many decimals as its size needs. */
export function fmt(v) {
  if (v === null || v === undefined) return '—';
  if (v === 0) return '0';
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(4);
}

/**
 * A series over time ({name, points: [{value, ...}]}, oldest first): a line with a dot per point (its value and
 * {@code describe(point)} on hover) and a text alternative; the y range fits the values unless {@code range} is given.
 */
export function lineChart(s, describe, range) {
  const W = 320;
  const H = 120;
  const left = 50;
  const top = 22;
  const bottom = H - 6;
  const values = s.points.map(p => p.value);
  let min = range ? range[0] : Math.min(...values);
  let max = range ? range[1] : Math.max(...values);
  if (min === max) {
    min -= Math.abs(min) * 0.1 || 1;
    max += Math.abs(max) * 0.1 || 1;
  }
  const n = s.points.length;
  const x = i => (n === 1 ? (left + W) / 2 : left + 6 + (i * (W - left - 12)) / (n - 1));
  const y = v => bottom - ((v - min) / (max - min)) * (bottom - top);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'chart line');
  svg.setAttribute('role', 'img');
  svg.setAttribute('data-metric', s.name);
  svg.setAttribute('aria-label', `${s.name} over ${n} run${n === 1 ? '' : 's'}: first ${fmt(values[0])}, last `
    + `${fmt(values[n - 1])}, lowest ${fmt(Math.min(...values))}, highest ${fmt(Math.max(...values))}`);
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  svg.append(el('text', { x: 4, y: 14, class: 'title' }, s.name),
    el('text', { x: left - 4, y: top + 4, class: 'label end' }, fmt(max)),
    el('text', { x: left - 4, y: bottom, class: 'label end' }, fmt(min)),
    el('line', { x1: left, y1: bottom, x2: W, y2: bottom, class: 'axis' }),
    el('polyline', { points: s.points.map((p, i) => `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(' '), class: 'line' }));
  s.points.forEach((p, i) => {
    const dot = el('circle', { cx: x(i).toFixed(1), cy: y(p.value).toFixed(1), r: 3.5, class: 'dot', 'data-value': p.value });
    dot.append(el('title', {}, `${s.name} ${fmt(p.value)} · ${describe(p)}`));
    svg.append(dot);
  });
  return svg;
}
