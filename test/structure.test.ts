/**
 * The layout is the architecture: src/ folders import only downward (the
 * folder graph has no cycle, and follows the order the README's code map
 * gives), and no source file is over 250 lines.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(__dirname, '..', '..', 'src');
/** The layers, lowest first (README, "Code map"); a folder may import only from folders before it. */
const LAYERS = ['util', 'engine', 'nn', 'data', 'arch', 'run', 'eval', 'search', 'model', 'train', 'report', 'deploy', 'cli'];
/** Folders that are side by side and must not import each other. */
const SIBLINGS = [['search', 'model'], ['report', 'deploy']];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Top-level folder of every relative import of every source file: [from, to, file]. */
function folderEdges(): [string, string, string][] {
  const edges: [string, string, string][] = [];
  for (const file of sources(SRC)) {
    const from = path.relative(SRC, file).split(path.sep)[0];
    if (from === 'index.ts') continue; // the library's front door (src/index.ts) sits above every folder
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']*)'/g)) {
      const to = path.relative(SRC, path.resolve(path.dirname(file), m[1])).split(path.sep)[0];
      if (to !== from) edges.push([from, to, path.relative(SRC, file)]);
    }
  }
  return edges;
}

describe('source layout', () => {
  it('every src/ folder is a known layer', () => {
    const folders = fs.readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    for (const f of folders) assert.ok(LAYERS.includes(f), `src/${f} is not in the layer order; add it to LAYERS and the README's code map`);
  });

  it('folders import only downward (so the folder graph is acyclic)', () => {
    const edges = folderEdges();
    assert.ok(edges.length > 50, `found only ${edges.length} cross-folder imports: the scan is broken`);
    for (const [from, to, file] of edges) {
      assert.ok(LAYERS.includes(to), `${file} imports from unknown folder '${to}'`);
      const sibling = SIBLINGS.some((s) => s.includes(from) && s.includes(to));
      assert.ok(LAYERS.indexOf(to) < LAYERS.indexOf(from) && !sibling, `${file}: ${from} imports ${to}, which is not below it`);
    }
  });

  it('no source file is over 250 lines', () => {
    const long = sources(SRC).map((f) => [path.relative(SRC, f), fs.readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > 250);
    assert.deepEqual(long, [], `files over 250 lines: ${long.map(([f, n]) => `${f} (${n})`).join(', ')}`);
  });
});
