/**
 * The operations of a decoded cell, as released (docs/reference.md):
 * one factory per family, each op's from its entry in OP_TABLE (arch/primitives.ts).
 * Order everywhere: ReLU -> conv -> BN. A stride of 2 applies to the ops that
 * read the cell's inputs when the cell moves to a coarser level.
 */
import * as T from '../engine';
import { BatchNorm, BNConfig } from '../nn/layers';
import { convInit, ParameterStore } from '../nn/params';
import { CELL_OPS, CellOpName, OP_TABLE } from '../arch/primitives';

export interface CellOp {
  forward(x: T.Tensor, training: boolean): T.Tensor;
}

export interface OpSpec {
  store: ParameterStore;
  name: string;
  /** Channels in (the cell's filter size for preprocessed inputs and blocks). */
  cin: number;
  /** Channels out: the cell's filter size F * 2^level. */
  cout: number;
  stride: 1 | 2;
  bn: BNConfig;
}

type OpFactory = (s: OpSpec) => CellOp;

function conv(s: OpSpec, suffix: string, cin: number, cout: number, k: number, groups = 1): T.Tensor {
  return s.store.param(`${s.name}.${suffix}`, [cout, cin / groups, k, k], convInit((cin / groups) * k * k));
}

/** Two stacked [ReLU, depthwise kxk, pointwise 1x1, BN]; the stride applies to the first. */
function separable(k: number): OpFactory {
  return (s) => {
    const layers = [0, 1].map((i) => ({
      dw: conv(s, `sep${k}x${k}_${i + 1}.depthwise`, i === 0 ? s.cin : s.cout, i === 0 ? s.cin : s.cout, k, i === 0 ? s.cin : s.cout),
      pw: conv(s, `sep${k}x${k}_${i + 1}.pointwise`, i === 0 ? s.cin : s.cout, s.cout, 1),
      bn: new BatchNorm(s.store, `${s.name}.sep${k}x${k}_${i + 1}.bn`, s.cout, s.bn, true),
      stride: i === 0 ? s.stride : 1,
    }));
    return {
      forward(x, training) {
        let h = x;
        for (const l of layers) {
          h = l.stride === 1 ? T.sameConv2d(T.relu(h), l.dw, { groups: l.dw.shape[0] })
            : T.conv2d(T.relu(h), l.dw, { stride: l.stride, padding: (k - 1) / 2, groups: l.dw.shape[0] });
          h = l.bn.forward(T.conv2d(h, l.pw), training);
        }
        return h;
      },
    };
  };
}

/** ReLU, regular kxk conv at rate 2, BN. With stride 2: halve by bilinear resizing, then rate 1 (as released). */
function atrous(k: number): OpFactory {
  return (s) => {
    const w = conv(s, `atrous${k}x${k}.conv`, s.cin, s.cout, k);
    const bn = new BatchNorm(s.store, `${s.name}.atrous${k}x${k}.bn`, s.cout, s.bn, true);
    return {
      forward(x, training) {
        let h = T.relu(x);
        if (s.stride === 2) {
          const [, , H, W] = h.shape;
          h = T.resizeBilinear(h, [Math.ceil(H / 2), Math.ceil(W / 2)], true);
          return bn.forward(T.sameConv2d(h, w), training);
        }
        return bn.forward(T.sameConv2d(h, w, { dilation: 2 }), training);
      },
    };
  };
}

function pool(kind: 'avg' | 'max'): OpFactory {
  return (s) => {
    const proj = s.cin !== s.cout
      ? { w: conv(s, `${kind}pool.1x1`, s.cin, s.cout, 1), bn: new BatchNorm(s.store, `${s.name}.${kind}pool.bn`, s.cout, s.bn, true) }
      : null;
    return {
      forward(x, training) {
        const o = { stride: s.stride, padding: 1 };
        const h = kind === 'avg' ? T.avgPool2d(x, 3, o) : T.maxPool2d(x, 3, o);
        return proj ? proj.bn.forward(T.conv2d(h, proj.w), training) : h;
      },
    };
  };
}

/** Identity; a strided or widening skip becomes ReLU, 1x1 conv, BN. */
const skip: OpFactory = (s) => {
  if (s.stride === 1 && s.cin === s.cout) return { forward: (x) => x };
  const w = conv(s, 'skip.1x1', s.cin, s.cout, 1);
  const bn = new BatchNorm(s.store, `${s.name}.skip.bn`, s.cout, s.bn, true);
  return { forward: (x, training) => bn.forward(T.conv2d(T.relu(x), w, { stride: s.stride }), training) };
};

/** The factory of an op, from its family and its entry in OP_TABLE. */
function opFactory(op: CellOpName): OpFactory {
  const t = OP_TABLE[op];
  switch (t.family) {
    case 'sep': return separable(t.kernel);
    case 'atrous': return atrous(t.kernel);
    case 'pool': return pool(t.pool);
    case 'skip': return skip;
  }
}

export const OPS: Readonly<Record<CellOpName, OpFactory>> = Object.freeze(Object.fromEntries(CELL_OPS.map((op) => [op, opFactory(op)])) as Record<CellOpName, OpFactory>);
