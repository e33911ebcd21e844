/** The flags of a search under a cost budget (src/search/budget.ts): --budget and its companions. */
import { Command } from 'commander';
import { ConfigError } from '../util/errors';
import { MultiAddsTable, networkCost } from '../arch/cost_table';
import { Genotype } from '../arch/genotype';
import { BudgetSettings, DEFAULT_BUDGET, format } from '../search/budget';
import { SearchConfig } from '../search/config';
import { int, numIn, sizeArg } from './options';

const COMPANIONS = ['budgetSize', 'budgetFilterMultiplier', 'budgetWeight'] as const;

export function addBudgetOptions(cmd: Command): Command {
  return cmd
    .option('--budget <billions>', 'Multi-Adds budget of the retrained network, in billions (e.g. 250); off by default', numIn(0, 1e6, true))
    .option('--budget-size <HxW>', 'input size at which the budget counts Multi-Adds (default 1024x2048)', sizeArg)
    .option('--budget-filter-multiplier <F>', 'F of the retrained network the budget counts (default 20, Auto-DeepLab-S)', int(1))
    .option('--budget-weight <w>', 'weight of the penalty w * max(0, ln(expected cost / budget)) (default 1)', numIn(0, 1e6));
}

/** The budget the flags ask for, or undefined; a companion flag without --budget is refused (exit 2). */
export function budgetFromFlags(cmd: Command): BudgetSettings | undefined {
  const o = cmd.opts() as { budget?: number; budgetSize?: [number, number]; budgetFilterMultiplier?: number; budgetWeight?: number };
  if (o.budget === undefined) {
    const stray = COMPANIONS.find((k) => o[k] !== undefined);
    if (stray) throw new ConfigError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: only meaningful with --budget`);
    return undefined;
  }
  return {
    limit: o.budget * 1e9, unit: 'multiAdds', size: o.budgetSize ?? DEFAULT_BUDGET.size,
    filterMultiplier: o.budgetFilterMultiplier ?? DEFAULT_BUDGET.filterMultiplier, weight: o.budgetWeight ?? DEFAULT_BUDGET.weight,
  };
}

/** One line: the decoded network's exact cost against the budget. */
export function budgetSummary(b: BudgetSettings, g: Genotype, cfg: SearchConfig): string {
  const t = new MultiAddsTable({ filterMultiplier: b.filterMultiplier, blocks: cfg.blocks, numClasses: cfg.numClasses, size: b.size });
  return `cost of the decoded network at ${b.size[0]}x${b.size[1]}, F = ${b.filterMultiplier}: ${format(networkCost(t, g.cell, g.path), b.unit)} ` +
    `(budget ${format(b.limit, b.unit)})\n`;
}
