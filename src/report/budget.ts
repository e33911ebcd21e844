/**
 * The report of a search under a budget (budget/search_budget.ts): the expected cost
 * of the relaxed architecture and the exact cost of the decoded one per epoch
 * against the budget, and each epoch's decoded architecture as a point of
 * cost against the supernet's trainB mIoU, beside the released S / M / L costs
 * (Multi-Adds budgets: the same size and class count, F = 20 / 32 / 48).
 */
import { genotypeCost, MultiAddsTable } from '../budget/cost_table';
import { AUTO_DEEPLAB_GENOTYPE } from '../arch/genotype';
import { lineChart, scatter } from './charts';

type Line = Record<string, unknown>;
/** As metrics.jsonl records it; effectiveLimit: an ms budget less its margin (budget/budget_margin.ts). */
interface BudgetLine { limit: number; unit: string; expected: number; cost: number; effectiveLimit?: number }

/** The released architectures (Table 2) by their F: Auto-DeepLab-S, -M, -L. */
export const RELEASED = [['S', 20], ['M', 32], ['L', 48]] as const;

/** Multi-Adds of the released S / M / L at an input size and class count. */
export function releasedMultiAdds(numClasses: number, size: readonly [number, number]): [string, number][] {
  return RELEASED.map(([n, F]) => [n, genotypeCost(new MultiAddsTable({ filterMultiplier: F, blocks: 5, numClasses, size }), AUTO_DEEPLAB_GENOTYPE)]);
}

/** The budget's sections of a search report ('' when the run had no budget). */
export function budgetSections(epochs: Line[], config: Line): string {
  const lines = epochs.filter((r) => r.budget).map((r) => ({ epoch: (r.epoch as number) + 1, mIoU: r.mIoU as number, b: r.budget as BudgetLine }));
  if (!lines.length) return '';
  const { unit, limit, effectiveLimit } = lines[0].b;
  const [scale, label] = unit === 'ms' ? [1, 'ms'] : [1e-9, 'B Multi-Adds'];
  const margined: [string, number][] = effectiveLimit === undefined ? [] : [['budget less margin', effectiveLimit * scale]];
  const out = ['<h2>Cost budget</h2>', lineChart({ title: `cost per epoch (${label})`, x: 'epoch', y: label, series: [
    { name: 'expected (relaxed)', color: '#1f77b4', points: lines.map((l) => [l.epoch, l.b.expected * scale]) },
    { name: 'decoded (exact)', color: '#d62728', points: lines.map((l) => [l.epoch, l.b.cost * scale]) },
    { name: 'budget', color: '#2ca02c', points: lines.map((l) => [l.epoch, limit * scale]) },
    ...margined.map(([name, v]) => ({ name, color: '#98df8a', points: lines.map((l): [number, number] => [l.epoch, v]) })),
  ] })];
  const b = config.budget as { size?: [number, number] } | undefined;
  const markers = unit === 'ms' || !b?.size ? [] : releasedMultiAdds(config.numClasses as number, b.size).map(([n, c]): [string, number] => [n, c * scale]);
  out.push(scatter({ title: 'each epoch\'s decoded architecture: cost and trainB mIoU', subtitle: `dashed: ${markers.length ? 'the released S / M / L and ' : ''}the budget${margined.length ? ', and it less its margin' : ''}`,
    x: label, y: 'supernet trainB mIoU (%)', groups: [['decoded architecture', '#d62728']], markers: [...markers, ['budget', limit * scale], ...margined],
    points: lines.map((l) => ({ x: l.b.cost * scale, y: 100 * l.mIoU, group: 'decoded architecture', label: `epoch ${l.epoch}: ${(l.b.cost * scale).toFixed(2)} ${label}, mIoU ${(100 * l.mIoU).toFixed(2)}` })) }));
  return out.join('\n');
}
