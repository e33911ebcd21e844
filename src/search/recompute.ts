/**
 * Training loss and gradients with activations recomputed layer by layer
 * (gradient checkpointing), over any network cut into segments: a stem, L
 * layers that each read the two previous layers' states, and heads. A first
 * pass without a graph keeps only each node's output; then, from the heads
 * back to the stem, each segment is run again with a graph and
 * back-propagated at once. Peak memory holds one layer's activations instead
 * of all of them, for one more forward pass. Batch-norm running statistics
 * count the first pass only (the recomputed passes run with updateStats off).
 */
import * as T from '../engine';
import type { Pass } from './cell_family';

/** Node outputs of one layer, by level. */
export type States = Map<number, T.Tensor>;

/** What every layer of one forward pass reads. */
export interface LayerContext {
  sizes: number[];
  /** The cells' view of softmax(alpha) (CellFamily.mix), per layer (the same object for every layer when alpha is shared). */
  mix: unknown[];
  /** softmax(beta), flattened. */
  betaFlat: T.Tensor;
  pass: Pass;
}

/** Indices into the network's parameter list of the weights each segment owns. */
export interface Segments {
  stem: number[];
  layers: number[][];
  head: number[];
}

/** A network in segments: states[0] holds the stem's outputs (any levels), states[l + 1] layer l's. */
export interface SegmentedNetwork {
  readonly segments: Segments;
  inputSize(images: T.Tensor): number;
  context(size: number, pass: Pass): LayerContext;
  stem(images: T.Tensor, pass: Pass): States;
  layer(l: number, states: States[], ctx: LayerContext): States;
  heads(last: States, H: number, W: number, pass: Pass): T.Tensor;
}

const COUNT: Pass = { training: true, updateStats: true };
const RECOUNT: Pass = { training: true, updateStats: false };

/**
 * Gradients accumulate into .grad of whatever requires grad (weights in a
 * weight step, alpha and beta in an architecture step). onSegment(indices) is
 * called when the gradients of that segment's weights are complete, so that
 * a caller may update and free them at once. Returns the loss.
 */
export function recomputedLossAndGrad(net: SegmentedNetwork, images: T.Tensor, loss: (logits: T.Tensor) => T.Tensor,
  onSegment?: (indices: number[]) => void): number {
  const H = net.inputSize(images);
  const L = net.segments.layers.length;
  // 1. Forward without a graph: node outputs only.
  const states: States[] = T.noGrad(() => T.tidy(() => {
    const ctx = net.context(H, COUNT);
    const s: States[] = [net.stem(images, COUNT)];
    for (let l = 0; l < L; l++) s.push(net.layer(l, s, ctx));
    return s;
  }));
  const grads: States[] = states.map(() => new Map());
  const addGrad = (i: number, k: number, g: T.Tensor | null) => {
    if (!g) return;
    const old = grads[i].get(k);
    grads[i].set(k, old ? T.add(old, g) : g);
    old?.dispose();
  };
  /** Leaf copies of the states a segment reads, to collect their gradients. */
  const leavesOf = (indices: number[]) => indices.map((i) => new Map([...states[i]].map(([k, t]) => [k, T.detach(t).setRequiresGrad(true)])));
  let value = 0;
  // 2. Heads: the loss, d loss / d (last layer's states).
  T.tidy(() => {
    const [last] = leavesOf([L]);
    const l = loss(net.heads(last, H, H, COUNT));
    value = l.item();
    T.backward(l);
    for (const [k, t] of last) addGrad(L, k, t.grad);
    return [...grads[L].values()];
  });
  onSegment?.(net.segments.head);
  // 3. Layers, last to first, each recomputed with a graph and back-propagated.
  for (let l = L - 1; l >= 0; l--) {
    T.tidy(() => {
      const reads = l === 0 ? [0] : [l - 1, l];
      const leaves = leavesOf(reads);
      const local: States[] = [];
      reads.forEach((i, j) => (local[i] = leaves[j]));
      const out = net.layer(l, local, net.context(H, RECOUNT));
      const ks = [...out.keys()].filter((k) => grads[l + 1].has(k) && out.get(k)!.requiresGrad);
      if (ks.length) T.backward(ks.map((k) => out.get(k)!), { grads: ks.map((k) => grads[l + 1].get(k)!) });
      reads.forEach((i, j) => leaves[j].forEach((t, k) => addGrad(i, k, t.grad)));
      grads[l + 1].forEach((g) => g.dispose());
      grads[l + 1].clear();
      return reads.map((i) => [...grads[i].values()]);
    });
    onSegment?.(net.segments.layers[l]);
  }
  // 4. The stem (every output that a layer read).
  T.tidy(() => {
    const stem = net.stem(images, RECOUNT);
    // Not in an architecture step: nothing before the cells depends on alpha, beta.
    const ks = [...grads[0].keys()].filter((k) => stem.get(k)!.requiresGrad);
    if (ks.length) T.backward(ks.map((k) => stem.get(k)!), { grads: ks.map((k) => grads[0].get(k)!) });
  });
  onSegment?.(net.segments.stem);
  T.dispose([grads.map((m) => [...m.values()]), states.map((m) => [...m.values()])]);
  return value;
}
