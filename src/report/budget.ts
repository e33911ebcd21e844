/**
 * The report of a search under a budget (search/budget.ts): the expected cost
 * of the relaxed architecture and the exact cost of the decoded one per epoch
 * against the budget, and each epoch's decoded architecture as a point of
 * cost against the supernet's trainB mIoU, beside the released S / M / L costs
 * (Multi-Adds budgets: the same size and class count, F = 20 / 32 / 48).
 */
import { MultiAddsTable, networkCost } from '../arch/cost_table';
import { AUTO_DEEPLAB_GENOTYPE } from '../arch/genotype';
import { esc, lineChart, svg } from './svg';

type Line = Record<string, unknown>;
interface BudgetLine { limit: number; unit: string; expected: number; cost: number }

/** A scatter of points with dashed vertical markers (name at x). */
function scatter(title: string, xLabel: string, yLabel: string, points: [number, number][], markers: [string, number][], width = 560, height = 280): string {
  const pad = { l: 56, r: 16, t: 28, b: 40 };
  const xs = [...points.map((p) => p[0]), ...markers.map((m) => m[1])];
  const [x0, x1] = [Math.min(...xs) * 0.95, Math.max(...xs) * 1.05];
  const [y0, y1] = [Math.min(...points.map((p) => p[1])), Math.max(...points.map((p) => p[1]))];
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (width - pad.l - pad.r);
  const sy = (y: number) => height - pad.b - ((y - y0) / (y1 - y0 || 1)) * (height - pad.t - pad.b);
  const body = [
    `<text x="${width / 2}" y="18" font-size="14" text-anchor="middle">${esc(title)}</text>`,
    `<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="#444"/>`,
    `<text x="${width / 2}" y="${height - 8}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="12" y="${height / 2}" font-size="12" transform="rotate(-90 12 ${height / 2})" text-anchor="middle">${esc(yLabel)}</text>`,
    ...[y0, y1].map((y) => `<text x="${pad.l - 6}" y="${sy(y) + 4}" font-size="10" text-anchor="end">${y.toPrecision(3)}</text>`),
    ...[x0, x1].map((x) => `<text x="${sx(x)}" y="${height - pad.b + 14}" font-size="10" text-anchor="middle">${x.toPrecision(4)}</text>`),
    ...markers.flatMap(([name, x]) => [`<line x1="${sx(x)}" y1="${pad.t}" x2="${sx(x)}" y2="${height - pad.b}" stroke="#888" stroke-dasharray="4 3"/>`,
      `<text x="${sx(x) + 3}" y="${pad.t + 10}" font-size="11">${esc(name)}</text>`]),
    ...points.map(([x, y], i) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3.5" fill="#d62728"><title>epoch ${i + 1}</title></circle>`),
  ];
  return svg(width, height, body, title);
}

/** The budget's sections of a search report ('' when the run had no budget). */
export function budgetSections(epochs: Line[], config: Line): string {
  const lines = epochs.filter((r) => r.budget).map((r) => ({ epoch: (r.epoch as number) + 1, mIoU: r.mIoU as number, b: r.budget as BudgetLine }));
  if (!lines.length) return '';
  const { unit, limit } = lines[0].b;
  const [scale, label] = unit === 'ms' ? [1, 'ms'] : [1e-9, 'B Multi-Adds'];
  const out = ['<h2>Cost budget</h2>', lineChart(`cost per epoch (${label})`, 'epoch', [
    { name: 'expected (relaxed)', color: '#1f77b4', points: lines.map((l) => [l.epoch, l.b.expected * scale]) },
    { name: 'decoded (exact)', color: '#d62728', points: lines.map((l) => [l.epoch, l.b.cost * scale]) },
    { name: 'budget', color: '#2ca02c', points: lines.map((l) => [l.epoch, limit * scale]) },
  ])];
  const b = config.budget as { size?: [number, number] } | undefined;
  const markers: [string, number][] = unit === 'ms' || !b?.size ? [] : ([['S', 20], ['M', 32], ['L', 48]] as const).map(([n, F]) => {
    const t = new MultiAddsTable({ filterMultiplier: F, blocks: 5, numClasses: config.numClasses as number, size: b.size! });
    return [n, networkCost(t, AUTO_DEEPLAB_GENOTYPE.cell, AUTO_DEEPLAB_GENOTYPE.path) * scale];
  });
  out.push(scatter('each epoch\'s decoded architecture: cost and trainB mIoU (released S / M / L dashed)', label, 'supernet mIoU',
    lines.map((l) => [l.b.cost * scale, l.mIoU]), [...markers, ['budget', limit * scale]]));
  return out.join('\n');
}
