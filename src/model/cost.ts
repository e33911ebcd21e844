/**
 * Parameters and Multi-Adds of a built network, by part (stem, cells, ASPP,
 * decoder), at any input size. Multi-Adds are a plain count of convolution
 * multiply-accumulates, recorded from a forward pass over a batch of zero
 * images: libtorch computes every shape and no arithmetic.
 */
import * as T from '../engine';
import { AutoDeepLab } from './network';

export interface PartCost {
  params: number;
  multiAdds: number;
}

export interface ModelCost extends PartCost {
  height: number;
  width: number;
  parts: Record<string, PartCost>;
}

/** Part of a parameter name: 'stem', 'cells', 'aspp', 'decoder'. */
const partOf = (name: string) => name.split('.')[0];

export function countCost(model: AutoDeepLab, height: number, width: number): ModelCost {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 16 || width < 16) {
    throw new RangeError(`cost: size must be at least 16x16 pixels, got ${height}x${width}`);
  }
  const parts: Record<string, PartCost> = {};
  const part = (name: string) => (parts[partOf(name)] ??= { params: 0, multiAdds: 0 });
  const nameOf = new Map<number, string>();
  for (const [name, p] of model.weights.namedParameters()) {
    nameOf.set(p.id, name);
    part(name).params += p.size;
  }
  T.noGrad(() => T.tidy(() => T.observeConvolutions((r) => {
    const [cout, cinPerGroup, kh, kw] = r.weight.shape;
    part(nameOf.get(r.weight.id) ?? 'other').multiAdds += r.output[2] * r.output[3] * cout * cinPerGroup * kh * kw;
  }, () => model.forward(T.zeros([0, 3, height, width]), false))));
  const total = Object.values(parts).reduce((s, p) => ({ params: s.params + p.params, multiAdds: s.multiAdds + p.multiAdds }), { params: 0, multiAdds: 0 });
  return { ...total, height, width, parts };
}
