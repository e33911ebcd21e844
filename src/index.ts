/**
 * autodeeplab as a library: the functions the `autodeeplab` command runs,
 * under the names a caller looks for (docs/api.md has an example of each).
 * Everything here is also reachable by its own module path; this file only
 * chooses and re-exports, so that the command line and the library stay one
 * code path.
 *
 * Importing it loads the native addon (build/autodeeplab.node) and libtorch.
 *
 * @example
 *   import { buildModel, countCost, AUTO_DEEPLAB_GENOTYPE } from 'autodeeplab';
 *   const model = buildModel({ genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 20, numClasses: 19 });
 *   console.log(countCost(model, 1024, 2048).multiAdds); // plain Multi-Adds, the paper's Table 2
 */

// Architectures: genotypes, their file, the search space.
export { Genotype, CellGenotype, BlockGenotype, BlockBranch, Level, STRIDES, AUTO_DEEPLAB_GENOTYPE, cellOfLayer } from './arch/genotype';
export { loadGenotype, readGenotypeFile, writeGenotypeFile, validateGenotype, GenotypeError, GENOTYPE_SCHEMA_ID } from './arch/genotype_file';
export { PRIMITIVES, CELL_OPS, OP_TABLE, CellOpName } from './arch/primitives';
export { NetworkTrellis } from './arch/trellis';
export { sampleGenotype } from './arch/random';

// Search (Sec. 4) and decoding (Sec. 3.3).
export { runSearch, SearchRunOptions, SearchResult, IterationReport } from './search/run_search';
export { resolveSearchConfig, SearchConfig, DEFAULT_SEARCH_CONFIG } from './search/search_config';
export { decodeCell, decodeCells, viterbiDecode } from './search/decode';
export { Supernet } from './search/supernet';

// Search under a budget (Multi-Adds or a measured latency table).
export { BudgetSettings, budgetConstraint, DEFAULT_BUDGET } from './budget/search_budget';
export { SearchConstraint, ArchConstraint } from './search/constraint';
export { decodeWithinBudget } from './budget/constrained_decode';
export { MultiAddsTable, CostTable, genotypeCost } from './budget/cost_table';
export { LatencyTable, validateLatencyTable } from './budget/latency_table';
export { tableMargin } from './budget/budget_margin';

// Models: build from a preset or a genotype, count their cost, save and load.
export { buildModel, modelConfig, BuildOptions, PRESETS, PresetName } from './model/presets';
export { AutoDeepLab, ModelConfig } from './model/network';
export { countCost, ModelCost, PartCost } from './model/cost';
export { saveModel, loadModel, SavedModel } from './model/saved';

// Training (Sec. 5.2) and evaluation.
export { runTraining, TrainRunOptions, TrainResult } from './train/trainer';
export { resolveTrainConfig, TrainConfig, DEFAULT_TRAIN_CONFIG } from './train/train_config';
export { evaluateDataset, EvaluationResult, Predictor, InferenceOptions } from './eval/evaluate';

// Datasets.
export { openDataset, DATASETS, DatasetName, DatasetOptions } from './data/registry';
export { SegmentationDataset, Sample, IGNORE_INDEX } from './data/dataset';
export { BUILTIN_CLASSES } from './data/builtin';

// Export for deployment.
export { exportOnnx } from './deploy/onnx';

// The tensor engine, for callers that feed images themselves.
export * as engine from './engine';
