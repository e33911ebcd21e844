/** The search memory estimate: the state count by brute force, monotone growth, and refusals that name the numbers. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkSearchFits, chooseRecompute, estimateSearchBytes, KEEP_SHARE, stateElements } from '../../src/search/search_memory';
import { DEFAULT_SEARCH_CONFIG, SearchConfig } from '../../src/search/search_config';
import { ConfigError } from '../../src/util/errors';

const paper = (o: Partial<SearchConfig> = {}): SearchConfig => ({ ...DEFAULT_SEARCH_CONFIG, numClasses: 19, ...o });

describe('search memory estimate', () => {
  it('counts the node outputs of the trellis (hand count at L=12, F=8, B=5, batch 2, crop 64)', () => {
    // Sides 16, 8, 4, 2; nodes per level 12, 12, 11, 10 (layer 0 reaches levels 0-1, layer 1 levels 0-2).
    const perLevel = [0, 1, 2, 3].map((k) => 5 * 8 * 2 ** k * (16 / 2 ** k) ** 2);
    const expected = 2 * (12 * perLevel[0] + 12 * perLevel[1] + 11 * perLevel[2] + 10 * perLevel[3]);
    assert.equal(stateElements(paper({ crop: 64 })), expected);
  });

  it('reproduces the benchmark figures (docs/search.md, GiB) within 10% (48.2M weights)', () => {
    const GiB = 2 ** 30;
    const measured: [number, boolean, number][] = [[32, true, 0.73 * GiB], [64, true, 0.76 * GiB], [128, true, 0.88 * GiB],
      [32, false, 0.89 * GiB], [64, false, 1.06 * GiB], [128, false, 1.68 * GiB]];
    for (const [crop, recompute, bytes] of measured) {
      const e = estimateSearchBytes(paper({ crop, recompute }), 48.2e6);
      assert.ok(Math.abs(e - bytes) / bytes < 0.1, `crop ${crop} recompute ${recompute}: estimate ${e}, measured ${bytes}`);
    }
  });

  it('reproduces peaks measured on a small network at large crops (L=2, B=2, F=2), where full-resolution tensors dominate', () => {
    // Peak RSS of `search --layers 2 --blocks 2 --filter-multiplier 2 --crop N` (6 classes, batch 2), measured with /usr/bin/time.
    const small = (crop: number) => paper({ layers: 2, blocks: 2, filterMultiplier: 2, numClasses: 6, crop });
    for (const [crop, bytes] of [[750, 1.23e9], [1500, 3.92e9], [2500, 9.7e9]]) {
      const e = estimateSearchBytes(small(crop), 0.2e6);
      assert.ok(Math.abs(e - bytes) / bytes < 0.15, `crop ${crop}: estimate ${e}, measured ${bytes}`);
    }
  });

  it('refuses what cannot fit, naming the estimate, the machine and a crop that fits', () => {
    assert.doesNotThrow(() => checkSearchFits(paper({ crop: 321 }), 48e6, 24e9));
    assert.throws(() => checkSearchFits(paper({ crop: 4096 }), 48e6, 24e9), (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /needs about \d+\.\d GB of memory \(crop 4096, batch 2, F 8, 12 layers\) but this machine has 24\.0 GB/);
      const fits = Number(/about (\d+) fits/.exec(e.message)![1]);
      assert.ok(estimateSearchBytes(paper({ crop: fits }), 48e6) <= 0.9 * 24e9 && fits > 321, `suggested crop ${fits}`);
      return true;
    });
    assert.throws(() => checkSearchFits(paper({ crop: 1e9 }), 48e6, 24e9), /needs about/);
  });

  it('with N ranks of a job on this machine, each gets 1/N of it: a crop that fits alone is refused, and the crop suggested fits the share', () => {
    // The smallest crop over half the budget: fits one rank, not two.
    let crop = 321;
    while (estimateSearchBytes(paper({ crop }), 48e6) <= 0.45 * 24e9) crop += 16;
    assert.doesNotThrow(() => checkSearchFits(paper({ crop }), 48e6, 24e9, 1));
    assert.throws(() => checkSearchFits(paper({ crop }), 48e6, 24e9, 2), (e: Error) => {
      assert.match(e.message, /but this machine has 24\.0 GB for 2 processes \(--nproc, LOCAL_WORLD_SIZE\), 12\.0 GB each; use a smaller --crop/);
      const fits = Number(/about (\d+) fits/.exec(e.message)![1]);
      assert.ok(estimateSearchBytes(paper({ crop: fits }), 48e6) <= 0.45 * 24e9 && estimateSearchBytes(paper({ crop: fits + 1 }), 48e6) > 0.45 * 24e9);
      return true;
    });
  });

  it("recompute 'auto' keeps activations exactly while keeping them is estimated to fit the machine's share, and true or false stand", () => {
    const keepBytes = (crop: number) => estimateSearchBytes(paper({ crop, recompute: false }), 48e6);
    // The first crop (in steps of 8) whose kept activations no longer fit half of 24 GB.
    let crop = 32;
    while (keepBytes(crop) <= KEEP_SHARE * 24e9) crop += 8;
    assert.deepEqual(chooseRecompute(paper({ crop: crop - 8 }), 48e6, 24e9).recompute, false);
    assert.deepEqual(chooseRecompute(paper({ crop }), 48e6, 24e9).recompute, true);
    assert.match(chooseRecompute(paper({ crop: crop - 8 }), 48e6, 24e9).why, /^keeping activations: about \d+\.\d GB of 12\.0 GB/);
    assert.match(chooseRecompute(paper({ crop }), 48e6, 24e9).why, /^recomputing activations: keeping them would need about \d+\.\d GB, over 12\.0 GB/);
    // Two processes here: each gets half the share, so a crop that kept alone recomputes.
    let shared = 32;
    while (keepBytes(shared) <= (KEEP_SHARE * 24e9) / 2) shared += 8;
    assert.ok(shared < crop);
    assert.equal(chooseRecompute(paper({ crop: shared }), 48e6, 24e9, 1).recompute, false);
    assert.equal(chooseRecompute(paper({ crop: shared }), 48e6, 24e9, 2).recompute, true);
    // Explicit choices stand whatever the memory.
    assert.equal(chooseRecompute(paper({ crop: 32, recompute: true }), 48e6, 24e9).recompute, true);
    assert.equal(chooseRecompute(paper({ crop: 4096, recompute: false }), 48e6, 24e9).recompute, false);
    // 'auto' is estimated as recomputing (the least it can need).
    assert.equal(estimateSearchBytes(paper({ crop: 64 }), 48e6), estimateSearchBytes(paper({ crop: 64, recompute: true }), 48e6));
  });
});
