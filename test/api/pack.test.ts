/**
 * The library as a user gets it: `npm pack` the project, install the tarball
 * into an empty project with npm (offline), and use the public API
 * (src/index.ts) from there, in JavaScript and in strict TypeScript.
 *
 * The tarball's own dependencies (sharp, onnxruntime-node, vega, ...) are
 * linked to this checkout's node_modules through the empty project's lockfile,
 * so the install needs neither the network nor a 100 MB copy; the package
 * itself (dist/src, the native addon, the schema) comes only from the tarball.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUTO_DEEPLAB_GENOTYPE, buildModel, countCost } from '../../src/index';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} in ${cwd} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** An empty project whose lockfile names the tarball and links its dependencies to this checkout's installed ones. */
function emptyProject(dir: string, tarball: string): void {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
  const spec = `file:${path.relative(dir, tarball)}`;
  const packages: Record<string, unknown> = {
    '': { name: 'user-project', version: '1.0.0', dependencies: { autodeeplab: spec } },
    'node_modules/autodeeplab': { version: pkg.version, resolved: spec, dependencies: pkg.dependencies },
  };
  for (const dep of Object.keys(pkg.dependencies)) {
    const target = path.relative(dir, path.join(ROOT, 'node_modules', dep));
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', dep, 'package.json'), 'utf8')) as { version: string };
    packages[`node_modules/${dep}`] = { resolved: target, link: true };
    packages[target] = { version };
  }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true, dependencies: { autodeeplab: spec } }));
  fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', lockfileVersion: 3, requires: true, packages }));
}

/** The user's script: cost of the released network, a genotype file written and read back, a decode. */
const USER_SCRIPT = `
const adl = require('autodeeplab');
const fs = require('node:fs');
const model = adl.buildModel({ genotype: adl.AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 20, numClasses: 19 });
const cost = adl.countCost(model, 1024, 2048);
adl.writeGenotypeFile('g.json', adl.AUTO_DEEPLAB_GENOTYPE);
const back = adl.loadGenotype('g.json');
// beta[l][from][d + 1]: the arrow one level coarser (d = +1) is the strongest everywhere, so from the stem's level 0 the path is 1, 2, 3.
const trellis = new adl.NetworkTrellis(3);
const beta = [0, 1, 2].map(() => [0, 1, 2, 3].map(() => [0.1, 0.2, 0.7]));
const { path } = adl.viterbiDecode(beta, trellis);
// alpha[e]: op 1 + e % 3 at 0.5 + 0.1 e, the rest 0.01 (2 blocks: edges 0-1 into block 0, 2-4 into block 1).
const alpha = Array.from({ length: 5 }, (_, e) => adl.PRIMITIVES.map((_, j) => (j === 1 + (e % 3) ? 0.5 + 0.1 * e : 0.01)));
const cell = adl.decodeCell(alpha, 2);
process.stdout.write(JSON.stringify({ params: cost.params, multiAdds: cost.multiAdds, same: JSON.stringify(back) === JSON.stringify(adl.AUTO_DEEPLAB_GENOTYPE), path, cell }));
`;

/** docs/api.md's TypeScript example (type-checked only: it would train): the package's declarations must carry the types. */
const USER_TS = `
import { openDataset, resolveSearchConfig, runSearch, modelConfig, resolveTrainConfig, runTraining, countCost, buildModel, ModelCost } from 'autodeeplab';
export async function main(): Promise<number> {
  const dataset = openDataset('builtin', { split: 'train', seed: 1, builtinSize: 8, builtinImageSize: 48 });
  const config = resolveSearchConfig({ epochs: 2, archStartEpoch: 1, crop: 40, layers: 3, blocks: 3, filterMultiplier: 4, numClasses: dataset.numClasses });
  const { genotype } = await runSearch({ config, dataset, out: 'runs/lib-search' });
  await runTraining({
    model: modelConfig({ genotype, filterMultiplier: 8, numClasses: dataset.numClasses }),
    train: resolveTrainConfig({ crop: 40, iterations: 20 }),
    dataset, out: 'runs/lib-train',
  });
  const c: ModelCost = countCost(buildModel({ genotype, filterMultiplier: 8, numClasses: 6 }), 64, 64);
  return c.multiAdds;
}
`;

describe('npm pack', () => {
  it('the packed tarball installs offline into an empty project, and its API runs there (JavaScript and strict TypeScript)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-pack-'));
    try {
      const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], ROOT)) as { filename: string; files: { path: string }[] }[];
      const files = packed[0].files.map((f) => f.path);
      for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'build/autodeeplab.node', 'dist/src/data/prefetch_worker.js']) {
        assert.ok(files.includes(f), `the tarball lacks ${f}`);
      }
      assert.ok(!files.some((f) => f.startsWith('dist/test/') || f.startsWith('src/')), 'the tarball carries tests or sources');
      const project = path.join(dir, 'user');
      fs.mkdirSync(project);
      emptyProject(project, path.join(dir, packed[0].filename));
      run('npm', ['ci', '--offline', '--ignore-scripts', '--loglevel=error'], project);
      assert.ok(!fs.lstatSync(path.join(project, 'node_modules', 'autodeeplab')).isSymbolicLink(), 'the package was linked, not installed');

      fs.writeFileSync(path.join(project, 'use.js'), USER_SCRIPT);
      const got = JSON.parse(run(process.execPath, ['use.js'], project)) as { params: number; multiAdds: number; same: boolean; path: number[]; cell: unknown };
      const here = countCost(buildModel({ genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 20, numClasses: 19 }), 1024, 2048);
      assert.equal(got.params, here.params);
      assert.equal(got.multiAdds, here.multiAdds);
      assert.equal((got.params / 1e6).toFixed(2), '10.15'); // the paper's Table 2, Auto-DeepLab-S
      assert.ok(got.same, 'a genotype written and read back through the package is the same');
      assert.deepEqual(got.path, [1, 2, 3]);
      // By hand: block 0 keeps both its edges (ops 1, 2: sep5x5, atrous3x3); block 1 its two strongest,
      // edges 3 (prev, op 1) and 4 (block0, op 2), in input order.
      assert.deepEqual(got.cell, { blocks: [
        [{ input: 'prevPrev', op: 'sep5x5' }, { input: 'prev', op: 'atrous3x3' }],
        [{ input: 'prev', op: 'sep5x5' }, { input: 'block0', op: 'atrous3x3' }],
      ] });

      fs.writeFileSync(path.join(project, 'use.ts'), USER_TS);
      const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      run(process.execPath, [tsc, '--strict', '--noEmit', '--module', 'commonjs', '--target', 'ES2022', '--moduleResolution', 'node',
        '--skipLibCheck', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), 'use.ts'], project);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
