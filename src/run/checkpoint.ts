/**
 * Checkpoints: one safetensors file of named tensors plus a JSON metadata
 * entry, written atomically (a killed run leaves the previous checkpoint
 * intact). Loading names the file and the problem on any mismatch.
 */
import * as fs from 'node:fs';
import * as T from '../engine';
import { BadInputError } from '../util/errors';

export interface Checkpoint {
  tensors: Record<string, T.Tensor>;
  meta: Record<string, unknown>;
}

const META_KEY = 'autodeeplab';

export function saveCheckpoint(file: string, ck: Checkpoint): void {
  T.saveSafetensors(file, ck.tensors, { [META_KEY]: JSON.stringify(ck.meta) });
}

/** Reads a checkpoint; a missing, empty, truncated or foreign file is bad input (exit 2) naming the file. */
export function loadCheckpoint(file: string): Checkpoint {
  if (!fs.existsSync(file)) throw new BadInputError(`${file}: no such checkpoint`);
  if (fs.statSync(file).isDirectory()) throw new BadInputError(`${file}: is a directory; expected a .safetensors file (model.safetensors or checkpoint.safetensors of a run)`);
  let st: { tensors: Record<string, T.Tensor>; metadata: Record<string, string> };
  try {
    st = T.loadSafetensors(file);
  } catch (e) {
    const why = (e as Error).message.replace(`${file}: `, '');
    throw new BadInputError(`${file}: not a readable safetensors checkpoint (${why})`);
  }
  const { tensors, metadata } = st;
  const raw = metadata[META_KEY];
  if (raw === undefined) throw new BadInputError(`${file}: not an autodeeplab checkpoint (no '${META_KEY}' metadata)`);
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(raw) as Record<string, unknown>;
  } catch (e) {
    throw new BadInputError(`${file}: checkpoint metadata is not valid JSON (${(e as Error).message})`);
  }
  return { tensors, meta };
}

/** Tensors whose names start with prefix, with the prefix removed. */
export function withPrefix(tensors: Record<string, T.Tensor>, prefix: string): Record<string, T.Tensor> {
  return Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
}

export function prefixed(tensors: Record<string, T.Tensor>, prefix: string): Record<string, T.Tensor> {
  return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [prefix + k, t]));
}
