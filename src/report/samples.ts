/**
 * Sample predictions of a run beside their ground truth, with a legend of the
 * classes they show. The data is found from the run directory alone:
 * config.json records the dataset and, for one on disk, its folder
 * (`dataRoot`); `--data-root` overrides it. Where the data cannot be found the
 * report says so and leaves the predictions out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { openDataset } from '../data/registry';
import { SegmentationDataset } from '../data/dataset';
import { RunRecord } from '../run/run_dir';
import { runPredictor } from '../eval/run_predictor';
import { BadInputError } from '../util/errors';
import { esc } from './svg';

/** Width of each picture in the page. */
const SHOWN_WIDTH = 200;

/** PNG data URI of an RGB image, at most SHOWN_WIDTH wide (labels resized nearest, so colours stay class colours). */
async function pngUri(width: number, height: number, rgb: Uint8Array): Promise<string> {
  const img = sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } });
  const png = await (width > SHOWN_WIDTH ? img.resize({ width: SHOWN_WIDTH, kernel: 'nearest' }) : img).png().toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

function colorize(labels: ArrayLike<number>, palette: readonly (readonly number[])[]): Uint8Array {
  const out = new Uint8Array(labels.length * 3);
  for (let p = 0; p < labels.length; p++) out.set(labels[p] === 255 ? [255, 255, 255] : palette[labels[p]] ?? [0, 0, 0], p * 3);
  return out;
}

/** The validation split of the run's dataset, or why it cannot be opened. `dataRoot`: the --data-root flag. */
export function sampleDataset(cfg: Record<string, unknown>, n: number, builtinImageSize: number, dataRoot?: string): SegmentationDataset | string {
  const name = (cfg.dataset as string | undefined) ?? 'builtin';
  if (name === 'builtin') return openDataset(name, { split: 'val', builtinSize: n, builtinImageSize });
  if (dataRoot !== undefined && !fs.existsSync(dataRoot)) throw new BadInputError(`--data-root: ${dataRoot} does not exist (expected the folder dataset '${name}' was unpacked to)`);
  const root = dataRoot ?? (cfg.dataRoot as string | undefined);
  if (!root) return `config.json records no folder for dataset '${name}' (a run from before runs recorded it); pass --data-root DIR to draw them.`;
  if (!fs.existsSync(root)) return `the data of dataset '${name}' is not at ${root}, where the run read it; pass --data-root DIR to draw them.`;
  try {
    return openDataset(name, { root, split: 'val' });
  } catch (e) {
    if (dataRoot !== undefined) throw e; // asked for by flag: a bad folder is the user's to fix (exit 2)
    return `dataset '${name}' could not be opened at ${root}: ${(e as Error).message}; pass --data-root DIR to draw them.`;
  }
}

/** The classes present in some label map, as swatches. */
function classLegend(ds: SegmentationDataset, present: Set<number>): string {
  const items = [...present].sort((a, b) => a - b).filter((k) => k < ds.numClasses).map((k) => {
    const [r, g, b] = ds.palette[k] ?? [0, 0, 0];
    return `<span><i style="background:rgb(${r},${g},${b})"></i>${esc(ds.classNames[k] ?? `class ${k}`)}</span>`;
  });
  if (present.has(255)) items.push('<span><i style="background:#fff"></i>ignored (no label)</span>');
  return `<div class="legend" aria-label="classes">${items.join('')}</div>`;
}

/** Up to n predictions beside their ground truth and a class legend, or a note saying why there are none ('' for no model). */
export async function predictionsSection(run: RunRecord, n: number, dataRoot?: string): Promise<string> {
  if (!run.config) return '';
  const cfg = run.config;
  const builtinImageSize = cfg.layers ? (cfg.crop as number) : 96; // the search's crop; a trained model takes any size
  const dataset = sampleDataset(cfg, n, builtinImageSize, dataRoot);
  if (typeof dataset === 'string') return `<p class="note">Sample predictions not drawn: ${esc(dataset)}</p>`;
  const model = runPredictor(run);
  if (!model) return '';
  const rows: string[] = [];
  const present = new Set<number>();
  try {
    for (let i = 0; i < Math.min(n, dataset.length); i++) {
      const s = await dataset.get(i);
      const pred = model.predictSample(s);
      for (const v of s.label) present.add(v);
      for (const v of pred) present.add(v);
      const [img, gt, pr] = await Promise.all([pngUri(s.width, s.height, s.image), pngUri(s.width, s.height, colorize(s.label, dataset.palette)),
        pngUri(s.width, s.height, colorize(pred, dataset.palette))]);
      rows.push(`<tr><td><img src="${img}" alt="image ${i}"></td><td><img src="${gt}" alt="ground truth ${i}"></td><td><img src="${pr}" alt="prediction ${i}"></td></tr>`);
    }
  } finally {
    model.dispose();
  }
  const where = cfg.dataset === 'builtin' || !cfg.dataset ? 'built-in scenes' : `dataset '${esc(cfg.dataset as string)}', val split`;
  return `<p class="note">The first ${rows.length} images of the ${where}; ${cfg.layers && !fs.existsSync(path.join(run.dir, 'model.safetensors')) ? 'the search\'s supernet at its last checkpoint' : 'the trained model'}.</p>` +
    `<div class="samples-wrap"><table class="samples"><tr><th>image</th><th>ground truth</th><th>prediction</th></tr>${rows.join('')}</table>${classLegend(dataset, present)}</div>`;
}
