/**
 * Engine benchmark: conv2d forward+backward at several sizes (tiny ones show
 * per-op overhead) and a 20-layer CNN training step, each against the same
 * computation in Debian's PyTorch (/usr/bin/python3) in the same invocation.
 * Prints a table and, last, min_speed_ratio_vs_pytorch=X (PyTorch time / ours).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../src/engine';
import { printTable } from './report';
import { PythonReference } from './reference';

interface ConvCase { name: string; x: number[]; w: number[]; stride: number; padding: number; dilation: number; groups: number; iters: number }
interface CnnCase { name: string; layers: number; channels: number; batch: number; size: number; classes: number; iters: number }

const casesFile = path.join(__dirname, '..', '..', 'bench', 'cases.json');

const ROUNDS = 5;

/** A case: set-up done, `round()` times `iters` steps and returns seconds per step. */
interface Bench { name: string; round(): number; dispose(): void }

function rounder(step: () => void, iters: number): () => number {
  let warm = false;
  return () => {
    if (!warm) {
      step();
      warm = true;
    }
    const t = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) step();
    return Number(process.hrtime.bigint() - t) / 1e9 / iters;
  };
}

function convFlops(c: ConvCase): number {
  const [b, , h, w] = c.x;
  const [o, cg, kh, kw] = c.w;
  const oh = Math.floor((h + 2 * c.padding - c.dilation * (kh - 1) - 1) / c.stride) + 1;
  const ow = Math.floor((w + 2 * c.padding - c.dilation * (kw - 1) - 1) / c.stride) + 1;
  return 3 * 2 * b * o * oh * ow * cg * kh * kw; // forward + two backward convolutions
}

function benchConv(c: ConvCase): Bench {
  const x = T.randn(c.x, { requiresGrad: true }).keep();
  const w = T.randn(c.w, { requiresGrad: true }).keep();
  const round = rounder(() => T.tidy(() => {
    const y = T.conv2d(x, w, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
    T.backward(T.sum(y));
    x.zeroGrad();
    w.zeroGrad();
  }), c.iters);
  return { name: c.name, round, dispose: () => T.dispose([x, w]) };
}

function benchCnn(n: CnnCase): Bench {
  const ws: T.Tensor[] = [];
  let cin = 3;
  for (let i = 0; i < n.layers; i++) {
    ws.push(T.mul(T.randn([n.channels, cin, 3, 3]), Math.sqrt(2 / (9 * cin))).keep().setRequiresGrad(true));
    cin = n.channels;
  }
  const gammas = ws.map(() => T.ones([n.channels], { requiresGrad: true }).keep());
  const betas = ws.map(() => T.zeros([n.channels], { requiresGrad: true }).keep());
  const rms = ws.map(() => T.zeros([n.channels]).keep());
  const rvs = ws.map(() => T.ones([n.channels]).keep());
  const head = T.mul(T.randn([n.classes, n.channels, 1, 1]), 0.1).keep().setRequiresGrad(true);
  const opt = new T.SGD([...ws, ...gammas, ...betas, head], { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  const xb = T.randn([n.batch, 3, n.size, n.size]).keep();
  const yb = T.randint(0, n.classes, [n.batch, n.size, n.size]).keep();
  const round = rounder(() => T.tidy(() => {
    opt.zeroGrad();
    let h = xb;
    for (let i = 0; i < n.layers; i++) {
      h = T.relu(T.batchNorm(T.conv2d(h, ws[i], { padding: 1 }), {
        weight: gammas[i], bias: betas[i], runningMean: rms[i], runningVar: rvs[i], training: true, momentum: 0.1, eps: 1e-5,
      }));
    }
    T.backward(T.crossEntropy(T.conv2d(h, head), yb));
    opt.step();
  }), n.iters);
  return { name: n.name, round, dispose: () => T.dispose([ws, gammas, betas, rms, rvs, head, xb, yb, opt.stateDict().tensors]) };
}

/**
 * Each case runs ROUNDS rounds of ours and of PyTorch's, alternating; the
 * best round of each is compared (the least disturbed by other load).
 */
export async function runEngineBench(threads: number): Promise<void> {
  const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8')) as { conv: ConvCase[]; cnn: CnnCase };
  T.setNumThreads(threads);
  T.manualSeed(0);
  const ref = await PythonReference.start(path.join(path.dirname(casesFile), 'engine_ref.py'), [casesFile, String(threads)], threads);
  const benches = [...cases.conv.map(benchConv), benchCnn(cases.cnn)];
  const flops = new Map(cases.conv.map((c) => [c.name, convFlops(c)]));
  const rows = [];
  let worst = Infinity;
  for (const b of benches) {
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      ours.push(b.round());
      theirs.push(await ref.time(b.name));
    }
    b.dispose();
    const t = Math.min(...ours);
    const p = Math.min(...theirs);
    worst = Math.min(worst, p / t);
    const f = flops.get(b.name);
    rows.push({
      case: b.name,
      'ours ms': (t * 1e3).toFixed(3),
      'pytorch ms': (p * 1e3).toFixed(3),
      ratio: (p / t).toFixed(2),
      'GFLOP/s': f ? (f / t / 1e9).toFixed(2) : '',
    });
  }
  ref.close();
  printTable(rows);
  console.log(`threads=${threads} rounds=${ROUNDS} (best of each, interleaved) cpu="${os.cpus()[0]?.model ?? '?'}" libtorch=${T.buildInfo().torchVersion}`);
  console.log(`min_speed_ratio_vs_pytorch=${worst.toFixed(2)}`);
}
