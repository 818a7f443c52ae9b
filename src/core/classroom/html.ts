import { LAYER_TITLES, type Layer } from '../lessons/schema.js';
import { formatDuration, type ClassReport, type LessonStats, type CellStatus } from './report.js';
import { html } from './xml.js';

/**
 * The class report as ONE self-contained HTML file: inline CSS, charts as inline SVG drawn here,
 * no script, no external fonts or images. A Content-Security-Policy forbids anything else, and every
 * string from an export (names, ids, titles, messages) is escaped.
 */

const LAYER_COLORS: Record<string, string> = { cloud: '#2563eb', cluster: '#7c3aed', image: '#d97706', app: '#059669' };
const layerColor = (layer: string) => LAYER_COLORS[layer] ?? '#475569';
const layerTitle = (layer: string) => LAYER_TITLES[layer as Layer] ?? layer;

const W = 960;
const LABEL_W = 250;
const VALUE_W = 110;
const NOTE_W = 80;

/**
 * A round axis: the smallest step from a list of round ones (counts 1, 2, 5, 10…; durations 1, 2, 5,
 * 10, 15, 30 min, 1 h…) that covers the largest value in at most five steps.
 */
export function niceAxis(max: number, kind: 'count' | 'duration' | 'ratio'): { max: number; step: number } {
  if (kind === 'ratio') return { max: 1, step: 0.25 };
  const steps =
    kind === 'duration'
      ? [15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((x) => x * 1000)
      : [0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];
  if (max <= 0) return { max: steps[1] * 4, step: steps[1] };
  const step = steps.find((st) => Math.ceil(max / st) <= 5) ?? Math.ceil(max / 5 / steps[steps.length - 1]) * steps[steps.length - 1];
  return { max: Math.max(1, Math.ceil(max / step)) * step, step };
}

function axisLabel(v: number, kind: 'count' | 'duration' | 'ratio'): string {
  if (v === 0) return '0';
  if (kind === 'ratio') return `${Math.round(v * 100)}%`;
  if (kind === 'count') return fmt(v);
  if (v % 3_600_000 === 0) return `${v / 3_600_000} h`;
  return formatDuration(v);
}
const round = (x: number) => Math.round(x * 10) / 10;

const fmt = (x: number | null, digits = 1) => (x === null ? '–' : Number.isInteger(x) ? String(x) : x.toFixed(digits));

interface Series {
  key: string;
  label: string;
  color: string;
  value: (l: LessonStats) => number | null;
  text: (l: LessonStats) => string;
}

/**
 * A horizontal bar chart, one row per lesson, one bar per series. Each bar is a <rect class="bar">
 * carrying data-lesson / data-series / data-value, with a <title> for the hover text.
 */
function barChart(
  id: string,
  caption: string,
  lessons: LessonStats[],
  series: Series[],
  opts: { kind: 'count' | 'duration' | 'ratio'; marker?: (l: LessonStats) => number | null; note?: (l: LessonStats) => string },
): string {
  const PLOT_W = W - LABEL_W - VALUE_W - (opts.note ? NOTE_W : 0);
  const barH = 14;
  const gap = 4;
  const rowH = Math.max(28, series.length * (barH + gap) + 10);
  const top = 6;
  const height = top + lessons.length * rowH + 22;
  const values = lessons.flatMap((l) => series.map((s) => s.value(l) ?? 0));
  const markers = opts.marker ? lessons.map((l) => opts.marker!(l) ?? 0) : [];
  const axis = niceAxis(Math.max(0, ...values, ...markers), opts.kind);
  const max = axis.max;
  const ticks = Math.round(max / axis.step);
  const x = (v: number) => LABEL_W + (PLOT_W * Math.max(0, v)) / max;
  const parts: string[] = [];
  for (let q = 0; q <= ticks; q++) {
    const gx = round(LABEL_W + (PLOT_W * q) / ticks);
    parts.push(`<line class="grid" x1="${gx}" x2="${gx}" y1="${top}" y2="${height - 20}"/>`);
  }
  lessons.forEach((l, i) => {
    const y0 = top + i * rowH;
    const mid = y0 + rowH / 2;
    parts.push(`<g class="row" data-lesson="${html(l.id)}">`);
    if (i % 2 === 0) parts.push(`<rect class="stripe" x="0" y="${y0}" width="${W}" height="${rowH}"/>`);
    parts.push(`<circle cx="10" cy="${mid}" r="4" fill="${layerColor(l.layer)}"><title>${html(layerTitle(l.layer))}</title></circle>`);
    parts.push(
      `<text class="label" x="22" y="${mid}" dominant-baseline="middle">${html(l.id.length > 32 ? l.id.slice(0, 31) + '…' : l.id)}<title>${html(`${l.id} — ${l.title}`)}</title></text>`,
    );
    const firstY = mid - (series.length * (barH + gap) - gap) / 2;
    series.forEach((s, k) => {
      const v = s.value(l);
      const y = round(firstY + k * (barH + gap));
      const w = round(x(v ?? 0) - LABEL_W);
      if (series.length === 1) parts.push(`<rect class="track" x="${LABEL_W}" y="${y}" width="${PLOT_W}" height="${barH}" rx="3"/>`);
      parts.push(
        `<rect class="bar" data-lesson="${html(l.id)}" data-series="${s.key}" data-value="${v ?? ''}" x="${LABEL_W}" y="${y}" width="${w}" height="${barH}" rx="3" fill="${s.color}"><title>${html(`${l.id}: ${s.label} ${s.text(l)}`)}</title></rect>`,
      );
      parts.push(
        `<text class="value" x="${round(Math.min(x(v ?? 0), LABEL_W + PLOT_W) + 6)}" y="${y + barH / 2}" dominant-baseline="middle">${html(s.text(l))}</text>`,
      );
    });
    if (opts.marker) {
      const m = opts.marker(l);
      if (m !== null) {
        const mx = round(x(m));
        parts.push(
          `<line class="marker" x1="${mx}" x2="${mx}" y1="${round(firstY - 2)}" y2="${round(firstY + barH + 2)}"><title>${html(`${l.id}: longest ${formatDuration(m)}`)}</title></line>`,
        );
      }
    }
    if (opts.note) {
      const n = opts.note(l);
      if (n) parts.push(`<text class="note" x="${W - 4}" y="${mid}" text-anchor="end" dominant-baseline="middle">${html(n)}</text>`);
    }
    parts.push('</g>');
  });
  const axisY = height - 6;
  for (let q = 0; q <= ticks; q++) {
    parts.push(
      `<text class="axis" x="${round(LABEL_W + (PLOT_W * q) / ticks)}" y="${axisY}" text-anchor="middle">${html(axisLabel(axis.step * q, opts.kind))}</text>`,
    );
  }
  return `<svg id="${id}" class="chart" viewBox="0 0 ${W} ${height}" width="100%" preserveAspectRatio="xMinYMin meet" role="img" aria-label="${html(caption)}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

function legend(items: { color: string; label: string; kind?: 'line' }[]): string {
  return `<div class="legend">${items.map((i) => `<span><i class="${i.kind === 'line' ? 'swatch-line' : 'swatch'}" style="background:${i.color}"></i>${html(i.label)}</span>`).join('')}</div>`;
}

const CELL_TEXT: Record<CellStatus, string> = { done: 'done', started: 'started, not done', 'not-started': 'not started' };

function learnerTable(r: ClassReport): string {
  const head = ['Learner', 'Completed', 'Lessons', 'Attempts', 'Hints', 'Solutions', 'Time', 'Exported'];
  const rows = r.learners.map((x) => {
    const pct = x.total ? Math.round((x.done / x.total) * 100) : 0;
    const cells = r.lessons.map((l) => `<i class="cell ${x.lessons[l.id]}" title="${html(`${l.id}: ${CELL_TEXT[x.lessons[l.id]]}`)}"></i>`).join('');
    return (
      `<tr class="learner"><td class="name"><span class="who">${html(x.name)}</span>${x.id ? `<span class="lid">${html(x.id)}</span>` : ''}</td>` +
      `<td><div class="progress"><div class="meter"><span style="width:${pct}%"></span></div><span class="num">${x.done}/${x.total}</span></div></td>` +
      `<td><div class="cells">${cells}</div></td><td class="num">${x.attempts}</td><td class="num">${x.hintsUsed}</td><td class="num">${x.solutionsViewed}</td>` +
      `<td class="num">${html(formatDuration(x.timeSpentMs))}</td><td class="muted date" title="${html(`${x.exportedAt} — ${x.file}`)}">${html(x.exportedAt.slice(0, 10))}</td></tr>`
    );
  });
  return `<div class="table-wrap"><table id="learners"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

const CSS = `
:root{--bg:#f5f6fa;--card:#fff;--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--done:#16a34a;--started:#f59e0b;--none:#cbd5e1}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:28px 24px 48px}
header h1{margin:0;font-size:24px;letter-spacing:-.01em}
header p{margin:4px 0 0;color:var(--muted)}
.stats{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin:20px 0}
.stat{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px}
.stat b{display:block;font-size:22px}
.stat span{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
section{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:18px 20px;margin:16px 0;box-shadow:0 1px 2px rgba(15,23,42,.04)}
section h2{margin:0 0 2px;font-size:16px}
section p.sub{margin:0 0 10px;color:var(--muted);font-size:13px}
.chart{display:block;font-size:12px}
.chart .label{fill:var(--ink);font-size:12.5px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.chart .value{fill:#334155;font-size:12px;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.chart .note{fill:#b45309;font-size:12px;font-weight:600}
.chart .axis{fill:var(--muted);font-size:11px}
.chart .grid{stroke:#eef2f7}
.chart .stripe{fill:#f8fafc}
.chart .track{fill:#eef2f7}
.chart .marker{stroke:#0f172a;stroke-width:2}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin:0 0 8px;color:#334155;font-size:12.5px}
.legend span{display:inline-flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:3px}
.swatch-line{display:inline-block;width:3px;height:14px}
table{width:100%;border-collapse:collapse;font-size:13px}
th{text-align:left;color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em;border-bottom:1px solid var(--line);padding:8px 8px}
td{padding:8px 6px;border-bottom:1px solid #f1f5f9;vertical-align:middle}
tr.learner:hover td{background:#f8fafc}
td.name{max-width:260px;overflow-wrap:anywhere}
td.name .who{display:block;font-weight:600}
td.name .lid{display:block;color:var(--muted);font-size:12px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:var(--muted)}
.table-wrap{overflow-x:auto}
.progress{display:flex;align-items:center;gap:8px;min-width:100px}
.meter{flex:1;height:8px;background:#eef2f7;border-radius:4px;overflow:hidden}
.meter span{display:block;height:100%;background:var(--done)}
.cells{display:flex;gap:3px;flex-wrap:nowrap}
td.num,td.date{white-space:nowrap}
.cell{display:inline-block;width:12px;height:12px;border-radius:3px}
.cell.done{background:var(--done)}
.cell.started{background:var(--started)}
.cell.not-started{background:#fff;border:1.5px solid var(--none)}
ul.notes{margin:6px 0 0;padding-left:18px}
ul.notes li{margin:2px 0}
.problem{color:#b91c1c}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:24px}
@media (max-width:760px){.stats{grid-template-columns:repeat(2,1fr)}}
@media print{body{background:#fff}section{break-inside:avoid;box-shadow:none}}
`;

export function renderHtml(r: ClassReport, opts: { title?: string } = {}): string {
  const N = r.learners.length;
  const title = opts.title ?? 'kube-seclab class report';
  const lessons = r.lessons;
  const totalDone = r.learners.reduce((a, x) => a + x.done, 0);
  const cells = N * lessons.length;
  const times = r.learners.map((x) => x.timeSpentMs).sort((a, b) => a - b);
  const medianTime = times.length ? (times.length % 2 ? times[times.length >> 1] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2) : null;
  const stuckMost = [...lessons].sort((a, b) => b.stuck - a.stuck)[0];
  const layers = [...new Set(lessons.map((l) => l.layer))];

  const completion = barChart(
    'chart-completion',
    'Completion per lesson',
    lessons,
    [
      {
        key: 'completion',
        label: 'completed by',
        color: '#16a34a',
        value: (l) => l.completion,
        text: (l) => `${l.done}/${l.learners} (${Math.round(l.completion * 100)}%)`,
      },
    ],
    { kind: 'ratio' },
  );
  const stuck = barChart(
    'chart-stuck',
    'Attempts and hints per lesson',
    lessons,
    [
      { key: 'attempts', label: 'median attempts', color: '#2563eb', value: (l) => l.medianAttempts, text: (l) => `${fmt(l.medianAttempts)} attempts` },
      { key: 'hints', label: 'hints per learner', color: '#f59e0b', value: (l) => l.meanHints, text: (l) => `${fmt(l.meanHints)} hints` },
    ],
    { kind: 'count', note: (l) => (l.stuck ? `${l.stuck} stuck` : '') },
  );
  const time = barChart(
    'chart-time',
    'Time per lesson',
    lessons,
    [{ key: 'time', label: 'median time', color: '#7c3aed', value: (l) => l.medianTimeMs, text: (l) => formatDuration(l.medianTimeMs) }],
    { kind: 'duration', marker: (l) => l.maxTimeMs },
  );

  const failing = lessons.filter((l) => l.failingChecks.length);
  const failingList = failing.length
    ? `<ul class="notes">${failing
        .map(
          (l) =>
            `<li><code>${html(l.id)}</code>: ${l.failingChecks
              .slice(0, 4)
              .map((c) => `<code>${html(c.id)}</code> (${c.learners})`)
              .join(', ')}</li>`,
        )
        .join('')}</ul>`
    : '<p class="sub">No failing checks in anyone\'s last run.</p>';

  const notes = [...r.problems.map((p) => `<li class="problem">${html(p.file)}: ${html(p.message)}</li>`), ...r.notes.map((n) => `<li>${html(n)}</li>`)];

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="kube-seclab class report">
<title>${html(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${html(title)}</h1>
<p>${N} learner${N === 1 ? '' : 's'} · ${lessons.length} lessons · generated ${html(r.generatedAt.slice(0, 16).replace('T', ' '))} UTC</p>
</header>
<div class="stats">
<div class="stat"><span>Learners</span><b>${N}</b></div>
<div class="stat"><span>Lessons completed</span><b>${cells ? Math.round((totalDone / cells) * 100) : 0}%</b></div>
<div class="stat"><span>Median time per learner</span><b>${html(formatDuration(medianTime))}</b></div>
<div class="stat"><span>Most learners stuck on</span><b style="font-size:15px;padding-top:5px">${stuckMost && stuckMost.stuck ? `${html(stuckMost.id)} (${stuckMost.stuck})` : '–'}</b></div>
</div>
<section id="completion">
<h2>Completion per lesson</h2>
<p class="sub">Learners who completed each lesson (all its checks passed), out of ${N}.</p>
${legend(layers.map((l) => ({ color: layerColor(l), label: layerTitle(l) })))}
${completion}
</section>
<section id="stuck">
<h2>Where learners got stuck</h2>
<p class="sub">Median check runs and hints per learner who started the lesson; “stuck”: started but not completed.</p>
${legend([
  { color: '#2563eb', label: 'median attempts' },
  { color: '#f59e0b', label: 'hints per learner' },
])}
${stuck}
<h3 style="font-size:14px;margin:14px 0 0">Checks failing in learners' last runs</h3>
${failingList}
</section>
<section id="time">
<h2>Time per lesson</h2>
<p class="sub">Median active time of the learners who started the lesson; the black tick marks the longest.</p>
${legend([
  { color: '#7c3aed', label: 'median time' },
  { color: '#0f172a', label: 'longest', kind: 'line' },
])}
${time}
</section>
<section id="per-learner">
<h2>Learners</h2>
<p class="sub">One row per learner (the latest export of each); each square is a lesson, in the order of the charts above.</p>
${legend([
  { color: 'var(--done)', label: 'done' },
  { color: 'var(--started)', label: 'started' },
  { color: 'var(--none)', label: 'not started' },
])}
${learnerTable(r)}
</section>
${notes.length ? `<section id="notes"><h2>Notes</h2><ul class="notes">${notes.join('')}</ul></section>` : ''}
<footer>kube-seclab · ${N} export${N === 1 ? '' : 's'} merged</footer>
</main>
</body>
</html>
`;
}
