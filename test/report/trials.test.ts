/**
 * The trials view (Fig. 4): band statistics against a plain computation, choice
 * frequencies against counting by hand, and the report of a trials folder.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';
import { sampleGenotype } from '../../src/arch/random';
import { Rng } from '../../src/util/random';
import { bandStats, levelFrequencies, opFrequencies, readTrials, trialsSections } from '../../src/report/trials_report';
import { buildReport } from '../../src/report/report';
import { specsOf } from '../../src/report/vega';
import { fakeTrial } from './fakes';

/** A plain median: sort, then the middle one or the mean of the middle two. */
function plainMedian(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

describe('trials report', () => {
  it('the band is the median, min and max per epoch over the trials that reached it', () => {
    const rng = new Rng(3);
    const series = [4, 4, 3, 4, 2].map((n) => Array.from({ length: n }, () => rng.next()));
    const band = bandStats(series);
    assert.equal(band.length, 4);
    for (let e = 0; e < 4; e++) {
      const xs: number[] = [];
      for (const s of series) if (e < s.length) xs.push(s[e]);
      assert.deepEqual(band[e], { epoch: e + 1, median: plainMedian(xs), min: Math.min(...xs), max: Math.max(...xs), trials: xs.length });
    }
    assert.equal(bandStats([[1], [3], [2], [10]])[0].median, 2.5);
    assert.deepEqual(bandStats([]), []);
  });

  it('op and level frequencies count every branch and every layer', () => {
    const rng = new Rng(5);
    const gs = Array.from({ length: 6 }, () => sampleGenotype(rng, { blocks: 5, layers: 8 }));
    const ops = opFrequencies(gs);
    const branches = gs.flatMap((g) => g.cell!.blocks.flatMap((b) => [b[0].op, b[1].op]));
    for (const [op, f] of Object.entries(ops)) assert.equal(f, branches.filter((o) => o === op).length / branches.length);
    assert.ok(Math.abs(Object.values(ops).reduce((a, b) => a + b, 0) - 1) < 1e-12);
    const lv = levelFrequencies(gs);
    lv.forEach((row, l) => row.forEach((f, k) => assert.equal(f, gs.filter((g) => g.path[l] === k).length / gs.length)));
  });

  it('a trials folder reports the band, each architecture and the frequencies', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-trials-'));
    const rng = new Rng(9);
    const g1 = sampleGenotype(rng, { blocks: 5, layers: 12 });
    fakeTrial(dir, 0, [0.2, 0.3, 0.35, 0.4], AUTO_DEEPLAB_GENOTYPE, { epochs: 4 });
    fakeTrial(dir, 1, [0.1, 0.25, 0.3, 0.5], g1, { epochs: 4 });
    fakeTrial(dir, 2, [0.15, 0.2], g1, { epochs: 4 }); // unfinished
    fs.mkdirSync(path.join(dir, 'not-a-trial'));
    const trials = readTrials(dir);
    assert.deepEqual(trials.map((t) => t.seed), [0, 1, 2]);
    assert.deepEqual(trials[2].mIoU, [0.15, 0.2]);
    const html = trialsSections(trials).join('\n');
    assert.match(html, /seed 2 \(2\/4 epochs\)/);
    const band = specsOf(html)[0] as { layer: { data: { values: { trial?: string }[] } }[] };
    assert.equal(new Set(band.layer[1].data.values.map((v) => v.trial)).size, 3, 'a line per trial');
    assert.match(html, /<tr><td>1<\/td><td>15\.00<\/td><td>10\.00<\/td><td>20\.00<\/td><td>3<\/td><\/tr>/);
    assert.match(html, /<tr><td>4<\/td><td>45\.00<\/td><td>40\.00<\/td><td>50\.00<\/td><td>2<\/td><\/tr>/);
    const page = await buildReport(dir);
    assert.match(page, /Fig\. 4/);
    assert.equal((page.match(/<svg xmlns=/g) ?? []).length, 2 * 3, 'a path and a cell per trial');
    assert.equal(specsOf(page).length, 3, 'the band, the op shares, the level heatmap');
    fs.rmSync(dir, { recursive: true });
  });
});
