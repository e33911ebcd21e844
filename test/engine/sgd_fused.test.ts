/**
 * SGD's one-pass native update (native/src/sgd.cc, adl::sgd_momentum_step_)
 * against the same update composed of libtorch's _foreach ops (SGD.fused =
 * false), step by step: parameters and momentum buffers, float64 and float32,
 * with weight decay, dampening and Nesterov momentum, and a non-contiguous
 * gradient (the op's composed branch). optim.test.ts checks the composed
 * update against torch.optim.SGD's rule.
 */
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { profileOps } from '../../src/engine/profile';
import { assertClose, randomArray } from '../helpers';

const SHAPES = [[3, 5], [4, 4], [7], [2, 3, 2, 2]];

/** Runs `steps` SGD steps from fixed parameters and gradients; returns every parameter and buffer after each step. */
function trajectory(fused: boolean, dtype: 'float32' | 'float64', o: T.SGDOptions, transposedGrad: boolean, steps = 5): number[][] {
  T.SGD.fused = fused;
  const params = SHAPES.map((s, i) => T.tensor(randomArray(s.reduce((a, b) => a * b, 1), 10 + i), s, { dtype, requiresGrad: true }).keep());
  const opt = new T.SGD(params, o);
  const out: number[][] = [];
  for (let step = 0; step < steps; step++) {
    T.tidy(() => params.forEach((p, i) => {
      const g = T.tensor(randomArray(p.size, 100 * step + i), p.shape, { dtype });
      // (4, 4): its gradient given as a transposed view, not contiguous.
      p.grad = transposedGrad && p.shape.length === 2 && p.shape[0] === p.shape[1] ? T.transpose(g, 0, 1) : g;
    }));
    opt.step();
    opt.zeroGrad();
    out.push(...params.map((p) => p.toArray()));
    const buffers = opt.stateDict().tensors;
    out.push(...params.map((_, i) => buffers[`${i}.momentum_buffer`].toArray()));
  }
  opt.dispose();
  T.dispose(params);
  return out;
}

describe('SGD: the one-pass update equals the composed one', () => {
  after(() => {
    T.SGD.fused = true;
  });
  const cases: [string, T.SGDOptions][] = [
    ['momentum 0.9, weight decay 4e-5 (the search)', { lr: 0.05, momentum: 0.9, weightDecay: 4e-5 }],
    ['Nesterov, weight decay 1e-2', { lr: 0.1, momentum: 0.9, weightDecay: 1e-2, nesterov: true }],
    ['dampening 0.3, no weight decay', { lr: 0.02, momentum: 0.5, dampening: 0.3 }],
  ];
  for (const [name, o] of cases) {
    for (const [dtype, tol] of [['float64', 1e-12], ['float32', 2e-6]] as ['float64' | 'float32', number][]) {
      for (const transposed of [false, true]) {
        it(`${name}, ${dtype}${transposed ? ', a transposed gradient' : ''}: parameters and buffers over 5 steps within ${tol}`, () => {
          const before = T.memory().numTensors;
          const want = trajectory(false, dtype, o, transposed);
          const got = trajectory(true, dtype, o, transposed);
          assert.equal(got.length, want.length);
          got.forEach((g, k) => assertClose(g, want[k], tol, `array ${k}`));
          assert.equal(T.memory().numTensors, before, 'tensors leaked');
        });
      }
    }
  }

  it('runs as one native call after the first step (the profiler sees adl::sgd_momentum_step_, no _foreach op)', () => {
    T.SGD.fused = true;
    const params = [T.randn([4, 3]).setRequiresGrad().keep(), T.randn([5]).setRequiresGrad().keep()];
    const opt = new T.SGD(params, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
    const step = () => {
      T.tidy(() => params.forEach((p) => (p.grad = T.onesLike(p))));
      opt.step();
      opt.zeroGrad();
    };
    const names = (body: () => void) => profileOps(body).events.filter((e) => e.depth === 0).map((e) => e.name);
    assert.ok(names(step).some((n) => n.startsWith('aten::_foreach')), 'the first step (buffers made) is composed');
    const second = names(step);
    assert.deepEqual(second.filter((n) => n.startsWith('adl::') || n.startsWith('aten::_foreach')), ['adl::sgd_momentum_step_']);
    opt.dispose();
    T.dispose(params);
  });
});
