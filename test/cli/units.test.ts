/**
 * One unit wherever a person reads mIoU: percent, in train's last line and in
 * eval's table alike (the same model on the same images gives the same
 * figure); eval --json keeps the fraction, as its help says.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `autodeeplab ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
};

describe('mIoU as people read it', () => {
  it('train and eval print the same validation mIoU in percent; eval --json gives the fraction', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-units-'));
    const data = ['--builtin-image-size', '48', '--threads', '1'];
    const trained = run('train', '--arch', 'autodeeplab-s', '--filter-multiplier', '2', '--crop', '40', '--batch-size', '2', '--builtin-size', '8',
      '--iterations', '3', ...data, '--out', dir);
    const t = /; validation mIoU (\d+\.\d\d)%\n$/.exec(trained);
    assert.ok(t, trained);
    const model = path.join(dir, 'model.safetensors');
    const evaluated = run('eval', '--checkpoint', model, ...data); // train validates on the same val split (50 scenes, seed 0)
    const e = /^ {2}mIoU (\d+\.\d\d)% {2}pixel accuracy (\d+\.\d\d)%$/m.exec(evaluated);
    assert.ok(e, evaluated);
    assert.equal(e[1], t[1]);
    for (const row of evaluated.split('\n').slice(3, -1)) assert.match(row, /^ {2}\S+ +(\d+\.\d\d%|-)$/);
    const json = JSON.parse(run('eval', '--checkpoint', model, ...data, '--json'));
    assert.ok(json.mIoU >= 0 && json.mIoU <= 1);
    assert.equal((100 * json.mIoU).toFixed(2), e[1]);
    assert.match(spawnSync(process.execPath, [CLI, 'eval', '--help'], { encoding: 'utf8' }).stdout, /--json\s+print JSON \(mIoU, pixelAccuracy and perClassIoU as\s+fractions in \[0, 1\]/);
    fs.rmSync(dir, { recursive: true });
  });

  it('eval --help says what --nproc divides without naming --batch-size, which eval does not have', () => {
    const help = spawnSync(process.execPath, [CLI, 'eval', '--help'], { encoding: 'utf8' }).stdout;
    assert.match(help, /--nproc <n> +run as N local processes/);
    assert.doesNotMatch(help, /--batch-size/);
    assert.match(spawnSync(process.execPath, [CLI, 'train', '--help'], { encoding: 'utf8' }).stdout, /--batch-size is per\s+process/);
  });
});
