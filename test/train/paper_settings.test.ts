/**
 * The paper's retraining settings from the command line: --paper-drop-path
 * (Table 3's scheduled drop path) and ADE20K's longer side of 513 (Sec. 5.2.3),
 * as train records them in config.json.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';
import { PAPER_DROP_PATH_KEEP } from '../../src/train/train_config';
import { writeMask, writeRgb } from '../data/fixtures';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');

describe('train: the paper\'s settings', () => {
  let dir: string;
  let genotype: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-paper-'));
    genotype = path.join(dir, 'genotype.json');
    fs.writeFileSync(genotype, JSON.stringify(AUTO_DEEPLAB_GENOTYPE));
  });
  after(() => fs.rmSync(dir, { recursive: true }));

  /** train with a small model, stopped before its first step: config.json is written, nothing trained. */
  const train = (out: string, ...extra: string[]) => spawnSync(process.execPath, [CLI, 'train', '--genotype', genotype, '--filter-multiplier', '2',
    '--crop', '32', '--batch-size', '2', '--builtin-size', '8', '--builtin-image-size', '32', '--iterations', '10', '--max-iterations', '0',
    '--threads', '1', '--out', path.join(dir, out), ...extra], { encoding: 'utf8', timeout: 120_000 });
  const config = (out: string) => JSON.parse(fs.readFileSync(path.join(dir, out, 'config.json'), 'utf8'));

  it('--paper-drop-path sets the model\'s drop-path keep probability; --drop-path-keep too; both at once exits 2', () => {
    for (const [out, flags, keep] of [['off', [], 1], ['paper', ['--paper-drop-path'], PAPER_DROP_PATH_KEEP], ['own', ['--drop-path-keep', '0.5'], 0.5]] as const) {
      const r = train(out, ...flags);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(config(out).model.dropPathKeep, keep, out);
    }
    assert.ok(PAPER_DROP_PATH_KEEP > 0 && PAPER_DROP_PATH_KEEP < 1);
    const r = train('both', '--paper-drop-path', '--drop-path-keep', '0.5');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--paper-drop-path sets the keep probability; give it or --drop-path-keep, not both/);
    const help = spawnSync(process.execPath, [CLI, 'train', '--help'], { encoding: 'utf8' }).stdout;
    assert.match(help, /--paper-drop-path/);
    assert.match(help, /paper's best numbers \(Table 3.*\) use scheduled drop path/);
  });

  it('ade20k: images resized so that the longer side is 513 by default (recorded), --base-longer-side overrides; builtin as it comes', async () => {
    const root = path.join(dir, 'ade');
    for (const [split, n] of [['training', 2], ['validation', 1]] as const) {
      for (let i = 0; i < n; i++) {
        const id = `ADE_${split}_${i}`;
        await writeRgb(path.join(root, 'ADEChallengeData2016', 'images', split, `${id}.jpg`), 40, 30, i);
        await writeMask(path.join(root, 'ADEChallengeData2016', 'annotations', split, `${id}.png`), 40, 30);
      }
    }
    const ade = ['--dataset', 'ade20k', '--data-root', root];
    let r = train('ade', ...ade);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([config('ade').train.baseLongerSide, config('ade').train.baseScale], [513, 1]);
    r = train('ade-own', ...ade, '--base-longer-side', '0');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(config('ade-own').train.baseLongerSide, 0);
    assert.deepEqual([config('off').train.baseLongerSide, config('off').train.baseScale], [0, 1]);
  });
});
