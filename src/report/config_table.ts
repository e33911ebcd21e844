/**
 * A run's config.json as a table grouped by purpose (data, network, schedule
 * and optimisers, cost budget, run), nested records flattened to dotted
 * names and a genotype shown as the CLI prints it.
 */
import { cellOfLayer, Genotype } from '../arch/genotype';
import { esc } from './svg';

/** Group of a field, by its dotted name (train runs nest model.* and train.*); the first match wins. */
const GROUPS: [string, RegExp][] = [
  ['Data', /(^|\.)(dataset|dataRoot|datasetSize|numClasses|split|crop|batchSize|baseScale|baseLongerSide|augment|scale|evalImages|builtin\w*|skipBad|coarse)$/],
  ['Cost budget', /^budget\./],
  ['Network', /(^|\.)(layers|blocks|filterMultiplier|levels|stemChannels|untiedCells|alphaPerLayer|genotype|aspp\w*|decoder\w*|\w*Channels|dropPath\w*|bnMomentum|bn\.\w+|lowLevelCell|outputStride)$/],
  ['Schedule and optimisers', /(^|\.)[^.]*([Ll]r|[Mm]omentum|[Dd]ecay|Betas|epochs|Epoch|iterations|gradClip|archInitScale|poly|warmup|power)[^.]*$/],
  ['Run', /(^|\.)(seed|threads|device|recompute|nproc|checkpointEvery|evalEvery)$/],
];
const OTHER = 'Other';

/** A genotype as the CLI prints it: one line per block, then the path in output strides. */
function genotypeText(g: Genotype): string {
  const cell = cellOfLayer(g, 0).blocks.map((b, i) => `block${i} = ${b[0].op}(${b[0].input}) + ${b[1].op}(${b[1].input})`).join('\n');
  return `${g.cells ? `(a cell per layer; layer 1:)\n${cell}` : cell}\npath (output stride per layer): ${g.path.map((k) => 4 * 2 ** k).join(' ')}`;
}

function isGenotype(v: unknown): v is Genotype {
  return typeof v === 'object' && v !== null && Array.isArray((v as Genotype).path) && ('cell' in v || 'cells' in v);
}

function valueText(v: unknown): string {
  if (isGenotype(v)) return genotypeText(v);
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object')) return v.join(', ');
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/** [dotted name, value] of every leaf; a genotype stays whole. */
function flatten(rec: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(rec).flatMap(([k, v]): [string, unknown][] =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && !isGenotype(v) ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, v]]);
}

export function groupOf(name: string): string {
  return GROUPS.find(([, re]) => re.test(name))?.[0] ?? OTHER;
}

/** The configuration section: one table, a header row per group (in GROUPS order, Other last). */
export function configTable(cfg: Record<string, unknown>): string {
  const fields = flatten(cfg);
  if (!fields.length) return '<p class="note">No config.json in this folder.</p>';
  const order = [...GROUPS.map((g) => g[0]), OTHER];
  const rows = order.flatMap((group) => {
    const mine = fields.filter(([n]) => groupOf(n) === group);
    if (!mine.length) return [];
    return [`<tr><th colspan="2">${group}</th></tr>`, ...mine.map(([n, v]) => {
      const text = esc(valueText(v));
      return `<tr><td>${esc(n)}</td><td>${text.includes('\n') ? `<pre>${text}</pre>` : text}</td></tr>`;
    })];
  });
  return `<table class="config">${rows.join('')}</table>`;
}
