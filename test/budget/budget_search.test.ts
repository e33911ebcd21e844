/** Search under a budget: the penalty's gradient, the decoded genotype within the budget as `cost` counts it, the flags. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../../src/engine';
import { genotypeCost, MultiAddsTable } from '../../src/budget/cost_table';
import { validateGenotype } from '../../src/arch/genotype_file';
import { BuiltinScenes } from '../../src/data/builtin';
import { countCost } from '../../src/model/cost';
import { buildModel } from '../../src/model/presets';
import { MetricsLog } from '../../src/run/metrics_log';
import { budgetConstraint, BudgetSettings, SearchBudget } from '../../src/budget/search_budget';
import { cheapestCost, decodeWithinBudget } from '../../src/budget/constrained_decode';
import { LatencyTable } from '../../src/budget/latency_table';
import { assembleTable } from '../../src/deploy/latency';
import { resolveSearchConfig } from '../../src/search/search_config';
import { runSearch } from '../../src/search/run_search';
import { Supernet } from '../../src/search/supernet';
import { NetworkTrellis } from '../../src/arch/trellis';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'adl-budget-'));

const settings = (limit: number): BudgetSettings => ({ limit, unit: 'multiAdds', size: [1024, 2048], filterMultiplier: 20, weight: 1 });

describe('search under a budget', () => {
  for (const alphaPerLayer of [false, true]) {
    it(`the penalty gradient added to alpha ${alphaPerLayer ? '(L, edges, ops) ' : ''}and beta equals finite differences of weight * ln(E / budget) (float64)`, () => {
      T.setDefaultFloatDType('float64');
      try {
        T.manualSeed(4);
        const cfg = resolveSearchConfig({ layers: 3, blocks: 2, filterMultiplier: 1, stemChannels: 4, numClasses: 3, crop: 33, threads: 1, alphaPerLayer });
        const net = new Supernet(cfg, { archInitScale: 0.5 });
        const table = new MultiAddsTable({ filterMultiplier: 20, blocks: 2, numClasses: 3, size: [1024, 2048] });
        const budget = new SearchBudget(settings(cheapestCost(net.trellis, table, alphaPerLayer) * 1.01), cfg, net);
        const penalty = () => budget.decode(net).state.penalty;
        assert.ok(penalty() > 0);
        net.archParameters().forEach((p) => (p.grad = null));
        budget.addPenaltyGrad(net);
        for (const p of net.archParameters()) {
          const analytic = p.grad!.toArray();
          const base = p.toArray();
          base.forEach((_, i) => {
            const at = (d: number) => {
              T.noGrad(() => T.tidy(() => T.assign(p, T.tensor(base.map((v, j) => (j === i ? v + d : v)), p.shape))));
              return penalty();
            };
            const numeric = (at(1e-6) - at(-1e-6)) / 2e-6;
            assert.ok(Math.abs(numeric - analytic[i]) < 1e-6 + 1e-5 * Math.abs(numeric), `${p === net.alpha ? 'alpha' : 'beta'}[${i}]: ${analytic[i]} vs ${numeric}`);
          });
          T.noGrad(() => T.tidy(() => T.assign(p, T.tensor(base, p.shape))));
        }
        net.dispose();
      } finally {
        T.setDefaultFloatDType('float32');
      }
    });
  }

  it('the penalty alone drives the expected cost down to the budget, then stops pushing (hinge)', () => {
    T.manualSeed(0);
    const cfg = resolveSearchConfig({ layers: 6, blocks: 5, filterMultiplier: 1, stemChannels: 4, numClasses: 6, crop: 33, threads: 1 });
    const net = new Supernet(cfg);
    const budget = new SearchBudget(settings(240e9), cfg, net);
    const opt = new T.Adam(net.archParameters(), { lr: 1e-2 });
    const expected: number[] = [];
    for (let i = 0; i < 120; i++) {
      expected.push(budget.decode(net).state.expected);
      T.tidy(() => {
        opt.zeroGrad();
        budget.addPenaltyGrad(net);
        opt.step();
      });
    }
    const crossed = expected.findIndex((e) => e <= 240e9);
    assert.ok(expected[0] > 280e9 && crossed > 0, `${expected[0]} .. ${expected[expected.length - 1]}`);
    expected.slice(1, crossed + 1).forEach((e, i) => assert.ok(e < expected[i], `step ${i + 1}: ${e} >= ${expected[i]}`));
    assert.ok(expected.slice(crossed).every((e) => e === expected[crossed]), 'no push within the budget');
    assert.ok(budget.decode(net).state.cost <= 240e9);
    net.dispose();
    opt.dispose();
  });

  it('an ms budget with a margin: the decoder and the penalty work to the limit less the margin', () => {
    T.manualSeed(2);
    const cfg = resolveSearchConfig({ layers: 4, blocks: 3, filterMultiplier: 1, stemChannels: 4, numClasses: 6, crop: 33, threads: 1 });
    const net = new Supernet(cfg, { archInitScale: 1 });
    // Distinct times per part (a hash of its key), so that architectures differ in more than their path.
    const data = assembleTable({ filterMultiplier: 8, blocks: 3, numClasses: 6, size: [64, 128] }, 'web', 1, 'cpu', (key) => 0.1 + ([...key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 997, 7) / 997));
    const table = new LatencyTable(data);
    const free = genotypeCost(table, net.genotype()); // the unconstrained decode's cost
    const cheapest = cheapestCost(net.trellis, table);
    assert.ok(free > cheapest * 1.01, `${free} vs cheapest ${cheapest}`);
    const ms = (margin?: number): BudgetSettings => ({ limit: free, unit: 'ms', size: [64, 128], filterMultiplier: 8, weight: 1, ...(margin === undefined ? {} : { margin }) });
    const plain = new SearchBudget(ms(), cfg, net, table).decode(net);
    assert.deepEqual([plain.state.cost, plain.state.effectiveLimit], [free, undefined], 'without a margin the unconstrained decode fits its own cost');
    const margin = 1 - (free + cheapest) / 2 / free; // the effective limit halfway between the cheapest and the unconstrained decode
    const limit = free * (1 - margin);
    const margined = new SearchBudget(ms(margin), cfg, net, table).decode(net);
    assert.ok(margined.state.cost <= limit && margined.state.effectiveLimit === limit && margined.state.limit === free, JSON.stringify(margined.state));
    // The decoder at the effective limit (checked against brute force in budget_decode.test.ts), and the penalty's closed form there.
    const snap = net.snapshot();
    assert.deepEqual(margined.genotype, decodeWithinBudget(snap.alpha, snap.beta, net.trellis, table, limit).genotype);
    const { expected, penalty } = margined.state;
    assert.ok(expected > limit && Math.abs(penalty - Math.log(expected / limit)) < 1e-12, `expected ${expected}, limit ${limit}, penalty ${penalty}`);
    assert.throws(() => new SearchBudget(ms(1 - cheapest * 0.99 / free), cfg, net, table), /--budget-ms: [0-9.]+ ms less its [0-9.]+% margin \([0-9.]+ ms\) is below the cheapest architecture .* \(a smaller --budget-margin/);
    net.dispose();
  });

  for (const alphaPerLayer of [false, true]) {
    it(`a short search${alphaPerLayer ? ' with alpha per layer' : ''} writes a genotype whose \`cost\` is within the budget, and logs the expected cost per epoch`, async () => {
      const out = tmp();
      const dataset = new BuiltinScenes({ size: 8, imageSize: 48, seed: 0 });
      const config = resolveSearchConfig({
        epochs: 2, archStartEpoch: 1, crop: 40, layers: 3, blocks: 3, filterMultiplier: 2, batchSize: 2, numClasses: dataset.numClasses, threads: 1, alphaPerLayer,
      });
      const table = new MultiAddsTable({ filterMultiplier: 20, blocks: 3, numClasses: dataset.numClasses, size: [1024, 2048] });
      const limit = cheapestCost(new NetworkTrellis(config.layers, config.levels), table, alphaPerLayer) * 1.03;
      const result = await runSearch({ config, dataset, out, constraint: budgetConstraint(settings(limit)) });
      const g = JSON.parse(fs.readFileSync(path.join(out, 'genotype.json'), 'utf8'));
      const genotype = validateGenotype(g, 'genotype.json');
      assert.deepEqual(genotype, result.genotype);
      assert.equal(genotype.cells?.length, alphaPerLayer ? config.layers : undefined);
      const m = buildModel({ genotype, filterMultiplier: 20, numClasses: dataset.numClasses });
      const counted = countCost(m, 1024, 2048).multiAdds;
      m.weights.dispose();
      assert.ok(counted <= limit, `${counted} > ${limit}`);
      assert.equal(g.search.budget.cost, counted);
      assert.equal(genotypeCost(table, genotype), counted);
      const epochs = MetricsLog.read(path.join(out, 'metrics.jsonl')).filter((r) => r.type === 'epoch');
      assert.equal(epochs.length, 2);
      for (const e of epochs) {
        const b = e.budget as Record<string, number>;
        assert.ok(b.expected > 0 && b.cost <= limit && b.limit === limit, JSON.stringify(b));
      }
      assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).budget.limit, limit);
      fs.rmSync(out, { recursive: true });
    });
  }

  it('a budget below the cheapest architecture, a companion flag alone or out of range, or a resume with another budget exits 2 naming it', () => {
    const base = ['search', '--epochs', '1', '--arch-start-epoch', '0', '--crop', '40', '--layers', '3', '--blocks', '3', '--filter-multiplier', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--threads', '1'];
    const out = tmp();
    const low = spawnSync(process.execPath, [CLI, ...base, '--budget', '200', '--out', out], { encoding: 'utf8' });
    assert.equal(low.status, 2, low.stderr);
    assert.match(low.stderr, /--budget: 200\.00 B Multi-Adds is below the cheapest architecture .*: 2\d\d\.\d\d B Multi-Adds/);
    const stray = spawnSync(process.execPath, [CLI, ...base, '--budget-size', '512x1024', '--out', out], { encoding: 'utf8' });
    assert.equal(stray.status, 2, stray.stderr);
    assert.match(stray.stderr, /--budget-size: only meaningful with --budget/);
    for (const v of ['0.5', '-0.1', '5']) {
      const margin = spawnSync(process.execPath, [CLI, ...base, `--budget-margin=${v}`, '--out', out], { encoding: 'utf8' });
      assert.equal(margin.status, 2, margin.stderr);
      assert.match(margin.stderr, new RegExp(`--budget-margin <fraction>' argument '${v.replace('.', '\\.')}' is invalid\\. expected a number in \\[0, 0\\.5\\)`));
    }
    const madds = spawnSync(process.execPath, [CLI, ...base, '--budget', '240', '--budget-margin', '0.1', '--out', out], { encoding: 'utf8' });
    assert.equal(madds.status, 2, madds.stderr);
    assert.match(madds.stderr, /--budget-margin: only meaningful with --budget-ms/);
    const run = tmp();
    const first = spawnSync(process.execPath, [CLI, ...base, '--budget', '240', '--max-iterations', '1', '--out', run], { encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    const other = spawnSync(process.execPath, [CLI, ...base, '--budget', '250', '--resume', '--out', run], { encoding: 'utf8' });
    assert.equal(other.status, 2, other.stderr);
    assert.match(other.stderr, /budget\.limit: saved 240000000000, now 250000000000/);
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(run, { recursive: true, force: true });
  });
});
