/**
 * The measured check of an ms budget (search --verify-latency): the decoded
 * network is timed end to end in the table's runtime; when it measures over
 * the budget, the search's final alpha and beta are decoded again within a
 * smaller budget, and so on for a few rounds.
 *
 * Why a margin is not enough: the decoder picks the networks the table
 * prices lowest, and so those whose entries happen to be measured low (a
 * winner's curse); the margin comes from randomly drawn networks and cannot
 * know how far the chosen one is under-predicted (docs/budget.md). Only
 * timing the chosen network does.
 *
 * The next round's budget: a network predicted at P measured M > B (the
 * budget). Read as "this kind of network measures M / P times its
 * prediction", a network measures within B when predicted within P x B / M,
 * which is below both P (so the same network is never decoded again) and the
 * round's budget (P is within it): each round decodes within a smaller one.
 */
import { Genotype, Level } from '../arch/genotype';
import { NetworkTrellis } from '../arch/trellis';
import { cheapestCost, decodeWithinBudget } from './constrained_decode';
import { CostTable } from './cost_table';
import { isPerLayer } from '../search/decode';

/**
 * Rounds of timing: by default 3 (each a network exported and timed end to
 * end, seconds in the browser); at most 10, since a budget that 10 rounds of
 * shrinking by measured / predicted do not meet is the table's fault, not the
 * decoder's (latency-table --check, or a larger --budget-margin).
 */
export const VERIFY_ROUNDS = { default: 3, max: 10 } as const;

/** Times the whole network of a genotype, in ms (the table's runtime, size, F, classes, threads and clock). */
export type MeasureNetwork = (g: Genotype) => Promise<number>;

export interface VerifyRound {
  /** 1-based. */
  round: number;
  /** The budget this round decoded within (ms, as the table predicts). */
  effectiveBudgetMs: number;
  path: Level[];
  predictedMs: number;
  measuredMs: number;
  genotype: Genotype;
}

export interface VerifyOutcome {
  rounds: VerifyRound[];
  /** The round whose genotype the search keeps: the first measured within the budget, else the last. */
  chosen: VerifyRound;
  withinBudget: boolean;
  /** Why the rounds stopped: 'within budget', 'rounds used up', or the next budget below the cheapest network. */
  stopped: string;
}

export interface VerifyOptions {
  /** Normalised alpha ([edge][op] or [layer][edge][op]) and beta, as the search decoded from (Supernet.snapshot()). */
  alpha: number[][] | number[][][];
  beta: number[][][];
  trellis: NetworkTrellis;
  table: CostTable;
  /** The budget the measured time must meet, ms. */
  limitMs: number;
  /** The first round's budget: the budget less its margin, as the search decoded within. */
  startMs: number;
  /** Most rounds (measurements), >= 1. */
  maxRounds: number;
  measure: MeasureNetwork;
  onRound?: (r: VerifyRound) => void;
}

/** The budget of the round after one that measured over the limit (see the file's comment). */
export function nextBudget(r: Pick<VerifyRound, 'predictedMs' | 'measuredMs'>, limitMs: number): number {
  return (r.predictedMs * limitMs) / r.measuredMs;
}

export async function verifyLatency(o: VerifyOptions): Promise<VerifyOutcome> {
  if (!(Number.isInteger(o.maxRounds) && o.maxRounds >= 1)) throw new RangeError(`verifyLatency: maxRounds must be an integer >= 1, got ${o.maxRounds}`);
  const rounds: VerifyRound[] = [];
  let budget = o.startMs;
  let stopped = 'rounds used up';
  for (let i = 0; i < o.maxRounds; i++) {
    if (i > 0) {
      budget = nextBudget(rounds[i - 1], o.limitMs);
      const cheapest = cheapestCost(o.trellis, o.table, isPerLayer(o.alpha));
      if (budget < cheapest) {
        stopped = `the next budget (${budget.toFixed(2)} ms) is below the cheapest network of the space (${cheapest.toFixed(2)} ms)`;
        break;
      }
    }
    const { genotype, cost } = decodeWithinBudget(o.alpha, o.beta, o.trellis, o.table, budget);
    const measuredMs = await o.measure(genotype);
    const r: VerifyRound = { round: i + 1, effectiveBudgetMs: budget, path: [...genotype.path], predictedMs: cost, measuredMs, genotype };
    rounds.push(r);
    o.onRound?.(r);
    if (measuredMs <= o.limitMs) return { rounds, chosen: r, withinBudget: true, stopped: 'within budget' };
  }
  return { rounds, chosen: rounds[rounds.length - 1], withinBudget: false, stopped };
}
