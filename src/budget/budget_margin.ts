/**
 * The margin of an ms budget. A latency table predicts a network's time to a
 * few percent, and the constrained decoder spends the budget to the last
 * 0.01 ms, so a network decoded at the budget measures over it about as often
 * as not (docs/web.md#what-was-measured). The search therefore decodes within
 * limit x (1 - margin), with the margin taken from the table's own check
 * (latency-table --check), or a constant when the table was never checked.
 *
 * A network predicted at P that measures r x P, and a further (1 + noise) in
 * another run, is within the budget B when P <= B / (r (1 + noise)); so
 * margin = 1 - 1 / (r (1 + noise)), with r the check's worst measured /
 * predicted (1 when the table over-predicts every checked network).
 */
import { LatencyTableData } from './latency_table';

/**
 * Run-to-run spread of one network's measured time: the same network measured
 * 3.00 and 3.22 s minutes apart (onnxruntime, docs/budget.md#latency-tables),
 * and in the browser 72.27 and 75.80 ms (docs/web.md#what-was-measured), both
 * on a quiet machine.
 */
export const TIMING_NOISE = 0.05;

/**
 * For a table without a check: the worst predicted / measured the docs
 * report for a calibrated table (0.928, onnxruntime at 128x256,
 * docs/budget.md#latency-tables), as a measured / predicted ratio.
 */
export const UNCHECKED_WORST_RATIO = 1 / 0.928;

/** What --budget-margin takes: below 0.5, so that a percentage typed as a fraction's digits (5 for 5%) is caught. */
export const MARGIN_RANGE = { min: 0, max: 0.5 } as const;

/** The margin within which a network measuring up to `worstRatio` x its prediction, plus timing noise, stays within the budget. */
export function marginFor(worstRatio: number): number {
  return 1 - 1 / (Math.max(1, worstRatio) * (1 + TIMING_NOISE));
}

export const UNCHECKED_MARGIN = marginFor(UNCHECKED_WORST_RATIO);

/** The worst measured / predicted over the networks a table was checked on, or null when it was not checked. */
export function worstMeasuredRatio(table: LatencyTableData): number | null {
  const networks = table.check?.networks;
  return networks?.length ? Math.max(...networks.map((n) => n.measuredMs / n.predictedMs)) : null;
}

/** The margin search --budget-ms takes by default with this table, and a phrase saying where it came from. */
export function tableMargin(table: LatencyTableData): { margin: number; marginFrom: string } {
  const worst = worstMeasuredRatio(table);
  const noise = `${(100 * TIMING_NOISE).toFixed(0)}% timing noise`;
  if (worst === null) {
    return { margin: UNCHECKED_MARGIN, marginFrom: `default for a table without a check (latency-table --check N records one): ${noise} and measured up to x ${UNCHECKED_WORST_RATIO.toFixed(3)} its prediction` };
  }
  const n = table.check!.networks.length;
  return { margin: marginFor(worst), marginFrom: `the table's check on ${n} network${n === 1 ? '' : 's'}: measured up to x ${worst.toFixed(3)} its prediction, and ${noise}` };
}

/** The limit the decoder meets: the budget less its margin (ms budgets; Multi-Adds are counted exactly and have none). */
export function effectiveLimit(s: { limit: number; margin?: number }): number {
  return s.limit * (1 - (s.margin ?? 0));
}
