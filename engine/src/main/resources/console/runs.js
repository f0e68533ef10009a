// A function's benchmark runs on its page (GET /api/benchmarks?function=...: the newest 100 the caller may see):
// each metric over the runs as an inline SVG line chart, oldest on the left, and the latest runs as a table.
import { get } from './api.js';
import { h, table, usd } from './ui.js';
import { lineChart, fmt } from './charts.js';

const MAX_CHARTS = 8;

export function runsSection(name) {
  const box = h('div', { id: 'runs' });

  async function load() {
    const runs = ((await get(`/api/benchmarks?function=${encodeURIComponent(name)}`)).runs || [])
      .filter(r => r.state === 'done').reverse();
    if (!runs.length) {
      box.replaceChildren(h('p.muted', { text: 'No finished benchmark runs yet.' }));
      return;
    }
    const charts = series(runs).slice(0, MAX_CHARTS).map(s => lineChart(s, p => `v${p.run.version} · ${when(p.run.started_at)}`));
    box.replaceChildren(h('div.charts', null, charts),
      table(runs.slice(-10).reverse(), [
        { key: 'started_at', label: 'Run', format: r => String(r.started_at).slice(0, 16).replace('T', ' ') },
        { key: 'version', label: 'Version', num: true },
        { key: 'dataset_id', label: 'Dataset', format: r => h('code', { text: String(r.dataset_id).slice(0, 11) }) },
        { key: 'primary_value', label: 'Primary', num: true, format: r => `${r.primary_metric} ${fmt(r.primary_value)}` },
        { key: 'rows', label: 'Rows', num: true },
        { key: 'latency_p50_ms', label: 'p50 ms', num: true, format: r => fmt(r.latency_p50_ms) },
        { key: 'cost_micro_usd', label: 'Cost', num: true, format: r => usd(r.cost_micro_usd) },
        { key: 'trigger', label: 'Trigger' },
      ], 'Latest benchmark runs'));
  }

  const section = h('section', { 'aria-labelledby': 'runs-h' }, h('h2', { id: 'runs-h', text: 'Benchmark runs' }), box);
  return { section, load };
}

/** One series per numeric metric (the runs' metrics but their row count, then latency), each point a run. */
function when(t) {
  return String(t).slice(0, 16).replace('T', ' ');
}

function series(runs) {
  const names = [];
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.metrics || {})) if (typeof v === 'number' && k !== 'rows' && !names.includes(k)) names.push(k);
  }
  const out = names.map(k => ({ name: k, points: runs.filter(r => typeof (r.metrics || {})[k] === 'number')
    .map(r => ({ run: r, value: r.metrics[k] })) }));
  out.push({ name: 'latency p50 (ms)', points: runs.filter(r => typeof r.latency_p50_ms === 'number')
    .map(r => ({ run: r, value: r.latency_p50_ms })) });
  return out.filter(s => s.points.length);
}
