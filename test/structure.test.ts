/**
 * The layout is the architecture: src/ folders import only downward (the
 * folder graph has no cycle, and follows the order the README's code map
 * gives), no two files import each other even through others (no file-level
 * cycle), and no source file is over 250 lines. The search core (src/search)
 * sits below its extension, the budget (src/budget), so it cannot import it.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(__dirname, '..', '..', 'src');
/** The layers, lowest first (README, "Code map"); a folder may import only from folders before it. */
const LAYERS = ['util', 'engine', 'nn', 'data', 'arch', 'run', 'search', 'budget', 'model', 'eval', 'train', 'report', 'deploy', 'trials', 'cli'];
/** Folders that are side by side and must not import each other. */
const SIBLINGS = [['search', 'model'], ['budget', 'model'], ['budget', 'eval'], ['report', 'deploy']];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of every source file, as paths relative to src/ without the extension: [from, to]. */
function fileEdges(): [string, string][] {
  const edges: [string, string][] = [];
  for (const file of sources(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']*)'/g)) {
      let to = path.resolve(path.dirname(file), m[1]);
      if (!fs.existsSync(`${to}.ts`) && fs.existsSync(path.join(to, 'index.ts'))) to = path.join(to, 'index');
      edges.push([path.relative(SRC, file).replace(/\.ts$/, ''), path.relative(SRC, to)]);
    }
  }
  return edges;
}

/** A cycle in a directed graph as the list of its nodes, or null (depth-first search, three colours). */
function findCycle(edges: [string, string][]): string[] | null {
  const next = new Map<string, string[]>();
  for (const [a, b] of edges) next.set(a, [...(next.get(a) ?? []), b]);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    if (state.get(n) === 'done') return null;
    if (state.get(n) === 'open') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'open');
    stack.push(n);
    for (const m of next.get(n) ?? []) {
      const c = visit(m);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of next.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return null;
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

  it('no file-level import cycle (a file never reaches itself through its imports)', () => {
    const edges = fileEdges();
    assert.ok(edges.length > 300, `found only ${edges.length} imports: the scan is broken`);
    assert.equal(findCycle([['a', 'b'], ['b', 'c'], ['c', 'a']])?.join(' -> '), 'a -> b -> c -> a'); // the detector itself
    assert.equal(findCycle([['a', 'b'], ['a', 'c'], ['b', 'c']]), null);
    const cycle = findCycle(edges);
    assert.equal(cycle, null, `import cycle: ${cycle?.join(' -> ')}`);
  });

  it('no source file is over 250 lines', () => {
    const long = sources(SRC).map((f) => [path.relative(SRC, f), fs.readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > 250);
    assert.deepEqual(long, [], `files over 250 lines: ${long.map(([f, n]) => `${f} (${n})`).join(', ')}`);
  });
});
