/**
 * The budget of a search (src/budget/search_budget.ts): the flags --budget or
 * --budget-ms and their companions, or a `budget` section of the --config
 * file, which the typed flags override.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError, ConfigError } from '../util/errors';
import { readJsonFile } from '../util/json';
import { CostTable, genotypeCost, MultiAddsTable } from '../budget/cost_table';
import { Genotype } from '../arch/genotype';
import { LatencyTable, validateLatencyTable } from '../budget/latency_table';
import { checkField, FieldSpec } from '../run/config_schema';
import { BudgetSettings, DEFAULT_BUDGET, describeLimit, format } from '../budget/search_budget';
import { MARGIN_RANGE, tableMargin } from '../budget/budget_margin';
import { VERIFY_ROUNDS } from '../budget/verify_latency';
import { SearchConfig } from '../search/search_config';
import { int, intIn, numIn, readJsonConfig, sizeArg } from './options';

type BudgetFlags = {
  budget?: number; budgetMs?: number; budgetSize?: [number, number]; budgetFilterMultiplier?: number; budgetWeight?: number; latencyTable?: string; budgetMargin?: number; verifyLatency?: number;
};

/**
 * A budget as the --config file gives it: the record config.json keeps under
 * `budget` (limit in the table's unit: Multi-Adds, not billions, or ms), plus
 * latencyTable for an ms budget (relative to the config file):
 *   "budget": {"limit": 240e9, "unit": "multiAdds", "size": [1024, 2048], "filterMultiplier": 20, "weight": 1}
 *   "budget": {"limit": 150, "unit": "ms", "latencyTable": "table.json", "margin": 0.05, "verify": 3}
 */
interface BudgetFields {
  limit?: number; unit?: 'multiAdds' | 'ms'; size?: [number, number]; filterMultiplier?: number; weight?: number; latencyTable?: string; margin?: number; verify?: number;
  /** As config.json records it: the table must still have these bytes. */
  latencyTableSha256?: string;
  /** As config.json records it: where the margin came from (a record; the margin itself is what counts). */
  marginFrom?: string;
}
type Field = keyof BudgetFields;
const COMPANIONS = ['size', 'filterMultiplier', 'weight', 'latencyTable', 'margin', 'verify'] as const;
const FLAG_OF: Record<(typeof COMPANIONS)[number], string> = {
  size: '--budget-size', filterMultiplier: '--budget-filter-multiplier', weight: '--budget-weight', latencyTable: '--latency-table', margin: '--budget-margin', verify: '--verify-latency',
};
/** The budget flag each companion goes with. */
const ONLY_WITH: Record<(typeof COMPANIONS)[number], string> = {
  size: '--budget', filterMultiplier: '--budget', weight: '--budget or --budget-ms', latencyTable: '--budget-ms', margin: '--budget-ms', verify: '--budget-ms',
};
const MARGIN_SPEC: FieldSpec = { kind: 'number', min: MARGIN_RANGE.min, max: MARGIN_RANGE.max, maxOpen: true, why: 'a fraction of the budget: 0.05 holds back 5%' };
const NUMERIC: Partial<Record<Field, FieldSpec>> = {
  limit: { kind: 'number', min: 0, minOpen: true },
  size: { kind: 'pair', min: 16, max: 16384, why: 'an input HxW' },
  filterMultiplier: { kind: 'int', min: 1 },
  weight: { kind: 'number', min: 0, max: 1e6 },
  margin: MARGIN_SPEC,
  verify: { kind: 'int', min: 1, max: VERIFY_ROUNDS.max, why: 'rounds of timing the decoded network' },
};

/** --budget-margin: a number MARGIN_SPEC accepts. */
function marginArg(v: string): number {
  const n = v.trim() === '' ? NaN : Number(v);
  const problem = checkField(MARGIN_SPEC, n);
  if (problem) throw new InvalidArgumentError(`expected a number in [${MARGIN_RANGE.min}, ${MARGIN_RANGE.max}) (a fraction of the budget: 0.05 holds back 5%), got '${v}'`);
  return n;
}

/** The largest value of each budget flag (billions of Multi-Adds, ms): far above any network, so a typo is caught. */
export const BUDGET_MAX = { '--budget': 1e6, '--budget-ms': 1e9 } as const;

export function addBudgetOptions(cmd: Command): Command {
  return cmd
    .option('--budget <billions>', 'Multi-Adds budget of the retrained network, in billions (e.g. 250); off by default', numIn(0, BUDGET_MAX['--budget'], true))
    .option('--budget-size <HxW>', 'input size at which the budget counts Multi-Adds (default 1024x2048)', sizeArg)
    .option('--budget-filter-multiplier <F>', 'F of the retrained network the budget counts (default 20, Auto-DeepLab-S)', int(1))
    .option('--budget-ms <ms>', 'latency budget of the retrained network in ms, with --latency-table', numIn(0, BUDGET_MAX['--budget-ms'], true))
    .option('--latency-table <file>', 'a table written by autodeeplab latency-table (its size and F are the retrained network\'s)')
    .option('--budget-weight <w>', 'weight of the penalty w * max(0, ln(expected cost / budget)) (default 1)', numIn(0, 1e6))
    .option('--budget-margin <fraction>', 'with --budget-ms: decode within ms x (1 - fraction), for the table\'s error (default: from the table\'s latency-table --check, else '
      + 'a constant; docs/budget.md#the-margin-of-an-ms-budget)', marginArg)
    .addOption(new Option('--verify-latency [rounds]', `with --budget-ms: time the decoded network in the table's runtime and, while it measures over the budget, decode again `
      + `within less, up to this many timings (default ${VERIFY_ROUNDS.default}; docs/budget.md#measuring-the-decoded-network)`)
      .preset(String(VERIFY_ROUNDS.default)).argParser(intIn(1, VERIFY_ROUNDS.max, 'rounds of timing the decoded network')));
}

/** The `budget` section of a config file, checked field by field; a latency table's path made relative to the file. */
function fileFields(data: unknown, file: string): BudgetFields {
  const bad = (f: string, expected: string, got: unknown): never => {
    throw new ConfigError(`${file}: field 'budget${f ? `.${f}` : ''}' ${expected}, got ${JSON.stringify(got)}`);
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) bad('', 'must be an object {"limit", "unit", ...}', data);
  const o = data as Record<string, unknown>;
  const known = ['limit', 'unit', ...COMPANIONS, 'latencyTableSha256', 'marginFrom'];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new ConfigError(`${file}: unknown field 'budget.${k}' (known: ${known.join(', ')})`);
  if (o.unit !== 'multiAdds' && o.unit !== 'ms') bad('unit', 'must be "multiAdds" or "ms"', o.unit);
  if (o.limit === undefined) bad('limit', `must be the budget in ${o.unit === 'ms' ? 'ms' : 'Multi-Adds (e.g. 240e9 for 240 B)'}`, o.limit);
  for (const [k, spec] of Object.entries(NUMERIC)) {
    const problem = o[k] === undefined ? null : checkField(spec, o[k]);
    if (problem) bad(k, problem, o[k]);
  }
  if (o.size !== undefined && !(o.size as number[]).every(Number.isInteger)) bad('size', 'must be two integers [H, W]', o.size);
  if (o.latencyTable !== undefined && (typeof o.latencyTable !== 'string' || !o.latencyTable)) bad('latencyTable', 'must be a file name', o.latencyTable);
  if (o.marginFrom !== undefined && typeof o.marginFrom !== 'string') bad('marginFrom', 'must be a string (a record of where the margin came from)', o.marginFrom);
  if (o.latencyTableSha256 !== undefined && !(typeof o.latencyTableSha256 === 'string' && /^[0-9a-f]{64}$/.test(o.latencyTableSha256))) bad('latencyTableSha256', 'must be 64 hex digits', o.latencyTableSha256);
  if (o.unit === 'multiAdds' && typeof o.limit === 'number' && o.limit < 1e6) bad('limit', 'is in Multi-Adds, not billions (e.g. 240e9 for 240 B)', o.limit);
  return { ...o, ...(o.latencyTable ? { latencyTable: path.resolve(path.dirname(file), o.latencyTable as string) } : {}) } as BudgetFields;
}

/** The fields the typed flags give (only those typed). */
function flagFields(o: BudgetFlags): BudgetFields {
  if (o.budget !== undefined && o.budgetMs !== undefined) throw new ConfigError('--budget and --budget-ms: give one budget, not both');
  const limit: BudgetFields = o.budget !== undefined ? { limit: o.budget * 1e9, unit: 'multiAdds' } : o.budgetMs !== undefined ? { limit: o.budgetMs, unit: 'ms' } : {};
  const rest: BudgetFields = { size: o.budgetSize, filterMultiplier: o.budgetFilterMultiplier, weight: o.budgetWeight, latencyTable: o.latencyTable, margin: o.budgetMargin, verify: o.verifyLatency };
  return { ...limit, ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) };
}

/**
 * The budget the flags and the --config file ask for (and a latency table), or
 * undefined. A budget flag of the other unit than the file's replaces the
 * file's budget; otherwise the typed flags override its fields. Inconsistent
 * settings exit 2, naming the flag or the file's field.
 */
export function resolveBudget(cmd: Command, { blocks, numClasses }: { blocks: number; numClasses: number }): { settings: BudgetSettings; table?: CostTable; source: string } | undefined {
  const file = cmd.getOptionValue('config') as string | undefined;
  const section = file ? readJsonConfig(file).budget : undefined;
  const fromFile = section === undefined ? {} : fileFields(section, file!);
  const typed = flagFields(cmd.opts() as BudgetFlags);
  const m: BudgetFields = { ...(typed.unit && typed.unit !== fromFile.unit ? {} : fromFile), ...typed };
  const isFlag = (f: Field) => f in typed;
  const where = (f: Field) => (isFlag(f) ? (f === 'limit' || f === 'unit' ? (m.unit === 'ms' ? '--budget-ms' : '--budget') : FLAG_OF[f as keyof typeof FLAG_OF]) : `${file}: field 'budget.${f}'`);
  const weight = m.weight ?? DEFAULT_BUDGET.weight;
  if (m.limit === undefined) {
    // Only flags can be here: a file's budget has a limit.
    const stray = COMPANIONS.find((k) => m[k] !== undefined);
    if (stray) throw new ConfigError(`${where(stray)}: only meaningful with ${ONLY_WITH[stray]}`);
    return undefined;
  }
  if (m.unit === 'ms') {
    if (!m.latencyTable) {
      throw new ConfigError(isFlag('limit') ? '--budget-ms: needs --latency-table FILE (write one with autodeeplab latency-table)'
        : `${file}: field 'budget.latencyTable' must name a table written by autodeeplab latency-table (an ms budget needs one), got undefined`);
    }
    const tableName = isFlag('latencyTable') ? '--latency-table' : `${file}: field 'budget.latencyTable'`;
    const table = new LatencyTable(validateLatencyTable(readJsonFile(m.latencyTable, tableName), m.latencyTable));
    const sha = createHash('sha256').update(fs.readFileSync(m.latencyTable)).digest('hex');
    if (m.latencyTableSha256 !== undefined && m.latencyTableSha256 !== sha && !isFlag('latencyTable')) {
      throw new ConfigError(`${file}: field 'budget.latencyTableSha256': ${m.latencyTable} is no longer the table the run recorded (its bytes changed); give that table, or drop the field`);
    }
    if (table.shape.blocks !== blocks) throw new BadInputError(`${tableName}: ${m.latencyTable} was measured for B = ${table.shape.blocks} blocks, the search has ${blocks}`);
    if (table.shape.numClasses !== numClasses) {
      throw new BadInputError(`${tableName}: ${m.latencyTable} was measured for ${table.shape.numClasses} classes, the search's data has ${numClasses} (measure it with latency-table --classes ${numClasses})`);
    }
    const fixed = { size: [...table.shape.size] as [number, number], filterMultiplier: table.shape.filterMultiplier };
    for (const f of ['size', 'filterMultiplier'] as const) {
      if (m[f] === undefined) continue;
      if (isFlag(f)) throw new ConfigError(`${FLAG_OF[f]}: the latency table fixes it; use it with --budget`);
      // As config.json records it: the table's size and F, accepted when they agree.
      if (JSON.stringify(m[f]) !== JSON.stringify(fixed[f])) throw new ConfigError(`${where(f)} must be the latency table's ${JSON.stringify(fixed[f])} (the table fixes it), got ${JSON.stringify(m[f])}`);
    }
    // A margin given by the flag or the file, else the one the table's check calls for (budget_margin.ts).
    const margin = m.margin === undefined ? tableMargin(table.data) : { margin: m.margin, marginFrom: isFlag('margin') ? '--budget-margin' : `${file}: field 'budget.margin'` };
    const verify = m.verify === undefined ? {} : { verify: m.verify };
    return { settings: { limit: m.limit, unit: 'ms', ...fixed, weight, latencyTable: path.resolve(m.latencyTable), latencyTableSha256: sha, ...margin, ...verify }, table, source: where('limit') };
  }
  for (const f of ['latencyTable', 'margin', 'verify'] as const) {
    if (m[f] !== undefined) throw new ConfigError(isFlag(f) ? `${FLAG_OF[f]}: only meaningful with --budget-ms` : `${where(f)} is only meaningful with "unit": "ms"`);
  }
  return {
    settings: { limit: m.limit, unit: 'multiAdds', size: m.size ?? DEFAULT_BUDGET.size, filterMultiplier: m.filterMultiplier ?? DEFAULT_BUDGET.filterMultiplier, weight },
    source: where('limit'),
  };
}

/** One line: the decoded network's exact cost against the budget. */
export function budgetSummary(b: { settings: BudgetSettings; table?: CostTable }, g: Genotype, cfg: SearchConfig): string {
  const s = b.settings;
  const t = b.table ?? new MultiAddsTable({ filterMultiplier: s.filterMultiplier, blocks: cfg.blocks, numClasses: cfg.numClasses, size: s.size });
  return `cost of the decoded network at ${s.size[0]}x${s.size[1]}, F = ${s.filterMultiplier}: ${format(genotypeCost(t, g), s.unit)} (budget ${describeLimit(s)})\n`;
}

/** One line before the search: an ms budget's effective limit and where its margin came from ('' for other budgets). */
export function marginLine(s: BudgetSettings): string {
  return s.margin === undefined ? '' : `search: budget ${describeLimit(s)}; margin from ${s.marginFrom}\n`;
}
