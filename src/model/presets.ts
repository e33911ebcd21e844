/** The released architectures (the paper's Table 2) and model construction from presets or genotype files. */
import { AUTO_DEEPLAB_GENOTYPE, Genotype } from '../arch/genotype';
import { AutoDeepLab, defaultLowLevelCell, ModelConfig, RELEASED_BN } from './network';
import { BadInputError } from '../util/errors';

export const PRESETS = {
  'autodeeplab-s': { filterMultiplier: 20 },
  'autodeeplab-m': { filterMultiplier: 32 },
  'autodeeplab-l': { filterMultiplier: 48 },
} as const;
export type PresetName = keyof typeof PRESETS;

export function isPreset(name: string): name is PresetName {
  return name in PRESETS;
}

export interface BuildOptions {
  arch?: string;
  genotype?: Genotype;
  filterMultiplier?: number;
  numClasses: number;
  bn?: ModelConfig['bn'];
  dropPathKeep?: number;
}

/** A model from a preset name or a genotype (F from the preset, else given, else 20). */
export function modelConfig(o: BuildOptions): ModelConfig {
  if (o.arch && o.genotype) throw new Error('model: give either a preset (--arch) or a genotype (--genotype), not both');
  if (o.arch && !isPreset(o.arch)) throw new BadInputError(`--arch: unknown preset '${o.arch}'; choose one of ${Object.keys(PRESETS).join(', ')}`);
  const genotype = o.genotype ?? AUTO_DEEPLAB_GENOTYPE;
  const F = o.arch ? PRESETS[o.arch as PresetName].filterMultiplier : o.filterMultiplier ?? 20;
  return {
    genotype, filterMultiplier: F, numClasses: o.numClasses, bn: o.bn ?? RELEASED_BN,
    dropPathKeep: o.dropPathKeep ?? 1, lowLevelCell: defaultLowLevelCell(genotype.path),
  };
}

export function buildModel(o: BuildOptions): AutoDeepLab {
  return new AutoDeepLab(modelConfig(o));
}
