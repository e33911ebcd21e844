/**
 * A constraint on the searched architecture, plugged into the search from
 * outside its core: it adds the gradient of a penalty to the architecture
 * step and decodes in place of the plain decode (decode.ts). The budget
 * (src/budget/) is the one there is; the core never imports it.
 */
import { Genotype } from '../arch/genotype';
import { SearchSpaceConfig } from './search_config';
import { Supernet } from './supernet';

/**
 * Where config.json, the checkpoint, metrics.jsonl and genotype.json record a
 * constraint's settings and state. A resume with other settings, or without
 * the constraint a checkpoint was written with, is refused.
 */
export const CONSTRAINT_RECORD = 'budget';

/** A constraint attached to one supernet. */
export interface ArchConstraint {
  /** Adds d penalty / d (alpha, beta) to their .grad (after the loss's gradient, before the step); returns the penalty. */
  addPenaltyGrad(net: Supernet): number;
  /** The architecture decoded under the constraint, and the state each epoch records. */
  decode(net: Supernet): { genotype: Genotype; state: object };
}

export interface SearchConstraint {
  /** The settings as config.json records them. */
  readonly settings: object;
  /** The part of them a resumed search must match (and the checkpoint records). */
  readonly resumable: object;
  /** Attaches it to this search's supernet (before the first step); may refuse, e.g. a budget nothing fits. */
  attach(cfg: SearchSpaceConfig, net: Supernet): ArchConstraint;
}
