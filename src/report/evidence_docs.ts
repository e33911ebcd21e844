/**
 * The docs' published figures, generated from docs/results/*.json (issue 20):
 * a Markdown block between `<!-- evidence:NAME -->` and `<!-- /evidence:NAME -->`
 * holds exactly what `renderEvidence(NAME, results/NAME.json)` gives, so a
 * published number is always one that `npm run evidence` measured. `fillBlocks`
 * rewrites the blocks; `checkBlocks` lists those that differ (the check).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EvidenceResult, RENDERERS } from './evidence_tables';

export const RESULTS_DIR = path.join('docs', 'results');
const BLOCK = /<!-- evidence:([a-z0-9-]+) -->\n([\s\S]*?)<!-- \/evidence:\1 -->/g;

/** Every Markdown file whose blocks are generated: README.md and docs/*.md. */
export function docFiles(root: string): string[] {
  const docs = path.join(root, 'docs');
  return [path.join(root, 'README.md'), ...fs.readdirSync(docs).filter((f) => f.endsWith('.md')).sort().map((f) => path.join(docs, f))].filter((f) => fs.existsSync(f));
}

export function readResult(root: string, name: string): EvidenceResult | null {
  const file = path.join(root, RESULTS_DIR, `${name}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as EvidenceResult) : null;
}

/** The block's body for NAME: the table and the line saying where, when and how it was measured. */
export function renderEvidence(name: string, r: EvidenceResult | null): string {
  const render = RENDERERS[name];
  if (!render) throw new Error(`evidence block '${name}': no such table (known: ${Object.keys(RENDERERS).join(', ')})`);
  if (!r) return `Not measured yet: \`npm run evidence\` writes ${RESULTS_DIR}/${name}.json.\n`;
  const m = r.machine;
  return `${render(r).trimEnd()}\n\n_Measured ${r.date.slice(0, 10)}${r.quick ? ' (`--quick`)' : ''} on ${m.cpu} (${m.threads} threads), libtorch ${m.libtorch}, ` +
    `BLAS ${m.blas}, commit ${r.commit.slice(0, 10)}${r.commit.endsWith('-dirty') ? ' with uncommitted changes' : ''}; results/${name}.json._\n`;
}

/** The text with every block regenerated. */
export function fillBlocks(text: string, result: (name: string) => EvidenceResult | null): string {
  return text.replace(BLOCK, (_, name: string) => `<!-- evidence:${name} -->\n${renderEvidence(name, result(name))}<!-- /evidence:${name} -->`);
}

/** Blocks of `file` whose text differs from what the results give: 'FILE: evidence:NAME'. */
export function checkBlocks(root: string): string[] {
  const stale: string[] = [];
  for (const file of docFiles(root)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(BLOCK)) {
      if (m[2] !== renderEvidence(m[1], readResult(root, m[1]))) stale.push(`${path.relative(root, file)}: evidence:${m[1]}`);
    }
  }
  return stale;
}

/** Rewrites every generated block of README.md and docs/*.md; returns the files changed. */
export function writeBlocks(root: string, write: (file: string, text: string) => void): string[] {
  const changed: string[] = [];
  for (const file of docFiles(root)) {
    const text = fs.readFileSync(file, 'utf8');
    const filled = fillBlocks(text, (name) => readResult(root, name));
    if (filled !== text) {
      write(file, filled);
      changed.push(path.relative(root, file));
    }
  }
  return changed;
}
