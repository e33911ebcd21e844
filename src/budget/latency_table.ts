/**
 * A measured latency table (`autodeeplab latency-table`, src/deploy/latency.ts)
 * as a CostTable: every part of the retrained network timed once at the
 * nominal size of its level, in milliseconds, and scaled by the pixels of the
 * actual site (a revisited level is a few pixels smaller, cost_table.ts).
 * Plain, validated JSON data, so that the expected cost and the constrained
 * decoder take it in place of the Multi-Adds table.
 */
import { BadInputError } from '../util/errors';
import { CostTable, NetworkShape, Size, STEM_CHANNELS, STEM_MID, STEM_OUT } from './cost_table';
import { CellOpName, PRIMITIVES } from '../arch/primitives';
import { levelSizes } from '../arch/space';

export interface LatencyTableData {
  version: 1;
  unit: 'ms';
  /** libtorch (this project's engine), onnxruntime (onnxruntime-node, exported graphs) or web (onnxruntime-web's WASM in headless Chromium). */
  runtime: string;
  threads: number;
  /** What was timed: elapsed time, or CPU time (a busy machine's waits left out). */
  clock: 'wall' | 'cpu';
  shape: NetworkShape;
  /**
   * onnxruntime: each part but the stem is counted as inside a network: its
   * run inside onnxruntime but the layout reorders around an isolated graph,
   * read from onnxruntime's profiler (deploy/ort_profile.ts). Absent in
   * tables of earlier versions.
   */
  inGraph?: boolean;
  /**
   * Every entry was multiplied by `scale`: measured / predicted summed over
   * `networks` whole networks timed end to end (deploy/calibrate.ts).
   */
  calibration?: { networks: number; scale: number };
  /**
   * The table's error on whole networks, as `latency-table --check n` last
   * measured it (Auto-DeepLab's path and seeded random networks, timed end to
   * end against the table as it stands): what search --budget-ms derives its
   * margin from (budget_margin.ts). Absent in tables never checked; dropped
   * when the table is scaled again, since it no longer describes the entries.
   */
  check?: { networks: CheckedNetwork[] };
  /** [H, W] at which each level's parts were timed. */
  levelSizes: [number, number][];
  stem: number;
  /** [level][strided ? 1 : 0][op]: one branch, timed at the level's size (strided: from the finer level's). */
  ops: Record<CellOpName, number>[][];
  /** [level]: ReLU-1x1-BN into the level's filters, by input channels ("64", "128", "200", ...). */
  pre: Record<string, number>[];
  /** [level]: bilinear resize of h1 to the level's size, by its channels (when h1 sits elsewhere). */
  resize: Record<string, number>[];
  /** [level]: the block sums and the concatenation of a cell. */
  glue: number[];
  /** [level]: the bilinear x2 of a finer move into the level (h0 from level + 1). */
  upsample: number[];
  aspp: number[];
  decoder: { cell: number; stem: number };
}

export interface CheckedNetwork {
  name: string;
  predictedMs: number;
  measuredMs: number;
}

/** The channels of a cell input: the stem's two outputs, or B * F * 2^level. */
export function sourceChannels(shape: NetworkShape, source: number): number {
  if (source === STEM_MID) return STEM_CHANNELS[0];
  if (source === STEM_OUT) return STEM_CHANNELS[1];
  return shape.blocks * shape.filterMultiplier * 2 ** source;
}

/** Every input width a cell's preprocessing may see. */
export function tableChannels(shape: NetworkShape): number[] {
  return [...new Set([64, 128, ...[0, 1, 2, 3].map((j) => sourceChannels(shape, j))])];
}

/** The nominal [H, W] of each level for an input size (the stem halves twice, each level once more). */
export function nominalSizes(size: Size, levels = 4): [number, number][] {
  const [hs, ws] = [levelSizes(size[0], levels), levelSizes(size[1], levels)];
  return hs.map((h, k) => [h, ws[k]]);
}

/** Every time in the table multiplied by `scale` (a calibration over `networks` whole networks). */
export function scaleTable(d: LatencyTableData, scale: number, networks: number): LatencyTableData {
  const { check: _stale, ...timed } = d; // checked against the old entries
  const times = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v * scale]));
  return {
    ...timed, stem: d.stem * scale, ops: d.ops.map((byStride) => byStride.map((ops) => times(ops) as Record<CellOpName, number>)),
    pre: d.pre.map(times), resize: d.resize.map(times), glue: d.glue.map((v) => v * scale), upsample: d.upsample.map((v) => v * scale),
    aspp: d.aspp.map((v) => v * scale), decoder: { cell: d.decoder.cell * scale, stem: d.decoder.stem * scale },
    calibration: { networks, scale: (d.calibration?.scale ?? 1) * scale },
  };
}

export class LatencyTable implements CostTable {
  readonly unit = 'ms';
  readonly shape: NetworkShape;
  constructor(readonly data: LatencyTableData) {
    this.shape = data.shape;
  }

  /** ms measured at the level's nominal size, scaled to `size`. */
  private scaled(ms: number, level: number, [h, w]: Size): number {
    const [H, W] = this.data.levelSizes[level];
    return (ms * h * w) / (H * W);
  }

  stem(): number {
    return this.data.stem;
  }

  pre(source0: number, source1: number, level: number, inSize: Size): number {
    const C = this.shape.filterMultiplier * 2 ** level;
    const c1 = sourceChannels(this.shape, source1);
    const row = this.data.pre[level];
    // h1 is resized when it sits at another level (or is the stem's stride-2 output); detours of a pixel are not counted.
    const resized = source1 === STEM_MID || Math.max(0, source1) !== level ? this.data.resize[level][c1] : 0;
    const ms = row[sourceChannels(this.shape, source0)] + (c1 !== C ? row[c1] : 0) + resized;
    return this.scaled(ms + this.data.glue[level], level, inSize);
  }

  op(op: CellOpName, level: number, strided: boolean, outSize: Size): number {
    return this.scaled(this.data.ops[level][strided ? 1 : 0][op], level, outSize);
  }

  upsample(level: number, outSize: Size): number {
    return this.scaled(this.data.upsample[level], level, outSize);
  }

  aspp(level: number, size: Size): number {
    return this.scaled(this.data.aspp[level], level, size);
  }

  decoder(lowFromCell: boolean): number {
    return lowFromCell ? this.data.decoder.cell : this.data.decoder.stem;
  }
}

/** Checks a parsed latency-table file; errors name the file and the field. */
export function validateLatencyTable(data: unknown, file: string): LatencyTableData {
  const fail = (field: string, expected: string): never => {
    throw new BadInputError(`${file}: field '${field}' ${expected} (write the file with autodeeplab latency-table)`);
  };
  const d = data as LatencyTableData;
  if (typeof d !== 'object' || d === null || d.version !== 1 || d.unit !== 'ms') fail('version/unit', 'must be 1 / "ms"');
  const { shape } = d;
  if (!shape || !Array.isArray(shape.size) || ![shape.filterMultiplier, shape.blocks, shape.numClasses].every((v) => Number.isInteger(v) && v > 0)) {
    fail('shape', 'must give filterMultiplier, blocks, numClasses and size');
  }
  if (!['libtorch', 'onnxruntime', 'web'].includes(d.runtime)) fail('runtime', 'must be "libtorch", "onnxruntime" or "web"');
  if (d.clock !== 'cpu' && d.clock !== 'wall') fail('clock', 'must be "cpu" or "wall"');
  if (!Number.isInteger(d.threads) || d.threads < 1) fail('threads', 'must be an integer >= 1');
  if (d.inGraph !== undefined && typeof d.inGraph !== 'boolean') fail('inGraph', 'must be true or false');
  const c = d.calibration;
  if (c !== undefined && !(Number.isInteger(c?.networks) && c.networks >= 1 && typeof c.scale === 'number' && c.scale > 0 && Number.isFinite(c.scale))) {
    fail('calibration', 'must be {"networks": n >= 1, "scale": s > 0}');
  }
  const checked = d.check?.networks;
  if (d.check !== undefined && !(Array.isArray(checked) && checked.length > 0 && checked.every((n) => typeof n?.name === 'string' &&
    [n.predictedMs, n.measuredMs].every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)))) {
    fail('check', 'must be {"networks": [{"name", "predictedMs" > 0, "measuredMs" > 0}, ...]} (one or more)');
  }
  const ms = (v: unknown, field: string) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fail(field, 'must be a time in ms >= 0'));
  ms(d.stem, 'stem');
  ms(d.decoder?.cell, 'decoder.cell');
  ms(d.decoder?.stem, 'decoder.stem');
  for (let k = 0; k < 4; k++) {
    ms(d.aspp?.[k], `aspp[${k}]`);
    ms(d.glue?.[k], `glue[${k}]`);
    if (!Array.isArray(d.levelSizes?.[k])) fail(`levelSizes[${k}]`, 'must be [H, W]');
    for (const s of k === 0 ? [0] : [0, 1]) {
      for (const op of PRIMITIVES) if (op !== 'zero') ms(d.ops?.[k]?.[s]?.[op], `ops[${k}][${s}].${op}`);
    }
    if (k > 0) ms(d.upsample?.[k - 1], `upsample[${k - 1}]`);
    for (const c of tableChannels(shape)) {
      ms(d.pre?.[k]?.[c], `pre[${k}].${c}`);
      ms(d.resize?.[k]?.[c], `resize[${k}].${c}`);
    }
  }
  return d;
}
