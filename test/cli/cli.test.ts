/** The command line as a user meets it: help, bad flags and bad config files. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('autodeeplab CLI', () => {
  it('every command has --help with examples', () => {
    for (const cmd of ['search', 'train', 'eval', 'predict', 'cost', 'quickstart', 'demo']) {
      const r = run(cmd, '--help');
      assert.equal(r.status, 0, cmd);
      assert.match(r.stdout, /Example/, `${cmd} --help has no example`);
    }
  });

  it('--help lists the commands; search --help shows flags and examples', () => {
    const top = run('--help');
    assert.equal(top.status, 0);
    assert.match(top.stdout, /search/);
    assert.match(top.stdout, /demo/);
    const s = run('search', '--help');
    assert.equal(s.status, 0);
    for (const flag of ['--dataset', '--data-root', '--epochs', '--arch-start-epoch', '--batch-size', '--crop', '--layers',
      '--blocks', '--filter-multiplier', '--seed', '--out', '--resume', '--max-iterations']) {
      assert.ok(s.stdout.includes(flag), `search --help lacks ${flag}`);
    }
    assert.match(s.stdout, /Examples:/);
  });

  it('bad flag values and bad config files give messages that name the problem', () => {
    const crop = run('search', '--crop', 'abc');
    assert.notEqual(crop.status, 0);
    assert.match(crop.stderr, /--crop.*expected an integer >= 16, got 'abc'/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-cli-'));
    const cfg = path.join(dir, 'cfg.json');
    fs.writeFileSync(cfg, JSON.stringify({ layers: 4, learningRate: 0.1 }));
    const unknown = run('search', '--config', cfg, '--out', path.join(dir, 'run'));
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /cfg.json: unknown field 'learningRate'/);
    fs.writeFileSync(cfg, JSON.stringify({ layers: 0 }));
    assert.match(run('search', '--config', cfg).stderr, /cfg.json: field 'layers' must be >= 1, got 0/);
    fs.writeFileSync(cfg, '{ not json');
    assert.match(run('search', '--config', cfg).stderr, /--config: .*cfg.json is not valid JSON/);
    assert.match(run('search', '--config', path.join(dir, 'missing.json')).stderr, /--config: .*missing.json does not exist/);
    assert.match(run('search', '--crop', '32').stderr, /field 'crop' gives 1x1 feature maps at output stride 32; use a crop of at least 33/);
    assert.match(run('search', '--dataset', 'imagenet').stderr, /--dataset: unknown dataset 'imagenet'; available: builtin/);
    fs.writeFileSync(cfg, JSON.stringify({ iterations: 10, batchSize: 1 }));
    assert.match(run('train', '--config', cfg).stderr, /cfg.json: field 'batchSize' must be >= 2/);
    fs.writeFileSync(cfg, JSON.stringify({ learningRate: 0.1 }));
    assert.match(run('train', '--config', cfg).stderr, /cfg.json: unknown field 'learningRate'/);
    assert.match(run('eval').stderr, /required option '--checkpoint <file>' not specified/);
    assert.match(run('train', '--dataset', 'voc').stderr, /--data-root: dataset 'voc' needs the folder/);
    fs.rmSync(dir, { recursive: true });
  });

  it('exit codes: 0 for help, 2 for bad usage or input, 1 for failures while running', () => {
    assert.equal(run('cost', '--help').status, 0);
    assert.equal(run('search', '--crop', 'abc').status, 2);
    assert.equal(run('eval').status, 2); // missing required option
    assert.equal(run('search', '--crop', '32').status, 2); // config field
    assert.equal(run('train', '--genotype', '/nonexistent/g.json').status, 2);
    assert.equal(run('train', '--dataset', 'voc', '--data-root', '/nonexistent').status, 2); // dataset folder
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-cli-'));
    fs.writeFileSync(path.join(dir, 'bad.safetensors'), 'garbage that is no checkpoint');
    const bad = run('eval', '--checkpoint', path.join(dir, 'bad.safetensors'));
    assert.equal(bad.status, 2); // a file that is no checkpoint is bad input, named
    assert.match(bad.stderr, /bad.safetensors: not a readable safetensors checkpoint/);
    fs.rmSync(dir, { recursive: true });
  });

  it('only flags typed on the command line override the --config file (a flag default never does)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-cli-'));
    const cfg = path.join(dir, 'cfg.json');
    fs.writeFileSync(cfg, JSON.stringify({ recompute: false, layers: 3, epochs: 2, archStartEpoch: 1, crop: 40, blocks: 2, filterMultiplier: 2 }));
    const out = path.join(dir, 'run');
    const r = run('search', '--config', cfg, '--layers', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--threads', '1',
      '--max-iterations', '0', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const written = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    assert.deepEqual([written.recompute, written.layers, written.epochs, written.threads], [false, 2, 2, 1]);
    assert.match(r.stderr, /search: keeping activations \(recompute: false\)/);
    // Without the file: --recompute forces it; by default 'auto' keeps them when they fit (this tiny supernet's do).
    const forced = run('search', '--recompute', '--layers', '2', '--blocks', '2', '--filter-multiplier', '2', '--crop', '40', '--builtin-size', '8',
      '--builtin-image-size', '48', '--threads', '1', '--max-iterations', '0', '--out', path.join(dir, 'forced'));
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'forced', 'config.json'), 'utf8')).recompute, true);
    assert.match(forced.stderr, /search: recomputing activations \(recompute: true\)/);
    // A bad value is reported under where it came from: the flag, else the file.
    fs.writeFileSync(cfg, JSON.stringify({ crop: 32 }));
    assert.match(run('search', '--config', cfg, '--crop', '24').stderr, /autodeeplab: --crop: field 'crop' gives 1x1 feature maps/);
    assert.match(run('search', '--config', cfg).stderr, /autodeeplab: .*cfg.json: field 'crop' gives 1x1 feature maps/);
    fs.rmSync(dir, { recursive: true });
  });

  it('an unknown command is an error with a hint', () => {
    const r = run('serach');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown command 'serach'/);
  });
});
