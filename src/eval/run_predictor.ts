/**
 * Inference for reports: a run directory's own model as a predictor, without
 * an evaluation's settings. The trained model (model.safetensors) when there
 * is one, else the search's supernet at its checkpoint (predicting at the
 * search's square crop, as it was trained).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as T from '../engine';
import { Sample } from '../data/dataset';
import { loadModel } from '../model/saved';
import { RunRecord } from '../run/run_dir';
import { SearchConfig } from '../search/search_config';
import { restoreSearchState } from '../search/run_search';
import { Supernet } from '../search/supernet';
import { predictSample } from './evaluate';

/** Longest side, in pixels, that a trained model predicts at here (a thumbnail, not an evaluation). */
const MAX_SIDE = 256;

export interface RunPredictor {
  /** The label map of a sample (H * W), predicted at inputSize and resized back to the image. */
  predictSample(s: Sample): Int32Array;
  dispose(): void;
}

/** The run's own model as a predictor: the trained model, else the search's supernet at its checkpoint. */
export function runPredictor(run: RunRecord): RunPredictor | null {
  const at = (predict: (x: T.Tensor) => T.Tensor, crop: number | null, dispose: () => void): RunPredictor => ({
    predictSample: (s) => {
      const size = inputSize(s.height, s.width, crop);
      // Predicted at `size`, the logits resized back to the image (inferProbabilities).
      return predictSample((x) => predict(size[0] === s.height && size[1] === s.width ? x : T.resizeBilinear(x, size, true)), s, { scales: [1], flip: false });
    },
    dispose,
  });
  const cfg = run.config!;
  if (fs.existsSync(path.join(run.dir, 'model.safetensors'))) {
    const { model } = loadModel(path.join(run.dir, 'model.safetensors'));
    return at((x) => model.forward(x, false), null, () => model.weights.dispose());
  }
  if (!run.checkpointFile || !cfg.layers) return null;
  const sc = cfg as unknown as SearchConfig;
  const net = new Supernet(sc);
  T.tidy(() => restoreSearchState(net, run.loadCheckpoint('search'), run.checkpointFile!));
  return at((x) => net.forward(x, false), sc.crop, () => net.dispose());
}

/** The input size a sample is predicted at: the search's square crop, else the image scaled to at most MAX_SIDE. */
function inputSize(h: number, w: number, crop: number | null): [number, number] {
  if (crop) return [crop, crop];
  const f = Math.min(1, MAX_SIDE / Math.max(h, w));
  return [Math.max(16, Math.round(h * f)), Math.max(16, Math.round(w * f))];
}
