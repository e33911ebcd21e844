/**
 * model.safetensors: the trained weights plus what rebuilds exactly that
 * network (genotype, F, classes, BN settings) and the class names and
 * colours. `loadModel` also reads a training checkpoint.
 */
import * as T from '../engine';
import { BadInputError } from '../util/errors';
import { SegmentationDataset } from '../data/dataset';
import { loadCheckpoint, saveCheckpoint, withPrefix } from '../run/checkpoint';
import { AutoDeepLab, ModelConfig } from './network';

export interface SavedModel {
  model: AutoDeepLab;
  classNames: string[];
  palette: [number, number, number][];
}

const MODEL_META = 'model';

/** Writes weights plus what rebuilds them (genotype, F, classes, BN settings, class names). */
export function saveModel(file: string, model: AutoDeepLab, dataset: SegmentationDataset): void {
  saveCheckpoint(file, {
    tensors: model.weights.stateDict(),
    meta: { kind: MODEL_META, config: model.cfg, classNames: dataset.classNames, palette: dataset.palette },
  });
}

/** Rebuilds a model from model.safetensors or a training checkpoint. */
export function loadModel(file: string): SavedModel {
  return T.tidy(() => {
    const ck = loadCheckpoint(file);
    const cfg = (ck.meta.kind === MODEL_META ? ck.meta.config : (ck.meta.model as ModelConfig | undefined)) as ModelConfig | undefined;
    if (!cfg) throw new BadInputError(`${file}: not a model or training checkpoint (kind ${String(ck.meta.kind)}${ck.meta.kind === 'search' ? ': retrain its genotype.json with train first' : ''})`);
    const model = new AutoDeepLab(cfg);
    model.weights.loadStateDict(ck.meta.kind === MODEL_META ? ck.tensors : withPrefix(ck.tensors, 'model.'), file);
    return { model, classNames: ck.meta.classNames as string[], palette: ck.meta.palette as [number, number, number][] };
  });
}
