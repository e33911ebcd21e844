/** The searched-vs-random report over several seeds: the per-seed chart with the paired test, seeds and costs in the table. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';
import { comparisonSections, readComparison } from '../../src/report/comparison';
import { specsOf } from '../../src/report/vega';
import { fakeComparison } from './fakes';

describe('comparison report over seeds', () => {
  it('adds the per-seed chart whose subtitle carries the paired test; the table has seeds and Multi-Adds', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-seeds-'));
    fakeComparison(dir, [['searched', AUTO_DEEPLAB_GENOTYPE, 0.42], ['random-1', AUTO_DEEPLAB_GENOTYPE, 0.31]], ['background'], [0, 1, 2]);
    const html = comparisonSections(readComparison(dir)).join('');
    const specs = specsOf(html) as { title: { subtitle: string[] } }[];
    assert.equal(specs.length, 2);
    // Differences 11, 13, 15 points: mean 13, std 2, t = 13 / (2 / sqrt 3).
    assert.match(specs[1].title.subtitle.join(' '), /over 3 seeds: .*paired t 11\.26 \(df 2\)/);
    assert.match(html, /<th>seed<\/th>.*<th>B Multi-Adds<\/th>/);
    assert.match(html, /<td>1\.010<\/td>/);
    const single = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-seed-'));
    fakeComparison(single, [['searched', AUTO_DEEPLAB_GENOTYPE, 0.42], ['random-1', AUTO_DEEPLAB_GENOTYPE, 0.31]], ['background']);
    assert.equal(specsOf(comparisonSections(readComparison(single)).join('')).length, 1);
    fs.rmSync(dir, { recursive: true });
    fs.rmSync(single, { recursive: true });
  });
});
