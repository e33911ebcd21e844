/**
 * Every report kind rendered in headless Chromium, checked from the page
 * itself (report.html?check): all charts drawn, no text outside its box or
 * over other text, and each heatmap's colours spanning its data (the rendered
 * fills of a row's strongest and weakest cell far apart). The search (with a
 * budget) and the training are tiny real runs; trials, a sweep and a
 * comparison are folders written by hand (./fakes.ts).
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';
import { sampleGenotype } from '../../src/arch/random';
import { Rng } from '../../src/util/random';
import { specsOf } from '../../src/report/vega';
import { checkPage, PageCheck, rgbOf } from './chromium';
import { fakeComparison, fakeRetrain, fakeTrial } from './fakes';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
const TINY = ['--crop', '40', '--builtin-size', '8', '--builtin-image-size', '40', '--threads', '2'];

/** Writes DIR/report.html with the CLI and checks it in Chromium. */
function reportAndCheck(dir: string): { html: string; check: PageCheck } {
  const r = cli('report', dir);
  assert.equal(r.status, 0, r.stderr);
  const file = path.join(dir, 'report.html');
  return { html: fs.readFileSync(file, 'utf8'), check: checkPage(file) };
}

/** Euclidean distance of two rendered colours (0..441). */
function distance(a: string, b: string): number {
  const [p, q] = [rgbOf(a), rgbOf(b)];
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

function assertReadable(kind: string, html: string, check: PageCheck): void {
  assert.equal(check.charts, specsOf(html).length, `${kind}: every chart drawn`);
  assert.ok(check.charts > 0, `${kind}: no chart`);
  for (const spec of specsOf(html)) assert.match(JSON.stringify(spec), /"tooltip"/, `${kind}: '${JSON.stringify(spec.title)}' has no values on hover`);
  assert.deepEqual(check.overflow, [], `${kind}: text outside its box`);
  assert.deepEqual(check.overlaps, [], `${kind}: text over other text`);
  for (const h of check.heatmaps) {
    assert.ok(h.rows.length > 0, `${kind}: heatmap '${h.title}' has no rendered cells`);
    // A row of choices (ops of an edge, arrows of a node, levels of a layer): its strongest and weakest must look different.
    // A row over epochs is one weight in time: there the chart's strongest and weakest cell must.
    const rows = h.title.includes('over epochs')
      ? [{ row: 'the whole chart', strongest: maxBy(h.rows.map((r) => r.strongest), (c) => c.value), weakest: maxBy(h.rows.map((r) => r.weakest), (c) => -c.value) }]
      : h.rows;
    for (const r of rows) {
      if (r.strongest.value === r.weakest.value) continue;
      // The old scale (0 to the maximum) drew 0.124 and 0.126 in one colour: about 2 apart.
      const d = distance(r.strongest.fill, r.weakest.fill);
      assert.ok(d > 60, `${kind}: '${h.title}' row ${r.row}: ${r.strongest.col} ${r.strongest.value} (${r.strongest.fill}) and ` +
        `${r.weakest.col} ${r.weakest.value} (${r.weakest.fill}) look alike (distance ${d.toFixed(0)})`);
    }
  }
}

function maxBy<T>(xs: T[], key: (x: T) => number): T {
  return xs.reduce((a, b) => (key(b) > key(a) ? b : a));
}

describe('reports render readably in headless Chromium', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-render-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a search under a budget, then a training of its genotype', () => {
    const search = path.join(tmp, 'search');
    const s = cli('search', '--epochs', '2', '--arch-start-epoch', '1', '--layers', '3', '--blocks', '3', '--filter-multiplier', '2', ...TINY,
      '--budget', '0.45', '--budget-size', '64x64', '--out', search);
    assert.equal(s.status, 0, s.stderr);
    const { html, check } = reportAndCheck(search);
    assertReadable('search', html, check);
    const titles = check.heatmaps.map((h) => h.title);
    for (const t of ['alpha at the last epoch', 'beta at the last epoch', 'alpha over epochs', 'beta over epochs']) {
      assert.ok(titles.some((x) => x.startsWith(t)), `no heatmap '${t}' in ${titles.join('; ')}`);
    }
    const alpha = check.heatmaps.find((h) => h.title.startsWith('alpha at the last epoch'))!;
    assert.equal(alpha.rows.length, 2 + 3 + 4, 'a row per edge of a 3-block cell');
    assert.match(html, /<h2>Cost budget<\/h2>/);
    assert.match(html, /class="legend"/, 'a class legend beside the predictions');
    assert.match(html, /<table class="config"><tr><th colspan="2">Data<\/th>/, 'the configuration grouped');
    assert.match(html, /path \(output stride per layer\): (4|8|16|32)( (4|8|16|32)){2}</, 'the trellis path in strides');
    assert.doesNotMatch(html, /src="https?:|href="https?:/, 'nothing fetched at view time');

    const train = path.join(tmp, 'train');
    const t = cli('train', '--genotype', path.join(search, 'genotype.json'), '--filter-multiplier', '2', ...TINY, '--batch-size', '2',
      '--iterations', '4', '--eval-every', '2', '--out', train);
    assert.equal(t.status, 0, t.stderr);
    const tr = reportAndCheck(train);
    assertReadable('train', tr.html, tr.check);
    assert.match(tr.html, /validation mIoU/);
    assert.match(tr.html, /<th colspan="2">Network<\/th>.*genotype.*block0 = /s);
  });

  it('trials, a budget sweep and a comparison', () => {
    const rng = new Rng(21);
    const gs = Array.from({ length: 3 }, () => sampleGenotype(rng, { blocks: 5, layers: 12 }));
    const trials = path.join(tmp, 'trials');
    gs.forEach((g, i) => fakeTrial(trials, i, [0.2, 0.25 + 0.05 * i, 0.3 + 0.02 * i], g, { epochs: 4, config: { blocks: 5, numClasses: 19 } }));
    const tri = reportAndCheck(trials);
    assertReadable('trials', tri.html, tri.check);
    assert.equal(tri.check.heatmaps.length, 1, 'the level heatmap');

    const sweep = path.join(tmp, 'sweep');
    const budget = (b: number) => ({ limit: b * 1e9, unit: 'multiAdds' as const, size: [1024, 2048] as [number, number], filterMultiplier: 20, weight: 1 });
    fakeRetrain(fakeTrial(path.join(sweep, 'budget-300'), 0, [0.2, 0.3], gs[0], { config: { blocks: 5, numClasses: 19 }, budget: budget(300) }), 0.4);
    fakeTrial(path.join(sweep, 'budget-450'), 0, [0.25, 0.35], gs[1], { config: { blocks: 5, numClasses: 19 }, budget: budget(450) });
    const sw = reportAndCheck(sweep);
    assertReadable('sweep', sw.html, sw.check);

    const compare = path.join(tmp, 'compare');
    fakeComparison(compare, [['searched', AUTO_DEEPLAB_GENOTYPE, 0.42], ['random-1', gs[0], 0.31], ['random-2', gs[1], 0.35]], ['background', 'sky', 'road']);
    const cmp = reportAndCheck(compare);
    assertReadable('compare', cmp.html, cmp.check);
  });
});
