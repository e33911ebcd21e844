/**
 * predict on a folder with a corrupt image among good ones: every good image
 * is written exactly as it would be alone, the bad one is reported at the end,
 * and a failing disk leaves complete files or none.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';
import { predictCommand } from '../../src/cli/predict';
import { BuiltinScenes } from '../../src/data/builtin';
import { buildModel } from '../../src/model/presets';
import { saveModel } from '../../src/model/saved';
import { WriteError } from '../../src/util/errors';
import { injectWriteFault } from '../../src/util/files';
import { writeRgb } from '../data/fixtures';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

let dir: string;
let model: string;
const GOOD = ['good1.png', 'good2.jpg'];
const outputs = (name: string) => [`${path.parse(name).name}_labels.png`, `${path.parse(name).name}_overlay.png`];

/** Files under out (names), and that each decodes as a complete PNG. */
async function writtenFiles(out: string): Promise<string[]> {
  const names = fs.readdirSync(out).sort();
  for (const n of names) await sharp(path.join(out, n), { failOn: 'truncated' }).raw().toBuffer();
  return names;
}

describe('autodeeplab predict on a folder with bad images', () => {
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-predict-'));
    const scenes = new BuiltinScenes({ size: 1, imageSize: 16, seed: 0 });
    model = path.join(dir, 'model.safetensors');
    const m = buildModel({ genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2, numClasses: scenes.numClasses });
    saveModel(model, m, scenes);
    m.weights.dispose();
    for (const [i, g] of GOOD.entries()) {
      await writeRgb(path.join(dir, 'good', g), 48, 40, i);
      await writeRgb(path.join(dir, 'mixed', g), 48, 40, i);
    }
    // Sorted first, so that a run stopping at the first bad image writes nothing.
    fs.writeFileSync(path.join(dir, 'mixed', 'a_broken.png'), 'not a png');
  });
  after(() => fs.rmSync(dir, { recursive: true }));

  it('writes every good image as it would alone, names the bad one, exits 1; --skip-bad exits 0', async () => {
    const ref = run('predict', '--checkpoint', model, '--input', path.join(dir, 'good'), '--out', path.join(dir, 'ref'));
    assert.equal(ref.status, 0, ref.stderr);
    const out = path.join(dir, 'out');
    const r = run('predict', '--checkpoint', model, '--input', path.join(dir, 'mixed'), '--out', out);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /predict: 1 of 3 image\(s\) failed \(the others were written\):\n {2}.*mixed\/a_broken\.png: cannot be decoded as an image/);
    assert.match(r.stdout, /predict: 2 of 3 image\(s\)/);
    assert.deepEqual(await writtenFiles(out), GOOD.flatMap(outputs));
    for (const f of GOOD.flatMap(outputs)) assert.ok(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(dir, 'ref', f))), f);
    const skip = run('predict', '--checkpoint', model, '--input', path.join(dir, 'mixed'), '--out', path.join(dir, 'skip'), '--skip-bad');
    assert.equal(skip.status, 0, skip.stderr);
    assert.match(skip.stderr, /--skip-bad: skipped 1 image\(s\):\n {2}.*a_broken\.png: cannot be decoded/);
    assert.deepEqual(await writtenFiles(path.join(dir, 'skip')), GOOD.flatMap(outputs));
  });

  it('a failing disk stops the run with a WriteError naming the file; files already written are complete, no partial file is left', async () => {
    const out = path.join(dir, 'fault');
    let writes = 0;
    injectWriteFault((file) => {
      if (path.dirname(file) === out && ++writes === 3) throw new Error('ENOSPC: no space left on device');
    });
    try {
      await assert.rejects(predictCommand().parseAsync(['--checkpoint', model, '--input', path.join(dir, 'good'), '--out', out], { from: 'user' }),
        (e: Error) => e instanceof WriteError && /good2_labels\.png: could not be written \(ENOSPC/.test(e.message));
    } finally {
      injectWriteFault(null);
    }
    assert.deepEqual(await writtenFiles(out), outputs(GOOD[0]));
  });
});
