/** --skip-bad's list: a file skipped by both train and val (shared files) is listed once. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Sample, SegmentationDataset } from '../../src/data/dataset';
import { DatasetError } from '../../src/data/readers/files';
import { reportSkipped, SkipBad } from '../../src/data/registry';

/** Samples 1 and 3 fail to load. */
const broken: SegmentationDataset = {
  name: 'toy', numClasses: 2, classNames: ['a', 'b'], palette: [[0, 0, 0], [1, 1, 1]], length: 4,
  async get(i: number): Promise<Sample> {
    if (i % 2 === 1) throw new DatasetError(`toy/${i}.png: corrupt`);
    return { id: String(i), width: 1, height: 1, image: new Uint8Array(3), label: new Uint8Array(1) };
  },
};

function stderrOf(fn: () => void): string {
  const write = process.stderr.write;
  let text = '';
  process.stderr.write = ((chunk: string) => ((text += chunk), true)) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return text;
}

describe('reportSkipped', () => {
  it('lists each skipped file once, even when train and val share the files', async () => {
    const [train, val] = [new SkipBad(broken), new SkipBad(broken)];
    for (let i = 0; i < 4; i++) await train.get(i);
    await val.get(1);
    const text = stderrOf(() => reportSkipped(train, val));
    assert.equal(text.match(/toy\/1\.png/g)?.length, 1);
    assert.equal(text.match(/toy\/3\.png/g)?.length, 1);
    assert.match(text, /skipped 2 sample\(s\) of toy/);
    assert.doesNotMatch(text, /skipped 1 sample/);
  });
});
