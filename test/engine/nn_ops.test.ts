/**
 * conv2d, batch norm, pools, interpolation, dropout and cross-entropy against
 * plain-loop references, and their gradients against finite differences.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { assertClose, gradcheck, randomArray } from '../helpers';

type Shape4 = [number, number, number, number];
const at = (s: Shape4, a: number, b: number, c: number, d: number) => ((a * s[1] + b) * s[2] + c) * s[3] + d;

interface ConvSpec { stride: number; padding: number; dilation: number; groups: number; bias?: number[] }

function convRef(x: number[], xs: Shape4, w: number[], ws: Shape4, o: ConvSpec): { out: number[]; shape: Shape4 } {
  const [B, C, H, W] = xs;
  const [O, Cg, KH, KW] = ws;
  const OH = Math.floor((H + 2 * o.padding - o.dilation * (KH - 1) - 1) / o.stride) + 1;
  const OW = Math.floor((W + 2 * o.padding - o.dilation * (KW - 1) - 1) / o.stride) + 1;
  const shape: Shape4 = [B, O, OH, OW];
  const out = new Array<number>(B * O * OH * OW).fill(0);
  const perGroup = O / o.groups;
  for (let b = 0; b < B; b++) for (let oc = 0; oc < O; oc++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    let s = o.bias ? o.bias[oc] : 0;
    const g = Math.floor(oc / perGroup);
    for (let ic = 0; ic < Cg; ic++) for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
      const iy = oy * o.stride - o.padding + ky * o.dilation;
      const ix = ox * o.stride - o.padding + kx * o.dilation;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      s += x[at(xs, b, g * Cg + ic, iy, ix)] * w[at(ws, oc, ic, ky, kx)];
    }
    out[at(shape, b, oc, oy, ox)] = s;
  }
  assert.ok(C === Cg * o.groups);
  return { out, shape };
}

describe('conv2d', () => {
  const cases: [string, Shape4, Shape4, ConvSpec][] = [
    ['plain 3x3 padded', [2, 3, 6, 5], [4, 3, 3, 3], { stride: 1, padding: 1, dilation: 1, groups: 1 }],
    ['strided 3x3', [1, 2, 7, 7], [3, 2, 3, 3], { stride: 2, padding: 1, dilation: 1, groups: 1 }],
    ['dilated 3x3 rate 2', [1, 2, 8, 8], [2, 2, 3, 3], { stride: 1, padding: 2, dilation: 2, groups: 1 }],
    ['depthwise 5x5', [2, 4, 6, 6], [4, 1, 5, 5], { stride: 1, padding: 2, dilation: 1, groups: 4 }],
    ['grouped 1x1 with bias', [1, 4, 3, 3], [6, 2, 1, 1], { stride: 1, padding: 0, dilation: 1, groups: 2, bias: [1, 2, 3, 4, 5, 6] }],
  ];
  for (const [name, xs, ws, o] of cases) {
    it(`${name} matches a plain loop`, () => {
      const x = randomArray(xs.reduce((a, b) => a * b), 11);
      const w = randomArray(ws.reduce((a, b) => a * b), 12);
      const ref = convRef(x, xs, w, ws, o);
      const y = T.conv2d(T.tensor(x, xs), T.tensor(w, ws), {
        stride: o.stride, padding: o.padding, dilation: o.dilation, groups: o.groups, bias: o.bias ? T.tensor(o.bias) : null,
      });
      assert.deepEqual(y.shape, ref.shape);
      assertClose(y.toArray(), ref.out, 1e-5);
    });
  }

  it('gradients match finite differences: depthwise, dilated, strided', () => {
    gradcheck(([x, w]) => T.conv2d(x, w, { padding: 1, groups: 2 }), [{ shape: [1, 2, 4, 4] }, { shape: [2, 1, 3, 3] }]);
    gradcheck(([x, w]) => T.conv2d(x, w, { padding: 2, dilation: 2 }), [{ shape: [1, 2, 5, 5] }, { shape: [2, 2, 3, 3] }]);
    gradcheck(([x, w, b]) => T.conv2d(x, w, { stride: 2, padding: 1, bias: b }), [{ shape: [1, 2, 5, 5] }, { shape: [3, 2, 3, 3] }, { shape: [3] }]);
  });

  it('names the mismatch when channels disagree', () => {
    assert.throws(() => T.conv2d(T.ones([1, 3, 4, 4]), T.ones([2, 4, 3, 3])), /input has 3 channels but weight \[2,4,3,3\] with groups=1 expects 4/);
    assert.throws(() => T.conv2d(T.ones([3, 4, 4]), T.ones([2, 3, 3, 3])), /argument 'x' must have rank 4/);
  });
});

describe('batchNorm', () => {
  const xs: Shape4 = [3, 2, 2, 2];
  const x = randomArray(24, 21);
  const stats = (c: number) => {
    const v: number[] = [];
    for (let b = 0; b < 3; b++) for (let i = 0; i < 4; i++) v.push(x[(b * 2 + c) * 4 + i]);
    const mean = v.reduce((s, e) => s + e, 0) / v.length;
    const biased = v.reduce((s, e) => s + (e - mean) ** 2, 0) / v.length;
    return { mean, biased, unbiased: (biased * v.length) / (v.length - 1) };
  };

  it('training normalises with batch stats and updates running stats (unbiased var)', () => {
    const gamma = [1.5, -0.5];
    const beta = [0.1, 0.2];
    const rm = T.zeros([2]);
    const rv = T.ones([2]);
    const y = T.batchNorm(T.tensor(x, xs), {
      weight: T.tensor(gamma), bias: T.tensor(beta), runningMean: rm, runningVar: rv, training: true, momentum: 0.1, eps: 1e-3,
    }).toArray();
    const ref = x.map((v, i) => {
      const c = Math.floor(i / 4) % 2;
      const s = stats(c);
      return ((v - s.mean) / Math.sqrt(s.biased + 1e-3)) * gamma[c] + beta[c];
    });
    assertClose(y, ref, 1e-5);
    assertClose(rm.toArray(), [0, 1].map((c) => 0.1 * stats(c).mean));
    assertClose(rv.toArray(), [0, 1].map((c) => 0.9 + 0.1 * stats(c).unbiased));
  });

  it('evaluation uses the running statistics', () => {
    const y = T.batchNorm(T.tensor(x, xs), {
      runningMean: T.tensor([0.5, -1]), runningVar: T.tensor([4, 0.25]), training: false, eps: 1e-5,
    }).toArray();
    assertClose(y, x.map((v, i) => {
      const c = Math.floor(i / 4) % 2;
      return (v - [0.5, -1][c]) / Math.sqrt([4, 0.25][c] + 1e-5);
    }));
    assert.throws(() => T.batchNorm(T.tensor(x, xs), { training: false }), /evaluation mode needs runningMean/);
    assert.throws(() => T.batchNorm(T.tensor(x, xs), { training: true, weight: T.ones([3]) }), /'weight' must have shape \[2\]/);
  });

  it('gradients match finite differences (training mode)', () => {
    gradcheck(([v, g, b]) => T.batchNorm(v, { weight: g, bias: b, training: true, eps: 1e-3 }),
      [{ shape: [3, 2, 2, 2] }, { shape: [2] }, { shape: [2] }], { tol: 1e-4 });
  });
});

function poolRef(x: number[], xs: Shape4, k: number, stride: number, pad: number, kind: 'avg' | 'max'): number[] {
  const [B, C, H, W] = xs;
  const OH = Math.floor((H + 2 * pad - k) / stride) + 1;
  const OW = Math.floor((W + 2 * pad - k) / stride) + 1;
  const out: number[] = [];
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    const vals: number[] = [];
    for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
      const iy = oy * stride - pad + ky;
      const ix = ox * stride - pad + kx;
      if (iy >= 0 && iy < H && ix >= 0 && ix < W) vals.push(x[at(xs, b, c, iy, ix)]);
    }
    out.push(kind === 'max' ? Math.max(...vals) : vals.reduce((s, v) => s + v, 0) / vals.length);
  }
  return out;
}

describe('pools', () => {
  const xs: Shape4 = [1, 2, 5, 5];
  const x = randomArray(50, 31);

  it('avgPool2d excludes padding from the average; maxPool2d ignores it', () => {
    for (const [stride, pad] of [[1, 1], [2, 1], [2, 0]]) {
      assertClose(T.avgPool2d(T.tensor(x, xs), 3, { stride, padding: pad }).toArray(), poolRef(x, xs, 3, stride, pad, 'avg'));
      assertClose(T.maxPool2d(T.tensor(x, xs), 3, { stride, padding: pad }).toArray(), poolRef(x, xs, 3, stride, pad, 'max'));
    }
  });

  it('adaptiveAvgPool2d to 1x1 is the spatial mean', () => {
    const g = T.adaptiveAvgPool2d(T.tensor(x, xs), 1).toArray();
    assertClose(g, [0, 1].map((c) => x.slice(c * 25, c * 25 + 25).reduce((s, v) => s + v, 0) / 25));
  });

  it('gradients match finite differences', () => {
    gradcheck(([v]) => T.avgPool2d(v, 3, { stride: 2, padding: 1 }), [{ shape: [1, 1, 5, 5] }]);
    gradcheck(([v]) => T.maxPool2d(v, 3, { stride: 1, padding: 1 }), [{ shape: [1, 1, 4, 4] }]);
    gradcheck(([v]) => T.adaptiveAvgPool2d(v, 1), [{ shape: [2, 2, 3, 3] }]);
  });
});

function bilinearRef(x: number[], xs: Shape4, oh: number, ow: number, alignCorners: boolean): number[] {
  const [B, C, H, W] = xs;
  const src = (o: number, inSize: number, outSize: number) => {
    if (alignCorners) return outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
    return Math.max(0, ((o + 0.5) * inSize) / outSize - 0.5);
  };
  const out: number[] = [];
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const sy = src(oy, H, oh);
    const sx = src(ox, W, ow);
    const y0 = Math.floor(sy);
    const x0 = Math.floor(sx);
    const y1 = Math.min(y0 + 1, H - 1);
    const x1 = Math.min(x0 + 1, W - 1);
    const ly = sy - y0;
    const lx = sx - x0;
    const v = (yy: number, xx: number) => x[at(xs, b, c, yy, xx)];
    out.push((1 - ly) * ((1 - lx) * v(y0, x0) + lx * v(y0, x1)) + ly * ((1 - lx) * v(y1, x0) + lx * v(y1, x1)));
  }
  return out;
}

describe('resizeBilinear', () => {
  const xs: Shape4 = [1, 2, 3, 4];
  const x = randomArray(24, 41);
  for (const alignCorners of [true, false]) {
    it(`matches the sampling formula with alignCorners=${alignCorners} (up and down)`, () => {
      for (const [oh, ow] of [[6, 8], [5, 7], [2, 3]] as [number, number][]) {
        assertClose(T.resizeBilinear(T.tensor(x, xs), [oh, ow], alignCorners).toArray(), bilinearRef(x, xs, oh, ow, alignCorners));
      }
    });
    it(`has finite-difference gradients with alignCorners=${alignCorners}`, () => {
      gradcheck(([v]) => T.resizeBilinear(v, [5, 6], alignCorners), [{ shape: [1, 1, 3, 3] }]);
    });
  }
  it('nearest resizing copies labels', () => {
    const lab = T.tensor([0, 1, 2, 3], [1, 1, 2, 2]);
    assert.deepEqual(T.resizeNearest(lab, [4, 4]).toArray(), [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]);
  });
});

describe('dropout', () => {
  it('zeroes about p of the elements and rescales the rest by 1/(1-p); identity in evaluation', () => {
    T.manualSeed(3);
    const y = T.dropout(T.ones([20000]), 0.3, true).toArray();
    const zeros = y.filter((v) => v === 0).length / y.length;
    assert.ok(Math.abs(zeros - 0.3) < 0.02, `fraction zeroed ${zeros}`);
    assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6));
    assert.deepEqual(T.dropout(T.ones([5]), 0.3, false).toArray(), [1, 1, 1, 1, 1]);
    assert.throws(() => T.dropout(T.ones([5]), 1, true), /p must be in \[0, 1\)/);
  });
});

describe('crossEntropy', () => {
  // logits (B=2, C=3, H=1, W=2), targets with one ignored pixel.
  const logits = randomArray(12, 51);
  const target = [0, 255, 2, 1];
  const classW = [0.5, 2, 1];
  const pixel = (b: number, p: number) => [0, 1, 2].map((c) => logits[((b * 3 + c) * 1) * 2 + p]);
  const nll = (b: number, p: number, t: number) => {
    const z = pixel(b, p);
    const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    return lse - z[t];
  };

  it('mean over non-ignored pixels, with and without class weights', () => {
    const L = () => T.tensor(logits, [2, 3, 1, 2]);
    const tgt = () => T.tensor(target, [2, 1, 2], { dtype: 'int64' });
    const items = [[0, 0, 0], [1, 0, 2], [1, 1, 1]]; // (b, p, t) with t != 255
    const plain = items.reduce((s, [b, p, t]) => s + nll(b, p, t), 0) / 3;
    assertClose([T.crossEntropy(L(), tgt(), { ignoreIndex: 255 }).item()], [plain]);
    const wsum = items.reduce((s, [, , t]) => s + classW[t], 0);
    const weighted = items.reduce((s, [b, p, t]) => s + classW[t] * nll(b, p, t), 0) / wsum;
    assertClose([T.crossEntropy(L(), tgt(), { ignoreIndex: 255, weight: T.tensor(classW) }).item()], [weighted]);
    const none = T.crossEntropy(L(), tgt(), { ignoreIndex: 255, reduction: 'none' }).toArray();
    assertClose(none, [nll(0, 0, 0), 0, nll(1, 0, 2), nll(1, 1, 1)]);
  });

  it('gradients match finite differences', () => {
    const tgt = T.tensor(target, [2, 1, 2], { dtype: 'int64' }).keep();
    gradcheck(([z]) => T.crossEntropy(z, tgt, { ignoreIndex: 255, weight: T.tensor(classW, [3], { dtype: 'float64' }) }),
      [{ shape: [2, 3, 1, 2] }]);
    tgt.dispose();
  });

  it('rejects float targets and mismatched shapes by name', () => {
    assert.throws(() => T.crossEntropy(T.ones([2, 3, 4, 4]), T.ones([2, 4, 4])), /'target' must be int64/);
    assert.throws(() => T.crossEntropy(T.ones([2, 3, 4, 4]), T.zeros([2, 4, 5], { dtype: 'int64' })), /target shape \[2,4,5\] does not match logits \[2,3,4,4\]/);
  });
});
