/**
 * Calibrating a latency table against whole networks. Each part is timed on
 * its own; inside a network the same kernels meet other caches, and
 * onnxruntime puts layout reorders where its own rules say. What remains after
 * counting each part as inside a network (ort_profile.ts) is mostly one
 * factor common to every architecture (docs/budget.md#latency-tables). So the table times a few uniformly drawn
 * 12-layer networks end to end and scales every entry by the ratio of their
 * summed measured to summed predicted times (of as many layers as the
 * search will have: 12 by default). The calibration networks are
 * drawn from seeds of their own (CALIBRATION_SEED + i), so that a check on
 * other architectures (latency-table --check, drawn from seeds 1..n) is not
 * a check on the networks the factor was fitted to.
 */
import { genotypeCost } from '../budget/cost_table';
import { Genotype } from '../arch/genotype';
import { LatencyTable, LatencyTableData, scaleTable } from '../budget/latency_table';
import { sampleGenotype } from '../arch/random';
import { buildModel } from '../model/presets';
import { Rng } from '../util/random';
import { Clock, RuntimeName, timePart } from './part_timing';

export const CALIBRATION_SEED = 1000;

/** Timed samples per network or part, the median kept: latency-table --repeats' default, and what search --verify-latency takes. */
export const DEFAULT_REPEATS = 5;

/** Milliseconds of one run of the whole network `train` builds from g, in the table's runtime, threads and clock. */
export async function timeNetwork(g: Genotype, table: LatencyTableData, repeats: number): Promise<number> {
  const { shape } = table;
  const model = buildModel({ genotype: g, filterMultiplier: shape.filterMultiplier, numClasses: shape.numClasses });
  try {
    return await timePart({ key: 'network', input: [1, 3, shape.size[0], shape.size[1]], forward: (x) => model.forward(x, false) },
      table.runtime as RuntimeName, table.threads, repeats, table.clock as Clock);
  } finally {
    model.weights.dispose();
  }
}

/** The table scaled by measured / predicted over `networks` calibration networks of `layers` layers. onNetwork: progress. */
export async function calibrateTable(data: LatencyTableData, networks: number, repeats: number, layers = 12,
  onNetwork?: (i: number, predicted: number, measured: number) => void): Promise<LatencyTableData> {
  const table = new LatencyTable(data);
  let [predicted, measured] = [0, 0];
  for (let i = 0; i < networks; i++) {
    const g = sampleGenotype(new Rng(CALIBRATION_SEED + i), { layers, blocks: data.shape.blocks });
    const [p, m] = [genotypeCost(table, g), await timeNetwork(g, data, repeats)];
    onNetwork?.(i, p, m);
    predicted += p;
    measured += m;
  }
  return scaleTable(data, measured / predicted, networks);
}
