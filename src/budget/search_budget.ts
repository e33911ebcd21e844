/**
 * Search under a cost budget: the cost of the *retrained* network (its F and
 * input size, not the supernet's) enters the architecture step as a penalty on
 * its expected cost, and the architecture is decoded within the budget.
 *
 * Penalty (a hinge on the log ratio, added to the architecture loss):
 *   P(alpha, beta) = weight * max(0, ln(E(alpha, beta) / budget))
 * where E is the expected cost under the relaxed architecture
 * (expected_cost.ts). Nothing pushes once E is within the budget, so accuracy
 * alone decides among affordable architectures; above it, the push is
 * scale-free (a 10% excess costs weight * 0.095 whatever the unit).
 * An ms budget is the limit less its margin (budget_margin.ts): a
 * measured table's predictions are a few percent off, Multi-Adds are exact.
 */
import * as T from '../engine';
import { CostTable, MultiAddsTable } from './cost_table';
import { Genotype } from '../arch/genotype';
import { BudgetError, cheapestCost, decodeWithinBudget } from './constrained_decode';
import { SearchSpaceConfig } from '../search/search_config';
import { expectedCost } from './expected_cost';
import { alphaRows } from '../search/decode';
import { Supernet } from '../search/supernet';
import { ArchConstraint, SearchConstraint } from '../search/constraint';
import { effectiveLimit } from './budget_margin';

export interface BudgetSettings {
  /** The limit, in the table's unit: Multi-Adds (200e9 for "200 B") or milliseconds. */
  limit: number;
  unit: 'multiAdds' | 'ms';
  /** Input [H, W] of the retrained network (Multi-Adds tables). Default 1024x2048. */
  size: [number, number];
  /** F of the retrained network. Default 20 (Auto-DeepLab-S). */
  filterMultiplier: number;
  /** Weight of the penalty. */
  weight: number;
  /** An ms budget's latency table: its path (absolute, recorded in config.json) and the SHA-256 of its bytes. */
  latencyTable?: string;
  latencyTableSha256?: string;
  /** An ms budget's margin for the table's error: the search penalises and decodes within limit x (1 - margin) (budget_margin.ts). */
  margin?: number;
  /** Where the margin came from (the flag, the config file, the table's check, the default), for the record. */
  marginFrom?: string;
  /** An ms budget checked by timing the decoded network, in at most this many rounds (verify_latency.ts; done after the search). */
  verify?: number;
}

/**
 * The settings a resumed search must match: the table by its content, not by
 * where it lies (a copy under another name is the same budget; a table
 * rewritten in place is not); the margin by its value, wherever it came from.
 * Not the timing of the result, which comes after the search (a finished
 * search resumed with --verify-latency is timed then).
 */
export function resumableBudget(b: BudgetSettings): Omit<BudgetSettings, 'latencyTable' | 'marginFrom' | 'verify'> {
  const { latencyTable: _path, marginFrom: _from, verify: _verify, ...rest } = b;
  return rest;
}

export const DEFAULT_BUDGET = Object.freeze({ size: [1024, 2048] as [number, number], filterMultiplier: 20, weight: 1 });

/** What a budgeted search records each epoch. */
export interface BudgetState {
  limit: number;
  unit: string;
  /** Expected cost under the relaxed architecture. */
  expected: number;
  /** Exact cost of the decoded architecture. */
  cost: number;
  penalty: number;
  /** With a margin (ms budgets): the limit less it, which the penalty and the decoder work to. */
  effectiveLimit?: number;
}

export class SearchBudget implements ArchConstraint {
  readonly table: CostTable;
  /** The limit the penalty and the decoder work to: the budget less its margin. */
  readonly limit: number;

  /**
   * table: a measured latency table (unit ms); else the Multi-Adds of the
   * retrained network. source: where the limit was set, for messages (the flag, or a config file's field).
   */
  constructor(readonly settings: BudgetSettings, cfg: SearchSpaceConfig, net: Supernet, table?: CostTable, source = settings.unit === 'ms' ? '--budget-ms' : '--budget') {
    this.table = table ?? new MultiAddsTable({ filterMultiplier: settings.filterMultiplier, blocks: cfg.blocks, numClasses: cfg.numClasses, size: settings.size });
    if (this.table.unit !== settings.unit) throw new Error(`budget: a ${settings.unit} budget needs a ${settings.unit} table, got ${this.table.unit}`);
    this.limit = effectiveLimit(settings);
    const cheapest = cheapestCost(net.trellis, this.table, net.cfg.alphaPerLayer);
    if (cheapest > this.limit) {
      throw new BudgetError(`${source}: ${describeLimit(settings)} is below the cheapest architecture of this search space (L = ${cfg.layers}, B = ${cfg.blocks}): ${format(cheapest, settings.unit)}` +
        (settings.margin ? ' (a smaller --budget-margin, at the risk of measuring over the budget)' : ''));
    }
  }

  /** Expected cost, penalty and their gradient with respect to alphaHat and betaHat. */
  private evaluate(net: Supernet) {
    const snap = net.snapshot();
    const e = expectedCost(snap.alpha, snap.beta, net.trellis, this.table);
    const over = e.value > this.limit;
    return { e, snap, penalty: over ? this.settings.weight * Math.log(e.value / this.limit) : 0, over };
  }

  /**
   * Adds the penalty's gradient to alpha.grad and beta.grad (call after the
   * loss's gradient, before the optimiser's step). Returns the penalty.
   */
  addPenaltyGrad(net: Supernet): number {
    const { e, penalty, over } = this.evaluate(net);
    if (!over) return 0;
    const scale = this.settings.weight / e.value; // d penalty / d E
    T.tidy(() => {
      const { alphaHat, betaHat } = net.normalized();
      const dtype = alphaHat.dtype as 'float32' | 'float64';
      const gA = T.tensor(alphaRows(e.dAlpha).flat().map((v) => v * scale), alphaHat.shape, { dtype }); // (edges, ops) or (L, edges, ops)
      const gB = T.tensor(e.dBeta.flat(2).map((v) => v * scale), betaHat.shape, { dtype });
      // A surrogate whose gradient with respect to alphaHat, betaHat is d penalty / d alphaHat, betaHat.
      const surrogate = T.add(T.sum(T.mul(alphaHat, gA)), T.sum(T.mul(betaHat, gB)));
      const arch = net.archParameters();
      T.grad(surrogate, arch).forEach((g, i) => {
        const before = arch[i].grad;
        arch[i].grad = before ? T.add(before, g!) : g;
      });
    });
    return penalty;
  }

  /** The most probable architecture within the budget (constrained_decode.ts), and the state to log. */
  decode(net: Supernet): { genotype: Genotype; state: BudgetState } {
    const { e, snap, penalty } = this.evaluate(net);
    const { genotype, cost } = decodeWithinBudget(snap.alpha, snap.beta, net.trellis, this.table, this.limit);
    const margined = this.settings.margin === undefined ? {} : { effectiveLimit: this.limit };
    return { genotype, state: { limit: this.settings.limit, unit: this.settings.unit, expected: e.value, cost, penalty, ...margined } };
  }
}

/**
 * The budget as the search takes it (runSearch's `constraint`). table: a
 * measured latency table for an ms budget (else Multi-Adds); source: where the
 * limit was set, for messages.
 */
export function budgetConstraint(settings: BudgetSettings, table?: CostTable, source?: string): SearchConstraint {
  return { settings, resumable: resumableBudget(settings), attach: (cfg, net) => new SearchBudget(settings, cfg, net, table, source) };
}

/** "70.00 ms", or with a margin "70.00 ms less its 8.86% margin (63.80 ms)". */
export function describeLimit(s: BudgetSettings): string {
  return s.margin === undefined ? format(s.limit, s.unit) : `${format(s.limit, s.unit)} less its ${(100 * s.margin).toFixed(2)}% margin (${format(effectiveLimit(s), s.unit)})`;
}

export function format(v: number, unit: string): string {
  return unit === 'ms' ? `${v.toFixed(2)} ms` : `${(v / 1e9).toFixed(2)} B Multi-Adds`;
}
