/**
 * The report's chart kinds as Vega-Lite specs: line charts (zoom and pan,
 * series toggled from the legend), heatmaps relative to uniform, scatters
 * with labelled markers, and bars. Every mark has a tooltip with its values.
 */
import { esc } from './svg';
import { chart, Spec } from './vega';

export interface Series {
  name: string;
  points: [number, number][];
  color: string;
}

const WIDTH = 560;
const HEIGHT = 260;

/** Drag to pan, wheel to zoom (double-click resets): Vega-Lite's interval selection bound to the scales. */
const ZOOM = { name: 'zoom', select: 'interval', bind: 'scales' };

function title(text: string, subtitle?: string): Spec {
  return subtitle ? { text, subtitle } : { text };
}

const finite = ([x, y]: [number, number]) => Number.isFinite(x) && Number.isFinite(y);

/** A line chart of several series over an integer x (iterations, epochs); a click on a legend entry shows that series alone (shift-click adds). */
export function lineChart(o: { title: string; subtitle?: string; x: string; y: string; series: Series[] }): string {
  const values = o.series.flatMap((s) => s.points.filter(finite).map(([x, y]) => ({ x, y, series: s.name })));
  const shown = o.series.filter((s) => s.points.some(finite));
  if (!values.length) return `<p class="empty">${esc(o.title)}: no data yet.</p>`;
  return chart({
    title: title(o.title, o.subtitle), width: WIDTH, height: HEIGHT, data: { values },
    mark: { type: 'line', point: values.length <= 60 * shown.length, strokeWidth: 1.8 },
    params: [{ name: 'series', select: { type: 'point', fields: ['series'] }, bind: 'legend' }, ZOOM],
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.x, scale: { nice: false, padding: 8 }, axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'y', type: 'quantitative', title: o.y, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: shown.map((s) => s.name), range: shown.map((s) => s.color) }, legend: { orient: 'bottom', direction: 'horizontal' } },
      opacity: { condition: { param: 'series', value: 1 }, value: 0.12 },
      tooltip: [{ field: 'series', title: 'series' }, { field: 'x', title: o.x }, { field: 'y', title: o.y, format: '.4~g' }],
    },
  });
}

export interface HeatmapCell {
  row: string;
  col: string;
  /** The plotted weight (a softmax output or a share). */
  value: number;
  /** A decoded choice: outlined in black. */
  chosen?: boolean;
  /** Extra tooltip text (e.g. which op a cell's weight belongs to). */
  note?: string;
}

/** Per cell: (value / uniform - 1) divided by the largest such departure in `group`'s cells (0 where all are uniform). */
function scaledDepartures(ratios: number[], group: (i: number) => string): number[] {
  const largest = new Map<string, number>();
  ratios.forEach((r, i) => largest.set(group(i), Math.max(largest.get(group(i)) ?? 0, Math.abs(r - 1))));
  return ratios.map((r, i) => (largest.get(group(i))! > 0 ? (r - 1) / largest.get(group(i))! : 0));
}

/**
 * A heatmap. With `uniform` (the weight of each row's cell when nothing is
 * preferred, 1/K for K choices), the colour is the departure from uniform,
 * value / uniform - 1, on a diverging scale (blue below, white at uniform,
 * orange above) stretched to the largest departure of each row, or, chosen
 * in the page, of the whole chart: after a short search every weight is
 * within 1% of 1/K, and only a stretched scale shows which op leads. The
 * tooltip gives the weight itself. Without `uniform`: shares on 0..1.
 */
export function heatmap(o: { title: string; subtitle?: string; rowTitle: string; colTitle: string; rows: string[]; cols: string[];
  cells: HeatmapCell[]; uniform?: (row: string) => number; colStep?: number }): string {
  if (!o.cells.length) return `<p class="empty">${esc(o.title)}: no data yet.</p>`;
  const ratios = o.cells.map((c) => (o.uniform ? c.value / o.uniform(c.row) : c.value));
  const byRow = scaledDepartures(ratios, (i) => o.cells[i].row);
  const byChart = scaledDepartures(ratios, () => '');
  const values = o.cells.map((c, i) => ({ ...c, chosen: !!c.chosen, note: c.note ?? '', ratio: ratios[i], byRow: byRow[i], byChart: byChart[i] }));
  const relative = o.uniform
    ? {
      params: [{ name: 'stretch', value: 'row', bind: { input: 'radio', options: ['row', 'chart'], labels: ['each row', 'whole chart'], name: 'colour stretched to the largest departure of ' } }],
      transform: [{ calculate: "stretch === 'row' ? datum.byRow : datum.byChart", as: 'departure' }],
    }
    : {};
  const color = o.uniform
    ? { field: 'departure', type: 'quantitative', title: 'vs uniform', scale: { domain: [-1, 1], domainMid: 0, scheme: 'blueorange' },
      legend: { values: [-1, 0, 1], labelExpr: "datum.value > 0 ? 'above' : datum.value < 0 ? 'below' : 'uniform'", gradientLength: 120 } }
    : { field: 'ratio', type: 'quantitative', title: 'share', scale: { domain: [0, 1], scheme: 'greens' }, legend: { format: '.0%', gradientLength: 120 } };
  const x = { field: 'col', type: 'ordinal', title: o.colTitle, sort: o.cols, axis: { orient: 'top', labelAngle: 0 } };
  const y = { field: 'row', type: 'ordinal', title: o.rowTitle, sort: o.rows };
  return chart({
    title: title(o.title, o.subtitle), data: { values }, ...relative,
    width: { step: o.colStep ?? 22 }, height: { step: 18 }, view: { fill: '#e8e8e8' }, // grey: no such cell (an arrow off the trellis)
    encoding: { x, y },
    layer: [
      {
        name: 'cells', mark: { type: 'rect' },
        encoding: {
          color,
          tooltip: [{ field: 'row', title: o.rowTitle }, { field: 'col', title: o.colTitle }, { field: 'value', title: 'weight', format: '.4f' },
            ...(o.uniform ? [{ field: 'ratio', title: 'x uniform', format: '.4f' }] : []), { field: 'note', title: 'note' }],
        },
      },
      { mark: { type: 'rect', filled: false, stroke: '#000', strokeWidth: 2 }, transform: [{ filter: 'datum.chosen' }] },
    ],
  }, 'heatmap');
}

export interface Point { x: number; y: number; group: string; label: string; hollow?: boolean }

/** A scatter: points coloured by group (legend toggles), dashed vertical markers named at the top. */
export function scatter(o: { title: string; subtitle?: string; x: string; y: string; points: Point[]; markers: [string, number][];
  groups: [string, string][] }): string {
  // Marker names on up to three rows in x order, so that close markers stay readable.
  const markers = [...o.markers].sort((a, b) => a[1] - b[1]).map(([name, x], i) => ({ name, x, row: i % 3 }));
  const xs = [...o.points.map((p) => p.x), ...markers.map((m) => m.x)];
  const xDomain = [Math.min(...xs) * 0.95, Math.max(...xs) * 1.05];
  const x = { field: 'x', type: 'quantitative', title: o.x, scale: { domain: xDomain, nice: false } };
  const groupScale = { domain: o.groups.map((g) => g[0]), range: o.groups.map((g) => g[1]) };
  return chart({
    title: title(o.title, o.subtitle), width: WIDTH, height: HEIGHT,
    layer: [
      { data: { values: markers }, mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { x } },
      {
        data: { values: markers }, mark: { type: 'text', align: 'left', dx: 3, baseline: 'top', fontSize: 11 },
        encoding: { x, y: { value: 0 }, yOffset: { field: 'row', type: 'quantitative', scale: { range: [2, 30] }, legend: null }, text: { field: 'name' } },
      },
      {
        data: { values: o.points.map((p) => ({ ...p, filled: !p.hollow })) },
        params: [{ name: 'group', select: { type: 'point', fields: ['group'] }, bind: 'legend' }, ZOOM],
        mark: { type: 'point', size: 70, strokeWidth: 2 },
        encoding: {
          x, y: { field: 'y', type: 'quantitative', title: o.y, scale: { zero: false, padding: 40 }, axis: { format: '.3~g' } },
          color: { field: 'group', type: 'nominal', title: null, scale: groupScale, legend: { orient: 'bottom', direction: 'horizontal' } },
          fill: { condition: { test: 'datum.filled', field: 'group', type: 'nominal', scale: groupScale, legend: null }, value: 'white' },
          opacity: { condition: { param: 'group', value: 1 }, value: 0.15 },
          tooltip: { field: 'label', title: 'point' },
        },
      },
    ],
  });
}

/** Horizontal bars of shares (0..1), one per name, value printed at the bar's end. */
export function shareBars(o: { title: string; x: string; bars: { name: string; share: number }[] }): string {
  const y = { field: 'name', type: 'nominal', title: null, sort: o.bars.map((b) => b.name) };
  const xEnc = { field: 'share', type: 'quantitative', title: o.x, axis: { format: '.0%' }, scale: { domain: [0, Math.max(0.05, ...o.bars.map((b) => b.share)) * 1.15] } };
  return chart({
    title: title(o.title), width: 360, height: { step: 20 }, data: { values: o.bars },
    encoding: { y, x: xEnc, tooltip: [{ field: 'name', title: 'op' }, { field: 'share', title: 'share', format: '.1%' }] },
    layer: [{ mark: { type: 'bar', color: '#4c78a8' } }, { mark: { type: 'text', align: 'left', dx: 3 }, encoding: { text: { field: 'share', format: '.1%' } } }],
  });
}
