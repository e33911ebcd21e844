/** The flags of a search under a cost budget (src/search/budget.ts): --budget or --budget-ms, and their companions. */
import { Command } from 'commander';
import { BadInputError, ConfigError } from '../util/errors';
import { readJsonFile } from '../util/json';
import { CostTable, genotypeCost, MultiAddsTable } from '../arch/cost_table';
import { Genotype } from '../arch/genotype';
import { LatencyTable, validateLatencyTable } from '../arch/latency_table';
import { BudgetSettings, DEFAULT_BUDGET, format } from '../search/budget';
import { SearchConfig } from '../search/config';
import { int, numIn, sizeArg } from './options';

const COMPANIONS = ['budgetSize', 'budgetFilterMultiplier', 'budgetWeight', 'latencyTable'] as const;
type BudgetFlags = { budget?: number; budgetMs?: number; budgetSize?: [number, number]; budgetFilterMultiplier?: number; budgetWeight?: number; latencyTable?: string };
const flagName = (field: string) => `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function addBudgetOptions(cmd: Command): Command {
  return cmd
    .option('--budget <billions>', 'Multi-Adds budget of the retrained network, in billions (e.g. 250); off by default', numIn(0, 1e6, true))
    .option('--budget-size <HxW>', 'input size at which the budget counts Multi-Adds (default 1024x2048)', sizeArg)
    .option('--budget-filter-multiplier <F>', 'F of the retrained network the budget counts (default 20, Auto-DeepLab-S)', int(1))
    .option('--budget-ms <ms>', 'latency budget of the retrained network in ms, with --latency-table', numIn(0, 1e9, true))
    .option('--latency-table <file>', 'a table written by autodeeplab latency-table (its size and F are the retrained network\'s)')
    .option('--budget-weight <w>', 'weight of the penalty w * max(0, ln(expected cost / budget)) (default 1)', numIn(0, 1e6));
}

/** The budget the flags ask for (and a latency table), or undefined; inconsistent flags exit 2. */
export function budgetFromFlags(cmd: Command, blocks: number): { settings: BudgetSettings; table?: CostTable } | undefined {
  const o = cmd.opts() as BudgetFlags;
  const weight = o.budgetWeight ?? DEFAULT_BUDGET.weight;
  if (o.budget !== undefined && o.budgetMs !== undefined) throw new ConfigError('--budget and --budget-ms: give one budget, not both');
  if (o.budgetMs !== undefined) {
    if (!o.latencyTable) throw new ConfigError('--budget-ms: needs --latency-table FILE (write one with autodeeplab latency-table)');
    for (const f of ['budgetSize', 'budgetFilterMultiplier'] as const) if (o[f] !== undefined) throw new ConfigError(`${flagName(f)}: the latency table fixes it; use it with --budget`);
    const table = new LatencyTable(validateLatencyTable(readJsonFile(o.latencyTable, '--latency-table'), o.latencyTable));
    if (table.shape.blocks !== blocks) throw new BadInputError(`--latency-table: ${o.latencyTable} was measured for B = ${table.shape.blocks} blocks, the search has ${blocks}`);
    return { settings: { limit: o.budgetMs, unit: 'ms', size: [...table.shape.size] as [number, number], filterMultiplier: table.shape.filterMultiplier, weight }, table };
  }
  if (o.budget === undefined) {
    const stray = COMPANIONS.find((k) => o[k] !== undefined);
    if (stray) throw new ConfigError(`${flagName(stray)}: only meaningful with --budget${stray === 'latencyTable' ? '-ms' : ''}`);
    return undefined;
  }
  if (o.latencyTable) throw new ConfigError('--latency-table: only meaningful with --budget-ms');
  return {
    settings: { limit: o.budget * 1e9, unit: 'multiAdds', size: o.budgetSize ?? DEFAULT_BUDGET.size, filterMultiplier: o.budgetFilterMultiplier ?? DEFAULT_BUDGET.filterMultiplier, weight },
  };
}

/** One line: the decoded network's exact cost against the budget. */
export function budgetSummary(b: { settings: BudgetSettings; table?: CostTable }, g: Genotype, cfg: SearchConfig): string {
  const s = b.settings;
  const t = b.table ?? new MultiAddsTable({ filterMultiplier: s.filterMultiplier, blocks: cfg.blocks, numClasses: cfg.numClasses, size: s.size });
  return `cost of the decoded network at ${s.size[0]}x${s.size[1]}, F = ${s.filterMultiplier}: ${format(genotypeCost(t, g), s.unit)} (budget ${format(s.limit, s.unit)})\n`;
}
