/**
 * The search bench's workload, shared by its timing worker and the profile
 * suite: the paper's supernet (F=8, B=5, L=12, 19 classes) at batch 2 on
 * random data, one iteration = weight step (trainA) + architecture step (trainB).
 */
import * as T from '../src/engine';
import { archStep, weightStep } from '../src/search/architect';
import { DEFAULT_SEARCH_CONFIG, SearchConfig } from '../src/search/search_config';
import { Supernet } from '../src/search/supernet';
import { referenceSupernet } from '../src/search/reference/reference_network';

export interface SearchWorkload {
  net: Supernet;
  config: SearchConfig;
  /** One search iteration (weight step + architecture step); returns nothing, frees its tensors. */
  iteration(): void;
}

/** mode: recompute | keep | plain (the op-by-op reference cells); tiny: L=2, B=2, F=2 (to check that it runs). */
export function searchWorkload(crop: number, mode: string, untiedCells = false, tiny = false): SearchWorkload {
  T.manualSeed(0);
  const recompute = mode === 'recompute';
  // Built without resolveSearchConfig: crop 32 (1x1 maps at stride 32) is measured for comparison with the peer.
  const config = { ...DEFAULT_SEARCH_CONFIG, numClasses: 19, untiedCells, ...(tiny ? { layers: 2, blocks: 2, filterMultiplier: 2 } : {}) };
  const net = mode === 'plain' ? referenceSupernet(config, { recompute }) : new Supernet(config, { recompute });
  const wOpt = new T.SGD(net.weights.parameters(), { lr: 0.025, momentum: 0.9, weightDecay: 3e-4 });
  const aOpt = new T.Adam(net.archParameters(), { lr: 3e-3, weightDecay: 1e-3 });
  const batch = () => ({ images: T.randn([2, 3, crop, crop]), labels: T.randint(0, 19, [2, crop, crop]) });
  return {
    net,
    config,
    iteration: () => {
      T.tidy(() => weightStep(net, wOpt, batch(), 0));
      T.tidy(() => archStep(net, aOpt, batch()));
      T.synchronize(); // queued GPU work counts (a no-op on the CPU)
    },
  };
}
