/**
 * `autodeeplab predict`: class maps for a folder of images or a split of a
 * benchmark, as colours and overlays or in a benchmark's submission format
 * (src/eval/submission.ts; docs/submission.md).
 */
import { Command, Option } from 'commander';
import * as os from 'node:os';
import * as T from '../engine';
import { listImages, readRgb } from '../data/image_io';
import { IMAGE_SPLIT_DATASETS, splitImages } from '../data/registry';
import { predictSample, Predictor } from '../eval/evaluate';
import { checkFormatClasses, PREDICT_FORMATS, PredictFormat, predictionFiles, writePrediction } from '../eval/submission';
import { loadModel } from '../model/saved';
import { BadInputError, WriteError } from '../util/errors';
import { unitInterval } from './options';
import { addInferenceOptions, addRunOptions } from './option_groups';
import { useDevice } from '../run/device';
import { progress } from './progress';
import { checkOutputPath } from '../util/files';

interface PredictFlags {
  checkpoint: string; scales: number[]; flip?: boolean; input?: string; dataset?: (typeof IMAGE_SPLIT_DATASETS)[number]; dataRoot?: string; split?: string;
  format: PredictFormat; out: string; opacity: number; skipBad?: boolean; device: string; threads?: number;
}

/** The images to segment: --input's, or those of --dataset's --split under --data-root. */
function inputImages(o: PredictFlags): string[] {
  if ((o.input === undefined) === (o.dataset === undefined)) {
    throw new BadInputError(`predict: give ${o.input === undefined ? 'either' : 'only one of'} --input (an image or a folder) or --dataset with --data-root and --split (a benchmark's split)`);
  }
  if (o.input !== undefined) {
    const stray = o.dataRoot !== undefined ? '--data-root' : o.split !== undefined ? '--split' : null;
    if (stray) throw new BadInputError(`${stray}: goes with --dataset, not with --input`);
    return listImages(o.input);
  }
  if (o.dataRoot === undefined) throw new BadInputError(`--data-root: --dataset ${o.dataset} needs the folder it was unpacked to`);
  const split = o.split ?? 'val';
  try {
    return splitImages(o.dataset!, o.dataRoot, split).map((s) => s.image);
  } catch (e) {
    if (e instanceof BadInputError) throw new BadInputError(`--dataset ${o.dataset} --data-root ${o.dataRoot} --split ${split}: ${e.message}`);
    throw e;
  }
}

/** Segments one image file and writes its prediction files, each complete or not at all. */
async function predictFile(file: string, outputs: string[], predict: Predictor, palette: readonly (readonly number[])[], o: PredictFlags): Promise<void> {
  const image = await readRgb(file);
  const sample = { id: file, width: image.width, height: image.height, image: image.data, label: new Uint8Array(0) }; // no label: predictSample reads the image only
  const classes = predictSample(predict, sample, { scales: o.scales, flip: !!o.flip });
  await writePrediction(o.format, outputs, { image, classes, palette, opacity: o.opacity });
}

export function predictCommand(): Command {
  const cmd = new Command('predict')
    .description('segment images: class colours and overlays (NAME_labels.png, NAME_overlay.png) or a benchmark\'s submission format')
    .requiredOption('--checkpoint <file>', 'model.safetensors or checkpoint.safetensors from train')
    .option('--input <path>', 'an image or a folder of images')
    .addOption(new Option('--dataset <name>', 'instead of --input: the images of a split of this benchmark').choices(IMAGE_SPLIT_DATASETS))
    .option('--data-root <dir>', 'with --dataset: the folder it was unpacked to (official layout, see README)')
    .option('--split <name>', 'with --dataset: train, val or test (default: val)')
    .addOption(new Option('--format <name>', 'colours, or a submission format: cityscapes (label ids), voc (palette PNGs), ade20k (index + 1)')
      .choices(PREDICT_FORMATS).default('colours'))
    .requiredOption('--out <dir>', 'output folder');
  addInferenceOptions(cmd)
    .option('--opacity <x>', 'colours: label colour opacity in the overlay, 0..1', unitInterval, 0.5)
    .option('--skip-bad', 'images that cannot be read or segmented are listed, and the exit code stays 0');
  return addRunOptions(cmd, { label: 'predict', only: ['threads', 'device'] })
    .addHelpText('after', `
Examples:
  $ autodeeplab predict --checkpoint runs/t1/model.safetensors --input photos/ --out predictions/
  $ autodeeplab predict --checkpoint runs/t1/model.safetensors --input photos/ --out predictions/ --skip-bad
  $ autodeeplab predict --checkpoint runs/cs/model.safetensors --dataset cityscapes --data-root /data/cityscapes \\
      --split test --format cityscapes --scales 0.5,0.75,1,1.25,1.5,1.75 --flip --out submission/

Every image that can be read is segmented, whatever fails before or after it;
the ones that failed are listed at the end (exit 1, or 0 with --skip-bad).
Submission formats and the official evaluation scripts: docs/submission.md.`)
    .action(async (o: PredictFlags) => {
      checkOutputPath('--out', o.out, 'dir');
      useDevice(o.device);
      T.setNumThreads(o.threads ?? os.availableParallelism());
      const files = inputImages(o);
      const outputs = predictionFiles(o.format, o.out, files);
      const { model, classNames, palette } = loadModel(o.checkpoint);
      const failed: string[] = [];
      try {
        checkFormatClasses(o.format, classNames, o.checkpoint);
        const bar = progress('predict', files.length);
        try {
          for (const [i, file] of files.entries()) {
            try {
              await predictFile(file, outputs[i], (x) => model.forward(x, false), palette, o);
            } catch (e) {
              // A write that fails (a full disk) will fail for the next image too: stop. Anything else is this image's.
              if (e instanceof WriteError) throw e;
              failed.push((e as Error).message.startsWith(file) ? (e as Error).message : `${file}: ${(e as Error).message}`);
            }
            bar.update(i + 1);
          }
        } finally {
          bar.stop();
        }
      } finally {
        model.weights.dispose();
      }
      process.stdout.write(`predict: ${files.length - failed.length} of ${files.length} image(s) -> ${o.out}\n`);
      if (failed.length === 0) return;
      const list = failed.map((m) => `  ${m}`).join('\n');
      if (o.skipBad) {
        process.stderr.write(`--skip-bad: skipped ${failed.length} image(s):\n${list}\n`);
        return;
      }
      throw new Error(`predict: ${failed.length} of ${files.length} image(s) failed (the others were written):\n${list}`);
    });
}
