/**
 * The HTML page around a report's sections: styles, the inlined chart
 * libraries and the script that renders each chart (./vega.ts). Opened with
 * `?check` (report.html?check), the page also checks itself once drawn and
 * writes the result as JSON into <pre id="report-check">: text that leaves
 * its box or overlaps other text, and each heatmap row's rendered colours of
 * its strongest and weakest cell (the rendering test reads it).
 */
import * as path from 'node:path';
import { libraryScripts } from './vega';
import { esc } from './svg';

const STYLE = `body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px;overflow-wrap:anywhere}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:15px}
figure{margin:12px 0}svg{display:block;margin:8px 0;max-width:100%;height:auto}.diagrams{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{vertical-align:top;padding:3px 10px;text-align:left;border-bottom:1px solid #eee}
table.config th[colspan]{background:#f2f4f7;font-size:13px;padding-top:8px}table.config td:first-child{color:#555;white-space:nowrap}
table.config td{overflow-wrap:anywhere;max-width:640px}table.config pre{white-space:pre-wrap;margin:0;font-size:12px}table.samples img{width:200px;image-rendering:pixelated;display:block}
.legend{display:flex;flex-direction:column;gap:4px;font-size:13px;padding-top:28px}.legend span{display:inline-flex;align-items:center;gap:5px}
.legend i{display:inline-block;width:14px;height:14px;border:1px solid #999}.samples-wrap{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap}
p{max-width:900px;line-height:1.4}.vega-bindings{font-size:12px;color:#444;margin:2px 0 8px}.note{color:#555}.trials-grid{display:flex;flex-wrap:wrap;gap:20px}.trials-grid>div{border:1px solid #eee;padding:8px}`;

/** Renders every chart (SVG, so that text is in the DOM), then ?check runs the self-check. */
const SCRIPT = `(async () => {
  const opts = { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } };
  const charts = [];
  for (const fig of document.querySelectorAll('figure.vega-chart')) {
    const spec = JSON.parse(fig.querySelector('script').textContent);
    const r = await vegaEmbed(fig.querySelector('.view'), spec, opts);
    charts.push({ fig, view: r.view, spec });
  }
  document.body.dataset.charts = String(charts.length);
  if (location.search.includes('check')) selfCheck(charts);
})().catch((e) => { document.body.dataset.error = String(e && e.stack || e); console.error(e); });

function visible(el) {
  for (let n = el; n && n.nodeType === 1; n = n.parentNode) {
    const s = getComputedStyle(n);
    if (s.display === 'none' || s.visibility === 'hidden' || Number(s.opacity) === 0 || n.getAttribute('opacity') === '0') return false;
  }
  return true;
}
function name(el) { return (el.textContent || '').trim().slice(0, 60); }
function selfCheck(charts) {
  const out = { charts: charts.length, svgTexts: 0, overflow: [], overlaps: [], heatmaps: [] };
  const slack = 1;
  for (const svg of document.querySelectorAll('svg')) {
    if (svg.parentNode.closest('svg')) continue;
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')].filter((t) => name(t) && visible(t)).map((t) => ({ t, r: t.getBoundingClientRect() }));
    out.svgTexts += texts.length;
    for (const { t, r } of texts) {
      if (r.left < box.left - slack || r.right > box.right + slack || r.top < box.top - slack || r.bottom > box.bottom + slack) out.overflow.push('svg text: ' + name(t));
    }
    for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
      const [a, b] = [texts[i].r, texts[j].r];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 2 && h > 2) out.overlaps.push(name(texts[i].t) + ' / ' + name(texts[j].t));
    }
  }
  for (const el of document.body.querySelectorAll('h1,h2,h3,p,td,th,li,figcaption,.legend span')) {
    if (!visible(el) || !name(el)) continue;
    if (el.scrollWidth > el.clientWidth + slack) out.overflow.push(el.tagName.toLowerCase() + ': ' + name(el));
  }
  if (document.documentElement.scrollWidth > window.innerWidth + slack) out.overflow.push('page wider than the window: ' + document.documentElement.scrollWidth);
  for (const { fig, view, spec } of charts) {
    if (fig.dataset.kind !== 'heatmap') continue;
    const rows = {};
    (function walk(node) {
      for (const item of (node && node.items) || []) {
        if (node.marktype === 'rect' && node.name && node.name.startsWith('cells') && item.datum) {
          const d = item.datum;
          (rows[d.row] = rows[d.row] || []).push({ col: d.col, value: d.value, fill: item.fill });
        }
        walk(item);
      }
    })(view.scenegraph().root);
    const title = typeof spec.title === 'object' ? spec.title.text : spec.title;
    out.heatmaps.push({ title, rows: Object.entries(rows).map(([row, cells]) => {
      const sorted = cells.slice().sort((a, b) => a.value - b.value);
      return { row, weakest: sorted[0], strongest: sorted[sorted.length - 1] };
    }) });
  }
  out.pageHeight = document.documentElement.scrollHeight;
  const pre = document.createElement('pre');
  pre.id = 'report-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}`;

/** The page: heading, sections, the libraries and the rendering script. */
export function page(runDir: string, heading: string, sections: string[], extra = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>autodeeplab report: ${esc(path.basename(path.resolve(runDir)))}</title>
<style>${STYLE}</style>
${libraryScripts()}
</head>
<body><h1>${heading}: ${esc(path.resolve(runDir))}</h1>
${extra}${sections.join('\n')}
<script>${SCRIPT}</script>
</body></html>
`;
}
