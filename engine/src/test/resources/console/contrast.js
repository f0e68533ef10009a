// WCAG 2.1 contrast of every visible text on the page against the background it is drawn on (1.4.3: 4.5:1, or
// 3:1 for large text: at least 24 px, or 18.66 px bold). Returns the texts below their threshold.
const parse = (c) => {
  const m = c.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
  return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
};
const over = (top, under) => ({ r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
  b: top.b * top.a + under.b * (1 - top.a), a: 1 });
const lum = (c) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
};
const background = (el) => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const bg = parse(getComputedStyle(e).backgroundColor);
    if (bg && bg.a > 0) {
      layers.push(bg);
      if (bg.a >= 1) break;
    }
  }
  let c = { r: 255, g: 255, b: 255, a: 1 };
  for (let i = layers.length - 1; i >= 0; i--) c = over(layers[i], c);
  return c;
};
const failures = [];
let checked = 0;
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  const el = n.parentElement;
  if (!el || !n.textContent.trim() || el.closest('svg, [hidden], [aria-hidden="true"], .skip, option')) continue;
  const rect = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  if (rect.width === 0 || rect.height === 0 || style.visibility === 'hidden' || style.display === 'none'
      || Number(style.opacity) === 0 || el.disabled) continue;
  const fg = parse(style.color);
  if (!fg) continue;
  const bg = background(el);
  const text = over(fg, bg);
  const l1 = lum(text), l2 = lum(bg);
  const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  checked++;
  if (ratio < (large ? 3 : 4.5)) {
    failures.push(`${ratio.toFixed(2)}:1 '${n.textContent.trim().slice(0, 40)}' (${style.color} on rgb(${Math.round(bg.r)}, ${Math.round(bg.g)}, ${Math.round(bg.b)}), ${size}px)`);
  }
}
return { checked, failures };
