/**
 * `autodeeplab report RUN_DIR`: a static HTML page (no scripts) for a search
 * or training run: loss and mIoU curves, alpha and beta as heatmaps over
 * epochs, the genotype diagrams, and sample predictions beside ground truth.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import * as T from '../engine';
import { openDataset } from '../data/registry';
import { normalizeImage } from '../data/pipeline';
import { SegmentationDataset } from '../data/dataset';
import { distinctCells, Genotype, validateGenotype } from '../arch/genotype';
import { cellInputsOf } from '../arch/topology';
import { PRIMITIVES, ZERO } from '../arch/primitives';
import { Supernet } from '../search/supernet';
import { SearchConfig } from '../search/config';
import { readRunDir, RunRecord } from '../run/run_dir';
import { restoreSearchState } from '../search/search';
import { writeFileAtomic } from '../util/files';
import { loadModel } from '../model/saved';
import { cellSvg, trellisSvg } from './diagrams';
import { alphaRows } from '../search/decode';
import { esc, heatmap, lineChart } from './svg';
import { isTrialsFolder, readTrials, trialsSections } from './trials';
import { comparisonSections, isComparisonFolder, readComparison } from './comparison';
import { budgetSections } from './budget';
import { isSweepFolder, sweepSections, tradeoffSections } from './tradeoff';

/** alpha: [edge][op], or [layer][edge][op] for a search with alpha per layer. */
interface EpochGenotype { epoch: number; search: { alpha: number[][] | number[][][]; beta: number[][][] } }

function readJson<T>(file: string): T | null {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : null;
}

function edgeNames(blocks: number): string[] {
  return Array.from({ length: blocks }, (_, i) => cellInputsOf(i).map((inp) => `b${i} <- ${inp}`)).flat();
}

/** PNG data URI of an RGB image. */
async function pngUri(width: number, height: number, rgb: Uint8Array): Promise<string> {
  const png = await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

function colorize(labels: ArrayLike<number>, palette: readonly (readonly number[])[]): Uint8Array {
  const out = new Uint8Array(labels.length * 3);
  for (let p = 0; p < labels.length; p++) {
    const c = labels[p] === 255 ? [255, 255, 255] : palette[labels[p]] ?? [0, 0, 0];
    out.set(c, p * 3);
  }
  return out;
}

/** Up to n predictions beside their ground truth, from the run's own model (trained model, else the search's supernet). */
async function predictions(run: RunRecord, n: number): Promise<string> {
  const cfg = run.config;
  if (!cfg) return '';
  let predict: ((x: T.Tensor) => T.Tensor) | null = null;
  let dataset: SegmentationDataset;
  let dispose = () => {};
  if (fs.existsSync(path.join(run.dir, 'model.safetensors'))) {
    const { model } = loadModel(path.join(run.dir, 'model.safetensors'));
    predict = (x) => model.forward(x, false);
    dispose = () => model.weights.dispose();
    dataset = openDataset((cfg.dataset as string) ?? 'builtin', { split: 'val', builtinSize: n, builtinImageSize: 96 });
  } else if (run.checkpointFile && cfg.layers) {
    const sc = cfg as unknown as SearchConfig & { dataset: string };
    const net = new Supernet(sc);
    T.tidy(() => restoreSearchState(net, run.loadCheckpoint('search'), run.checkpointFile!));
    // The supernet takes square crops: predict on scenes of the search's crop size.
    predict = (x) => net.forward(x, false);
    dispose = () => net.dispose();
    dataset = openDataset(sc.dataset ?? 'builtin', { split: 'val', builtinSize: n, builtinImageSize: sc.crop });
  } else return '';
  if (dataset.name !== 'builtin') {
    dispose();
    return '<p>Sample predictions are drawn for the built-in dataset only.</p>';
  }
  const rows: string[] = [];
  for (let i = 0; i < Math.min(n, dataset.length); i++) {
    const s = await dataset.get(i);
    const pred = T.noGrad(() => T.tidy(() => T.argmax(predict!(T.tensor(normalizeImage(s), [1, 3, s.height, s.width])), 1).toArray()));
    const [img, gt, pr] = await Promise.all([
      pngUri(s.width, s.height, s.image), pngUri(s.width, s.height, colorize(s.label, dataset.palette)), pngUri(s.width, s.height, colorize(pred, dataset.palette)),
    ]);
    rows.push(`<tr><td><img src="${img}"></td><td><img src="${gt}"></td><td><img src="${pr}"></td></tr>`);
  }
  dispose();
  return `<table class="samples"><tr><th>image</th><th>ground truth</th><th>prediction</th></tr>${rows.join('')}</table>`;
}

/** The page around a report's sections. */
function page(runDir: string, heading: string, sections: string[], extra = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>autodeeplab report: ${esc(path.basename(path.resolve(runDir)))}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222}svg{display:block;margin:12px 0}
table.samples img{width:160px;image-rendering:pixelated}pre{background:#f4f4f4;padding:8px;font-size:12px}
td{vertical-align:top;padding:2px 8px}</style></head>
<body><h1>${heading}: ${esc(path.resolve(runDir))}</h1>
${extra}${sections.join('\n')}
</body></html>
`;
}

/** A run directory's report, or a trials folder's (trial-<seed>/ runs, Fig. 4), a sweep's (budget-<B>/trial-<seed>/), or a searched-vs-random comparison's. */
export async function buildReport(runDir: string): Promise<string> {
  if (isComparisonFolder(runDir)) return page(runDir, 'autodeeplab searched vs random', comparisonSections(readComparison(runDir)));
  if (isSweepFolder(runDir)) return page(runDir, 'autodeeplab cost / accuracy sweep', sweepSections(runDir));
  if (isTrialsFolder(runDir)) return page(runDir, 'autodeeplab search trials', [...trialsSections(readTrials(runDir)), ...tradeoffSections(runDir)]);
  const run = readRunDir(runDir);
  const metrics = run.metrics;
  const its = metrics.filter((r) => r.type === 'iteration');
  const epochs = metrics.filter((r) => r.type === 'epoch');
  const vals = metrics.filter((r) => r.type === 'validation');
  const cfg = run.config ?? {};
  const sections: string[] = [];
  sections.push(`<h2>Training curves</h2>`, lineChart('loss per iteration', 'iteration', [
    { name: 'weights (trainA)', color: '#1f77b4', points: its.map((r) => [r.iteration as number, r.loss as number]) },
    { name: 'architecture (trainB)', color: '#d62728', points: its.filter((r) => typeof r.archLoss === 'number').map((r) => [r.iteration as number, r.archLoss as number]) },
  ]));
  if (epochs.length) {
    sections.push(lineChart('mIoU and pixel accuracy on trainB per epoch', 'epoch', [
      { name: 'mIoU', color: '#2ca02c', points: epochs.map((r) => [(r.epoch as number) + 1, r.mIoU as number]) },
      { name: 'pixel accuracy', color: '#9467bd', points: epochs.map((r) => [(r.epoch as number) + 1, r.pixelAccuracy as number]) },
    ]), lineChart('loss on trainB per epoch', 'epoch', [
      { name: 'loss', color: '#ff7f0e', points: epochs.map((r) => [(r.epoch as number) + 1, r.valLoss as number]) },
    ]));
  }
  sections.push(budgetSections(epochs, cfg));
  if (vals.length) {
    sections.push(lineChart('validation mIoU', 'iteration', [{ name: 'mIoU', color: '#2ca02c', points: vals.map((r) => [r.iteration as number, r.mIoU as number]) }]));
  }
  // Architecture: the genotype and how alpha and beta evolved.
  const genotypeRaw = readJson<unknown>(path.join(runDir, 'genotype.json')) ?? (cfg.model as { genotype?: unknown } | undefined)?.genotype;
  if (genotypeRaw) {
    const g: Genotype = validateGenotype(genotypeRaw, path.join(runDir, 'genotype.json'));
    const last = (genotypeRaw as Partial<EpochGenotype>).search;
    const cells = distinctCells(g);
    sections.push('<h2>Architecture</h2>', trellisSvg(g, last?.beta),
      ...cells.map((c) => cellSvg(c.cell, cells.length === 1 ? 'cell' : `cell of layers ${c.layers.map((l) => l + 1).join(', ')}`)));
    // Edge names of the alpha rows: one cell's, or every layer's in turn (alpha per layer).
    const B = cells[0].cell.blocks.length;
    const names = g.cells ? g.path.flatMap((_, l) => edgeNames(B).map((n) => `L${l + 1} ${n}`)) : edgeNames(B);
    const dir = path.join(runDir, 'genotypes');
    const history = fs.existsSync(dir)
      ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as EpochGenotype)
      : [];
    if (last) {
      sections.push(heatmap('alpha (softmax) at the last epoch: edge x op', alphaRows(last.alpha), names, [...PRIMITIVES]));
    }
    if (history.length) {
      const strongest = (row: number[]) => Math.max(...row.filter((_, k) => k !== ZERO));
      const rows = history.map((h) => alphaRows(h.search.alpha));
      const strength = rows[0].map((_, e) => rows.map((r) => strongest(r[e])));
      sections.push(heatmap('alpha over epochs: weight of each edge\'s strongest non-zero op', strength.map((r) => r.map((v) => v * 2)),
        names, history.map((h) => `epoch ${h.epoch + 1}`)));
      const nodes: string[] = [];
      const betaRows: number[][] = [];
      history[0].search.beta.forEach((layer, l) => layer.forEach((row, k) => {
        if (!row.some((v) => v > 0)) return;
        nodes.push(`${l === 0 ? 'stem' : `L${l}`} s${4 * 2 ** k}`);
        betaRows.push(history.map((h) => Math.max(...h.search.beta[l][k])));
      }));
      sections.push(heatmap('beta over epochs: each node\'s strongest outgoing arrow', betaRows, nodes, history.map((h) => `epoch ${h.epoch + 1}`)));
    }
  }
  const samples = await predictions(run, 3);
  if (samples) sections.push('<h2>Sample predictions</h2>', samples);
  sections.push(`<h2>Configuration</h2><pre>${esc(JSON.stringify(cfg, null, 2))}</pre>`);
  return page(runDir, 'autodeeplab run', sections, `<p>${its.length} iterations${epochs.length ? `, ${epochs.length} epochs` : ''}.</p>\n`);
}

export async function writeReport(runDir: string, out = path.join(runDir, 'report.html')): Promise<string> {
  const html = await buildReport(runDir);
  writeFileAtomic(out, html);
  return out;
}
