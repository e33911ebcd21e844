/**
 * Charts as Vega-Lite specs (data plus encodings; https://vega.github.io/vega-lite/),
 * drawn in the page by the browser builds of vega, vega-lite and vega-embed,
 * which the report inlines: one self-contained file, nothing fetched at view
 * time. The library gives tooltips, zoom and legend toggling, axes whose
 * labels never collide (labelOverlap) and export to SVG / PNG.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Spec = Record<string, unknown>;

/** What the page script does with a chart: `heatmap` charts are checked for colour spread (?check). */
export type ChartKind = 'chart' | 'heatmap';

/** Shared look: readable at the default window size, titles left-aligned above the plot. */
const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  title: { anchor: 'start', fontSize: 14, subtitleFontSize: 12, subtitleColor: '#555', offset: 8 },
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 220, labelOverlap: true },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  view: { stroke: null },
};

/** A chart's HTML: a figure holding its spec as JSON, rendered by the page script. */
export function chart(spec: Spec, kind: ChartKind = 'chart'): string {
  const full = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG, ...spec };
  // "<" escaped so that no string in the data can close the script element.
  const json = JSON.stringify(full).replace(/</g, '\\u003c');
  return `<figure class="vega-chart" data-kind="${kind}"><div class="view"></div><script type="application/json">${json}</script></figure>`;
}

/** The specs of a page, in order (for tests and for rendering without a browser). */
export function specsOf(html: string): Spec[] {
  return [...html.matchAll(/<figure class="vega-chart"[^>]*><div class="view"><\/div><script type="application\/json">(.*?)<\/script><\/figure>/g)]
    .map((m) => JSON.parse(m[1]) as Spec);
}

/** A file of an installed package, found the way Node finds the package (its `exports` hide build/). */
function packageFile(pkg: string, file: string): string {
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const f = path.join(dir, pkg, file);
    if (fs.existsSync(f)) return f;
  }
  throw new Error(`report: ${pkg}/${file} not found; run \`npm install\` in the autodeeplab folder`);
}

const BUILDS = [['vega', 'build/vega.min.js'], ['vega-lite', 'build/vega-lite.min.js'], ['vega-embed', 'build/vega-embed.min.js']] as const;
let cached: string | null = null;

/** The three libraries as inline script elements (about 850 KB), read once per process. */
export function libraryScripts(): string {
  cached ??= BUILDS.map(([pkg, file]) => {
    // A "</script" inside a library would end the element early; the builds have none, but make sure.
    const js = fs.readFileSync(packageFile(pkg, file), 'utf8').replace(/<\/script/gi, '<\\/script');
    return `<script>/* ${pkg} */\n${js}\n</script>`;
  }).join('\n');
  return cached;
}
