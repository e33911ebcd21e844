/** Every bad input handled by the run commands exits 2 with a message naming the flag or file (issue 14, item 8). */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';
import { BuiltinScenes } from '../../src/data/builtin';
import { SegmentationDataset } from '../../src/data/dataset';
import { AutoDeepLab } from '../../src/model/network';
import { modelConfig } from '../../src/model/presets';
import { saveModel } from '../../src/model/saved';
import { resolveSearchConfig } from '../../src/search/search_config';
import { runSearch } from '../../src/search/run_search';
import { resolveTrainConfig } from '../../src/train/train_config';
import { runTraining } from '../../src/train/trainer';
import { BadInputError } from '../../src/util/errors';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const SEARCH = ['search', '--epochs', '2', '--arch-start-epoch', '1', '--crop', '40', '--layers', '2', '--blocks', '2',
  '--filter-multiplier', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--threads', '1'];

/** Exit 2 and a message matching re. */
function bad(re: RegExp, ...args: string[]): void {
  const r = run(...args);
  assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  assert.match(r.stderr, re, args.join(' '));
}

describe('bad input exits 2, naming it', () => {
  let dir = '';
  let searchRun = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-bad-'));
    searchRun = path.join(dir, 's');
    const r = run(...SEARCH, '--out', searchRun, '--max-iterations', '1');
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => fs.rmSync(dir, { recursive: true }));

  it('--threads outside 1..cores, on every command that has it', () => {
    const cores = os.availableParallelism();
    for (const cmd of [['search'], ['train'], ['eval', '--checkpoint', 'x'], ['predict', '--checkpoint', 'x', '--input', 'x', '--out', 'x'], ['quickstart'], ['demo']]) {
      for (const v of ['0', String(cores + 1), '9999', '1.5']) bad(new RegExp(`--threads <n>' argument '${v.replace('.', '\\.')}' is invalid. expected an integer in 1\\.\\.${cores}`), ...cmd, '--threads', v);
    }
    fs.writeFileSync(path.join(dir, 'threads.json'), JSON.stringify({ threads: 9999 }));
    bad(/threads.json: field 'threads' must be in \[1, \d+\]/, 'search', '--config', path.join(dir, 'threads.json'));
  });

  it('model and inference flags out of range: --bn-momentum, --drop-path-keep, --scales', () => {
    bad(/--bn-momentum <x>' argument '5' is invalid. expected a number in \[0, 1\]/, 'train', '--bn-momentum', '5');
    bad(/--drop-path-keep <p>' argument '0' is invalid. expected a number in \(0, 1\]/, 'train', '--drop-path-keep', '0');
    bad(/--drop-path-keep <p>' argument '1.5' is invalid/, 'train', '--drop-path-keep', '1.5');
    for (const v of ['0.1', '1,5', '1,,2', Array(9).fill('1').join(',')]) bad(/--scales <list>' argument .* expected 1 to 8 numbers in \[0.25, 4\]/, 'eval', '--checkpoint', 'x', '--scales', v);
  });

  it('--device: a malformed name, or CUDA on a build without it, on every command that has it; --opacity outside [0, 1]', () => {
    const cuda = spawnSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'src', 'engine'))}).cudaAvailable()))`], { encoding: 'utf8' }).stdout;
    for (const cmd of [[...SEARCH, '--out', path.join(dir, 'dev')], ['train'], ['eval', '--checkpoint', path.join(searchRun, 'checkpoint.safetensors')],
      ['quickstart'], ['predict', '--checkpoint', 'x', '--input', dir, '--out', dir]]) {
      bad(/--device: device 'gpu' is not valid; expected 'cpu', 'cuda', 'cuda:N' \(or 'auto' on the command line\)/, ...cmd, '--device', 'gpu');
      if (cuda === 'false') bad(/--device: device 'cuda' requested, but this build of libtorch has no CUDA support or sees no GPU/, ...cmd, '--device', 'cuda');
    }
    bad(/--opacity <x>' argument '2' is invalid. expected a number in \[0, 1\]/, 'predict', '--checkpoint', 'x', '--input', dir, '--out', dir, '--opacity', '2');
  });

  it('a search or training that cannot fit in this machine\'s memory is refused before it starts (--crop 4096, --crop 1e9)', () => {
    bad(/train: needs at least [\d.e+]+ GB of memory \(crop 1000000000, batch 2: the batch itself\) but this machine has/,
      'train', '--crop', '1000000000', '--batch-size', '2', '--iterations', '2', '--filter-multiplier', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--out', path.join(dir, 'tcrop'));
    bad(/train: needs at least [\d.]+ GB of memory \(crop 3000, batch 8: the convolution outputs a step keeps\)/,
      'train', '--crop', '3000', '--batch-size', '8', '--iterations', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--out', path.join(dir, 'tcrop2'));
    for (const crop of ['4096', '1000000000']) {
      bad(new RegExp(`search: needs about [\\d.e+]+ GB of memory \\(crop ${crop}, batch 2, F 8, 12 layers\\) but this machine has [\\d.]+ GB; use a smaller --crop \\(about \\d+ fits\\)`),
        'search', '--crop', crop, '--builtin-size', '8', '--builtin-image-size', '48', '--out', path.join(dir, `crop${crop}`));
    }
  });

  it('outputs that cannot be written: --out under a file (predict, export, diagram), export --out a folder, export --size too large, cost without a model', () => {
    const file = path.join(dir, 'plain-file');
    fs.writeFileSync(file, 'x');
    bad(/--out: .*plain-file is a file, so .*plain-file\/p cannot be written as a folder/, 'predict', '--checkpoint', 'x', '--input', dir, '--out', path.join(file, 'p'));
    bad(/--out: .*plain-file is a file, so .*plain-file\/m.onnx cannot be written/, 'export', '--checkpoint', 'x', '--out', path.join(file, 'm.onnx'));
    bad(/--out: .* is a folder; expected a file name/, 'export', '--checkpoint', 'x', '--out', dir);
    bad(/--out: .*plain-file is a file/, 'diagram', '--arch', 'autodeeplab-s', '--out', path.join(file, 'd'));
    bad(/--size <HxW>' argument '99999x99999' is invalid. expected HxW from 16x16 to 16384x16384/, 'export', '--checkpoint', 'x', '--out', 'm.onnx', '--size', '99999x99999');
    bad(/cost: give --arch NAME or --genotype FILE/, 'cost');
  });

  it('--checkpoint that is a directory, empty, truncated, JSON, or a search checkpoint', () => {
    bad(new RegExp(`${dir}: is a directory; expected a .safetensors file`), 'eval', '--checkpoint', dir);
    const empty = path.join(dir, 'empty.safetensors');
    fs.writeFileSync(empty, '');
    bad(/empty.safetensors: not a readable safetensors checkpoint \(file is 0 bytes/, 'eval', '--checkpoint', empty);
    const json = path.join(dir, 'json.safetensors');
    fs.writeFileSync(json, '{"not": "safetensors"}');
    bad(/json.safetensors: not a readable safetensors checkpoint/, 'eval', '--checkpoint', json);
    const whole = fs.readFileSync(path.join(searchRun, 'checkpoint.safetensors'));
    const cut = path.join(dir, 'cut.safetensors');
    fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    bad(/cut.safetensors: not a readable safetensors checkpoint \(.*do not fit|truncated/, 'eval', '--checkpoint', cut);
    bad(/checkpoint.safetensors: not a model or training checkpoint \(kind search/, 'eval', '--checkpoint', path.join(searchRun, 'checkpoint.safetensors'));
    bad(/cut.safetensors: not a readable safetensors checkpoint/, 'export', '--checkpoint', cut, '--out', path.join(dir, 'm.onnx'));
  });

  it('--resume without a checkpoint, a resume with other flags (only the fields that differ), a truncated checkpoint to resume', () => {
    bad(/train --resume: no checkpoint.safetensors in/, 'train', '--out', path.join(dir, 'none'), '--resume');
    bad(/search --resume: no checkpoint.safetensors in/, 'search', '--out', path.join(dir, 'none'), '--resume');
    // The refused run leaves no empty --out behind (a folder that existed before is kept).
    assert.ok(!fs.existsSync(path.join(dir, 'none')), 'a refused --resume created its --out folder');
    const r = run(...SEARCH, '--out', searchRun, '--resume', '--layers', '3', '--seed', '4');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /was written with other settings \(layers: saved 2, now 3; seed: saved 0, now 4\); resume with the same flags/);
    assert.doesNotMatch(r.stderr, /crop/, 'only the fields that differ');
    const copy = path.join(dir, 'copy');
    fs.cpSync(searchRun, copy, { recursive: true });
    const ck = path.join(copy, 'checkpoint.safetensors');
    fs.truncateSync(ck, 1000);
    bad(/checkpoint.safetensors: not a readable safetensors checkpoint/, ...SEARCH, '--out', copy, '--resume');
  });

  it('a batch larger than the data names --batch-size; --out under a file names the file', () => {
    bad(/--batch-size: 9 is larger than the 8 images of dataset 'builtin'/, 'train', '--batch-size', '9', '--builtin-size', '8', '--builtin-image-size', '48', '--crop', '32',
      '--iterations', '2', '--out', path.join(dir, 'b1'));
    bad(/--batch-size: 6 is larger than trainA, half the training split \(4 images/, ...SEARCH, '--batch-size', '6', '--out', path.join(dir, 'b2'));
    const file = path.join(dir, 'plain-file');
    fs.writeFileSync(file, 'x');
    bad(new RegExp(`--out: ${file} is a file`), ...SEARCH, '--out', path.join(file, 'run'));
    bad(new RegExp(`--out: ${file} is a file`), 'train', '--out', file, '--iterations', '1', '--builtin-image-size', '48', '--crop', '32');
  });

  it('an unknown --split of a folder dataset; a genotype whose path disagrees with its stored beta', () => {
    const root = path.join(dir, 'folder');
    fs.mkdirSync(path.join(root, 'images'), { recursive: true });
    fs.mkdirSync(path.join(root, 'masks'));
    fs.writeFileSync(path.join(root, 'classes.json'), JSON.stringify({ names: ['a', 'b'] }));
    bad(/--split: dataset 'folder' has no split 'tain'/, 'train', '--dataset', 'folder', '--data-root', root, '--split', 'tain');
    bad(/--split: dataset 'folder' has no split 'test'/, 'eval', '--checkpoint', 'x', '--dataset', 'folder', '--data-root', root, '--split', 'test');
    const g = JSON.parse(fs.readFileSync(path.join(searchRun, 'genotype.json'), 'utf8'));
    g.path = [...g.path, g.path[g.path.length - 1]];
    const file = path.join(dir, 'g.json');
    fs.writeFileSync(file, JSON.stringify(g));
    bad(/g.json: field 'search.beta' must have one row per layer of the path \(3\), got "2 rows"/, 'train', '--genotype', file, '--builtin-image-size', '48', '--crop', '32');
    bad(/g.json: field 'search.beta' must have one row per layer of the path \(3\)/, 'diagram', '--genotype', file, '--out', path.join(dir, 'd'));
  });

  it('a model or config whose classes differ from the dataset: eval from the CLI, search and train in process', async () => {
    const model = new AutoDeepLab(modelConfig({ genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2, numClasses: 3 }));
    const file = path.join(dir, 'three.safetensors');
    saveModel(file, model, { classNames: ['a', 'b', 'c'], palette: [[0, 0, 0], [1, 1, 1], [2, 2, 2]] } as unknown as SegmentationDataset);
    model.weights.dispose();
    bad(/eval: the model \(.*three.safetensors\) has 3 classes, dataset 'builtin' has 6/, 'eval', '--checkpoint', file, '--builtin-image-size', '48');
    const dataset = new BuiltinScenes({ size: 8, imageSize: 48, seed: 0 });
    await assert.rejects(runSearch({ config: resolveSearchConfig({ numClasses: 3, crop: 40, threads: 1 }), dataset, out: path.join(dir, 'c1') }),
      (e: Error) => e instanceof BadInputError && /config.numClasses is 3 but dataset 'builtin' has 6 classes/.test(e.message));
    await assert.rejects(runTraining({
      model: modelConfig({ genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2, numClasses: 3 }), train: resolveTrainConfig({ threads: 1 }),
      dataset, out: path.join(dir, 'c2'),
    }), (e: Error) => e instanceof BadInputError && /the model has 3 classes but dataset 'builtin' has 6/.test(e.message));
  });
});
