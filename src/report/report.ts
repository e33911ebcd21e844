/**
 * `autodeeplab report RUN_DIR`: one self-contained HTML page for a search or
 * training run: loss and mIoU curves, the cost budget, the genotype diagrams,
 * alpha and beta as heatmaps, sample predictions beside ground truth with a
 * class legend, and the configuration grouped by purpose. Also the pages of
 * a trials folder, a budget sweep and a searched-vs-random comparison.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Genotype } from '../arch/genotype';
import { validateGenotype } from '../arch/genotype_file';
import { readRunDir } from '../run/run_dir';
import { writeFileAtomic } from '../util/files';
import { architectureSections, EpochGenotype } from './architecture';
import { lineChart } from './charts';
import { configTable } from './config_table';
import { page } from './page';
import { predictionsSection } from './samples';
import { isTrialsFolder, readTrials, trialsSections } from './trials_report';
import { comparisonSections, isComparisonFolder, readComparison } from './comparison';
import { budgetSections } from './budget';
import { isSweepFolder, sweepSections, tradeoffSections } from './tradeoff';

export interface ReportOptions {
  /** The dataset folder for sample predictions (default: the one config.json records). */
  dataRoot?: string;
}

function readJson<T>(file: string): T | null {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : null;
}

/** A number of a metrics line (mIoU, accuracy: fractions) as a percentage. */
const pct = (v: unknown) => 100 * (v as number);

/** A run directory's report, or a trials folder's (trial-<seed>/ runs, Fig. 4), a sweep's (budget-<B>/trial-<seed>/), or a searched-vs-random comparison's. */
export async function buildReport(runDir: string, o: ReportOptions = {}): Promise<string> {
  if (isComparisonFolder(runDir)) return page(runDir, 'autodeeplab searched vs random', comparisonSections(readComparison(runDir)));
  if (isSweepFolder(runDir)) return page(runDir, 'autodeeplab cost / accuracy sweep', sweepSections(runDir));
  if (isTrialsFolder(runDir)) return page(runDir, 'autodeeplab search trials', [...trialsSections(readTrials(runDir)), ...tradeoffSections(runDir)]);
  const run = readRunDir(runDir);
  const metrics = run.metrics;
  const its = metrics.filter((r) => r.type === 'iteration');
  const epochs = metrics.filter((r) => r.type === 'epoch');
  const vals = metrics.filter((r) => r.type === 'validation');
  const cfg = run.config ?? {};
  const sections: string[] = ['<h2>Training curves</h2>', lineChart({ title: 'loss per iteration', x: 'iteration', y: 'cross-entropy loss', series: [
    { name: cfg.layers ? 'weights (trainA)' : 'training batches', color: '#1f77b4', points: its.map((r) => [r.iteration as number, r.loss as number]) },
    { name: 'architecture (trainB)', color: '#d62728', points: its.filter((r) => typeof r.archLoss === 'number').map((r) => [r.iteration as number, r.archLoss as number]) },
  ] })];
  if (epochs.length) {
    sections.push(lineChart({ title: 'mIoU and pixel accuracy on trainB per epoch', subtitle: 'the supernet, on the half of the training split that trains alpha and beta', x: 'epoch', y: 'percent', series: [
      { name: 'mIoU', color: '#2ca02c', points: epochs.map((r) => [(r.epoch as number) + 1, pct(r.mIoU)]) },
      { name: 'pixel accuracy', color: '#9467bd', points: epochs.map((r) => [(r.epoch as number) + 1, pct(r.pixelAccuracy)]) },
    ] }), lineChart({ title: 'loss on trainB per epoch', x: 'epoch', y: 'cross-entropy loss', series: [
      { name: 'loss', color: '#ff7f0e', points: epochs.map((r) => [(r.epoch as number) + 1, r.valLoss as number]) },
    ] }));
  }
  sections.push(budgetSections(epochs, cfg));
  if (vals.length) {
    sections.push(lineChart({ title: 'validation mIoU', x: 'iteration', y: 'mIoU (%)', series: [{ name: 'mIoU', color: '#2ca02c', points: vals.map((r) => [r.iteration as number, pct(r.mIoU)]) }] }));
  }
  const genotypeRaw = readJson<unknown>(path.join(runDir, 'genotype.json')) ?? (cfg.model as { genotype?: unknown } | undefined)?.genotype;
  if (genotypeRaw) {
    const g: Genotype = validateGenotype(genotypeRaw, path.join(runDir, 'genotype.json'));
    const dir = path.join(runDir, 'genotypes');
    const history = fs.existsSync(dir)
      ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as EpochGenotype)
      : [];
    sections.push(...architectureSections(g, (genotypeRaw as Partial<EpochGenotype>).search, history));
  }
  const samples = await predictionsSection(run, 3, o.dataRoot);
  if (samples) sections.push('<h2>Sample predictions</h2>', samples);
  sections.push('<h2>Configuration</h2>', configTable(cfg));
  return page(runDir, 'autodeeplab run', sections, `<p>${its.length} iterations${epochs.length ? `, ${epochs.length} epochs` : ''}.</p>\n`);
}

export async function writeReport(runDir: string, out = path.join(runDir, 'report.html'), o: ReportOptions = {}): Promise<string> {
  const html = await buildReport(runDir, o);
  writeFileAtomic(out, html);
  return out;
}
