/**
 * The built-in scenes: deterministic, any size, and they reward context: a
 * small network with a wide receptive field learns them well above chance,
 * a per-pixel classifier (1x1 convolutions only) clearly worse.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { BuiltinScenes, generateScene } from '../../src/data/builtin';
import { BatchSampler } from '../../src/data/pipeline';
import { evaluateDataset } from '../../src/eval/evaluate';
import { convInit, ParameterStore, zerosInit } from '../../src/nn/params';

/** conv stack: kernels k with dilations d; the last layer is a 1x1 classifier. */
function makeNet(store: ParameterStore, layers: { k: number; d: number }[], width: number, classes: number) {
  let cin = 3;
  const ws = layers.map((l, i) => {
    const w = store.param(`w${i}`, [width, cin, l.k, l.k], convInit(cin * l.k * l.k));
    cin = width;
    return { w, b: store.param(`b${i}`, [width], zerosInit), ...l };
  });
  const head = store.param('head', [classes, width, 1, 1], convInit(width));
  const headBias = store.param('head_b', [classes], zerosInit);
  return (x: T.Tensor) => {
    let h = x;
    for (const l of ws) h = T.relu(T.conv2d(h, l.w, { bias: l.b, padding: (l.d * (l.k - 1)) / 2, dilation: l.d }));
    return T.conv2d(h, head, { bias: headBias });
  };
}

async function trainAndScore(layers: { k: number; d: number }[]): Promise<number> {
  T.manualSeed(0);
  const train = new BuiltinScenes({ size: 64, imageSize: 48, seed: 0 });
  const val = new BuiltinScenes({ size: 16, imageSize: 48, seed: 1 });
  const store = new ParameterStore();
  const net = makeNet(store, layers, 24, train.numClasses);
  const opt = new T.Adam(store.parameters(), { lr: 3e-3 });
  const sampler = new BatchSampler(train, Array.from({ length: 64 }, (_, i) => i), 8, 0, { crop: 48, scale: [1, 1], flip: true });
  for (let step = 0; step < 240; step++) {
    const [e, k] = [Math.floor(step / 8), step % 8];
    const samples = await sampler.load(e, k);
    T.tidy(() => {
      const b = sampler.assemble(e, k, samples);
      opt.zeroGrad();
      T.backward(T.crossEntropy(net(b.images), b.labels, { ignoreIndex: 255 }));
      opt.step();
    });
  }
  const r = await evaluateDataset((x) => net(x), val, { scales: [1], flip: false });
  store.dispose();
  opt.dispose();
  return r.mIoU;
}

describe('built-in scenes', () => {
  it('are deterministic by seed and come in any size', () => {
    const a = generateScene(3, 7, 40);
    const b = generateScene(3, 7, 40);
    assert.deepEqual(a.image, b.image);
    assert.deepEqual(a.label, b.label);
    assert.notDeepEqual(generateScene(4, 7, 40).label, a.label);
    const big = generateScene(3, 7, 97);
    assert.equal(big.image.length, 97 * 97 * 3);
    const classes = new Set<number>();
    for (let i = 0; i < 20; i++) generateScene(0, i, 64).label.forEach((v) => classes.add(v));
    assert.deepEqual([...classes].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 255]);
  });

  it('reward context: a network with a wide receptive field beats a per-pixel classifier clearly', async () => {
    const perPixel = await trainAndScore([{ k: 1, d: 1 }, { k: 1, d: 1 }, { k: 1, d: 1 }]);
    const context = await trainAndScore([{ k: 3, d: 1 }, { k: 3, d: 2 }, { k: 3, d: 4 }, { k: 3, d: 8 }]);
    const chance = 1 / 6;
    assert.ok(context > chance * 2, `context network mIoU ${context}`);
    assert.ok(context > perPixel + 0.1, `context ${context.toFixed(3)} vs per-pixel ${perPixel.toFixed(3)}`);
  });
});
