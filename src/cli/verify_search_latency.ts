/**
 * search --verify-latency, after a finished search with an ms budget: the
 * rounds of src/budget/verify_latency.ts with the network timed as
 * `latency-table --from T --genotypes G` times it (timeNetwork: the table's
 * runtime, size, F, classes, threads and clock, latency-table's default
 * repeats), a record of every round in the run directory, and genotype.json
 * replaced by the network the rounds chose.
 *
 *   latency-verify.json   {"budgetMs", "latencyTableSha256", "repeats", "withinBudget", "stopped", "chosenRound",
 *                          "rounds": [{"round", "effectiveBudgetMs", "path", "predictedMs", "measuredMs", "genotype"}]}
 *
 * A resumed run reuses the times its record holds (the same table's bytes,
 * the same repeats) for the networks it decodes again: a finished search
 * resumed is not timed again, and one given more rounds times only the new ones.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Genotype } from '../arch/genotype';
import { NetworkTrellis } from '../arch/trellis';
import { readGenotypeFile, writeGenotypeFile } from '../arch/genotype_file';
import { LatencyTable } from '../budget/latency_table';
import { BudgetSettings, describeLimit } from '../budget/search_budget';
import { effectiveLimit } from '../budget/budget_margin';
import { MeasureNetwork, VerifyOutcome, VerifyRound, verifyLatency } from '../budget/verify_latency';
import { DEFAULT_REPEATS, timeNetwork } from '../deploy/calibrate';
import { closeBrowserRuntimes } from '../deploy/web/runtime';
import { writeFileAtomic } from '../util/files';
import { readJsonFile } from '../util/json';

export const VERIFY_RECORD = 'latency-verify.json';

export interface VerifyRun {
  /** The run directory (genotype.json is there, written by the search). */
  out: string;
  /** An ms budget with `verify` rounds. */
  settings: BudgetSettings;
  table: LatencyTable;
  /** What the search decoded from at its end (Supernet.snapshot()) and its trellis. */
  alpha: number[][] | number[][][];
  beta: number[][][];
  trellis: NetworkTrellis;
  /** A resumed run: times recorded by an earlier verification of this run are reused. */
  resume: boolean;
  print: (line: string) => void;
  warn: (line: string) => void;
  /** The timer (tests inject one); default: timeNetwork in the table's runtime. */
  measure?: MeasureNetwork;
}

interface VerifyRecord {
  version: 1;
  budgetMs: number;
  latencyTable?: string;
  latencyTableSha256?: string;
  repeats: number;
  withinBudget: boolean;
  stopped: string;
  chosenRound: number;
  rounds: VerifyRound[];
}

/** The times an earlier record holds, by genotype, when they were taken with this table and these repeats; else none. */
function recordedTimes(file: string, s: BudgetSettings): Map<string, number> {
  if (!fs.existsSync(file)) return new Map();
  const r = readJsonFile(file, VERIFY_RECORD) as Partial<VerifyRecord>;
  if (r.latencyTableSha256 !== s.latencyTableSha256 || r.repeats !== DEFAULT_REPEATS || !Array.isArray(r.rounds)) return new Map();
  return new Map(r.rounds.filter((x) => typeof x?.measuredMs === 'number').map((x) => [JSON.stringify(x.genotype), x.measuredMs]));
}

const ms = (v: number) => `${v.toFixed(2)} ms`;

/** The line of one round. */
function roundLine(r: VerifyRound, of: number, limitMs: number, recorded: boolean): string {
  const verdict = r.measuredMs <= limitMs ? 'within' : 'over';
  return `search: latency round ${r.round}/${of}: decoded within ${ms(r.effectiveBudgetMs)}, path [${r.path.join(', ')}], predicted ${ms(r.predictedMs)}, ` +
    `measured ${ms(r.measuredMs)}${recorded ? ' (recorded by an earlier run of this search)' : ''}: ${verdict} the ${ms(limitMs)} budget`;
}

/** genotype.json: the chosen network, with the search's record (epoch, alpha, beta) and its budget state updated to it. */
function rewriteGenotype(out: string, o: VerifyOutcome): void {
  const file = path.join(out, 'genotype.json');
  readGenotypeFile(file, 'search'); // the search's own file, validated
  const search = (readJsonFile(file, 'search') as { search?: Record<string, unknown> }).search ?? {};
  const budget = { ...(search.budget as object | undefined), cost: o.chosen.predictedMs, effectiveLimit: o.chosen.effectiveBudgetMs, measuredMs: o.chosen.measuredMs, withinBudget: o.withinBudget };
  writeGenotypeFile(file, o.chosen.genotype, { ...search, budget });
}

/** Runs the rounds, writes the record and genotype.json, prints a line per round; returns the chosen genotype. */
export async function verifySearchLatency(v: VerifyRun): Promise<Genotype> {
  const s = v.settings;
  const rounds = s.verify ?? 1;
  const file = path.join(v.out, VERIFY_RECORD);
  const known = v.resume ? recordedTimes(file, s) : new Map<string, number>();
  const timer = v.measure ?? ((g: Genotype) => timeNetwork(g, v.table.data, DEFAULT_REPEATS));
  const reused = new Set<string>();
  const measure = (g: Genotype) => {
    const key = JSON.stringify(g);
    const t = known.get(key);
    if (t === undefined) return timer(g);
    reused.add(key);
    return Promise.resolve(t);
  };
  v.print(`search: timing the decoded network (${v.table.data.runtime}, ${v.table.data.threads} thread(s), ${v.table.data.clock} clock) against the budget ${describeLimit(s)}, up to ${rounds} round(s)`);
  let outcome: VerifyOutcome;
  try {
    outcome = await verifyLatency({
      alpha: v.alpha, beta: v.beta, trellis: v.trellis, table: v.table, limitMs: s.limit, startMs: effectiveLimit(s), maxRounds: rounds, measure,
      onRound: (r) => v.print(roundLine(r, rounds, s.limit, reused.has(JSON.stringify(r.genotype)))),
    });
  } finally {
    await closeBrowserRuntimes(); // --runtime web's browser
  }
  const record: VerifyRecord = {
    version: 1, budgetMs: s.limit, latencyTable: s.latencyTable, latencyTableSha256: s.latencyTableSha256, repeats: DEFAULT_REPEATS,
    withinBudget: outcome.withinBudget, stopped: outcome.stopped, chosenRound: outcome.chosen.round, rounds: outcome.rounds,
  };
  writeFileAtomic(file, JSON.stringify(record, null, 1) + '\n');
  rewriteGenotype(v.out, outcome);
  const c = outcome.chosen;
  if (outcome.withinBudget) {
    v.print(`search: round ${c.round}'s network measured ${ms(c.measuredMs)}, within the ${ms(s.limit)} budget: genotype.json holds it (every round: ${file})`);
  } else {
    v.warn(`search: warning: no decoded network measured within the ${ms(s.limit)} budget (${outcome.stopped}); genotype.json holds the last one, ` +
      `measured ${ms(c.measuredMs)} (every round: ${file}; a larger --budget-margin or more --verify-latency rounds may meet it)`);
  }
  return c.genotype;
}
