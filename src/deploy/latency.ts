/**
 * Measured latency of every part of the retrained network on this machine,
 * in libtorch (this project's engine) or onnxruntime (each part exported as
 * its own ONNX graph, as `export` writes whole models), written as a
 * LatencyTableData (budget/latency_table.ts). Parts are built from the model's
 * own modules (ops, ASPP, decoder) with the released batch norm in evaluation
 * mode; the stem, a cell's 1x1 preprocessing and its sums are the same calls
 * as in model/network.ts and model/cell.ts. Each time is the median of
 * `repeats` runs after two warm-up runs, batch 1.
 */
import * as T from '../engine';
import { NetworkShape } from '../budget/cost_table';
import { LatencyTableData, nominalSizes, sourceChannels, tableChannels } from '../budget/latency_table';
import { CellOpName, PRIMITIVES } from '../arch/primitives';
import { BatchNorm } from '../nn/layers';
import { convInit, ParameterStore } from '../nn/params';
import { ASPP, asppRates, Decoder, RELEASED_BN } from '../model/network';
import { OPS } from '../model/cell_ops';
import { inGraphMs } from './ort_profile';
import { Clock, Part, PartTiming, RuntimeName, timePartClocks } from './part_timing';

export { Clock, Part, RuntimeName, timePart } from './part_timing';

/** Every part of the network at the table's sizes; their weights live in `stores` (ASPP and decoder name theirs alike). */
export function latencyParts(shape: NetworkShape, stores: ParameterStore[]): Part[] {
  const fresh = () => stores[stores.push(new ParameterStore()) - 1];
  const store = fresh();
  const bn = RELEASED_BN;
  const sizes = nominalSizes(shape.size);
  const C = (k: number) => shape.filterMultiplier * 2 ** k;
  const parts: Part[] = [];
  const add = (key: string, c: number, [h, w]: [number, number], forward: Part['forward']) => parts.push({ key, input: [1, c, h, w], forward });
  // Stem (model/network.ts): conv s2 BN ReLU, conv BN, ReLU conv s2 BN.
  const stemW = [[64, 3], [64, 64], [128, 64]].map(([o, i], j) => ({ w: store.param(`stem${j}`, [o, i, 3, 3], convInit(9 * i)), bn: new BatchNorm(store, `stembn${j}`, o, bn, true) }));
  add('stem', 3, shape.size as [number, number], (x) => {
    let h = T.relu(stemW[0].bn.forward(T.conv2d(x, stemW[0].w, { stride: 2, padding: 1 }), false));
    h = stemW[1].bn.forward(T.conv2d(h, stemW[1].w, { padding: 1 }), false);
    return stemW[2].bn.forward(T.conv2d(T.relu(h), stemW[2].w, { stride: 2, padding: 1 }), false);
  });
  for (let k = 0; k < 4; k++) {
    for (const strided of k === 0 ? [false] : [true, false]) {
      for (const op of PRIMITIVES) {
        if (op === 'zero' || (op === 'skip' && !strided)) continue; // identity: nothing runs
        const m = OPS[op as CellOpName]({ store, name: `op${k}${strided}${op}`, cin: C(k), cout: C(k), stride: strided ? 2 : 1, bn });
        add(`op:${k}:${strided ? 1 : 0}:${op}`, C(k), sizes[strided ? k - 1 : k], (x) => m.forward(x, false));
      }
    }
    for (const c of tableChannels(shape)) {
      const w = store.param(`pre${k}.${c}`, [C(k), c, 1, 1], convInit(c));
      const norm = new BatchNorm(store, `prebn${k}.${c}`, C(k), bn, true);
      add(`pre:${k}:${c}`, c, sizes[k], (x) => norm.forward(T.conv2d(T.relu(x), w), false));
      add(`resize:${k}:${c}`, c, sizes[k < 3 ? k + 1 : k - 1], (x) => T.resizeBilinear(x, sizes[k], true));
    }
    // A cell's B block sums and the concatenation of its blocks (model/cell.ts).
    add(`glue:${k}`, C(k), sizes[k], (x) => T.cat(Array.from({ length: shape.blocks }, () => T.add(x, x)), 1));
    if (k < 3) add(`upsample:${k}`, sourceChannels(shape, k + 1), sizes[k + 1], (x) => T.resizeBilinear(x, [2 * x.shape[2] - 1, 2 * x.shape[3] - 1], true));
    const aspp = new ASPP(fresh(), sourceChannels(shape, k), bn, asppRates(k));
    add(`aspp:${k}`, sourceChannels(shape, k), sizes[k], (x) => aspp.forward(x, false));
  }
  for (const fromCell of [true, false]) {
    const low = fromCell ? sourceChannels(shape, 0) : 128;
    const dec = new Decoder(fresh(), low, shape.numClasses, bn);
    // The ASPP output (256 channels at stride 8, as released) is a constant here: the decoder's cost is its convs and resizes.
    const a = store.buffer(`aspp_out${fromCell}`, T.zeros([1, 256, sizes[1][0], sizes[1][1]]));
    add(`decoder:${fromCell ? 'cell' : 'stem'}`, low, sizes[0], (x) => T.resizeBilinear(dec.forward(a, x, false), shape.size as [number, number], true));
  }
  return parts;
}

/** Times every part and assembles the table. onPart: progress (index, count, key, ms). */
export async function measureLatencyTable(shape: NetworkShape, runtime: RuntimeName, threads: number, repeats: number, clock: Clock = 'cpu',
  onPart?: (i: number, n: number, key: string, ms: number) => void): Promise<LatencyTableData> {
  const stores: ParameterStore[] = [];
  try {
    const parts = latencyParts(shape, stores);
    const timings = new Map<string, PartTiming>();
    const inGraph = runtime !== 'libtorch';
    for (const [i, p] of parts.entries()) {
      timings.set(p.key, await timePartClocks(p, runtime, threads, repeats, inGraph));
      onPart?.(i, parts.length, p.key, timings.get(p.key)![clock]);
    }
    if (!inGraph) return assembleTable(shape, runtime, threads, clock, (key) => timings.get(key)?.[clock] ?? 0); // skip at stride 1 is the identity
    // onnxruntime: each part as it runs inside a network (ort_profile.ts); web: but its bare call
    // (web/part_timing.ts). The stem keeps its call (and its input's reorder): the network pays it once, at its input.
    const table = assembleTable(shape, runtime, threads, clock, (key) => {
      const t = timings.get(key);
      return !t ? 0 : key === 'stem' ? t[clock] : runtime === 'web' ? Math.max(0, t[clock] - t.call![clock]) : inGraphMs(t, clock);
    });
    return { ...table, inGraph: true };
  } finally {
    stores.forEach((s) => s.dispose());
  }
}

/** The table from the time of each part's key (latencyParts' keys). */
export function assembleTable(shape: NetworkShape, runtime: RuntimeName, threads: number, clock: Clock, get: (key: string) => number): LatencyTableData {
  const levels = [0, 1, 2, 3];
  const byChannels = (prefix: string, k: number) => Object.fromEntries(tableChannels(shape).map((c) => [String(c), get(`${prefix}:${k}:${c}`)]));
  const opsAt = (k: number, s: number) => Object.fromEntries(PRIMITIVES.filter((p) => p !== 'zero').map((op) => [op, get(`op:${k}:${s}:${op}`)])) as Record<CellOpName, number>;
  return {
    version: 1, unit: 'ms', runtime, threads, clock, shape, levelSizes: nominalSizes(shape.size), stem: get('stem'),
    ops: levels.map((k) => (k === 0 ? [opsAt(k, 0)] : [opsAt(k, 0), opsAt(k, 1)])),
    pre: levels.map((k) => byChannels('pre', k)), resize: levels.map((k) => byChannels('resize', k)),
    glue: levels.map((k) => get(`glue:${k}`)), upsample: [0, 1, 2].map((k) => get(`upsample:${k}`)),
    aspp: levels.map((k) => get(`aspp:${k}`)), decoder: { cell: get('decoder:cell'), stem: get('decoder:stem') },
  };
}
