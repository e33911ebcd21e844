/** `autodeeplab predict`: colourised label maps and overlays for a folder of images. */
import { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../engine';
import { listImages, readRgb, writeRgbPng } from '../data/image_io';
import { predictSample, Predictor } from '../eval/evaluate';
import { loadModel } from '../model/saved';
import { WriteError } from '../util/errors';
import { scaleList, unitInterval } from './options';
import { addRunOptions } from './option_groups';
import { useDevice } from '../run/device';
import { progress } from './progress';
import { checkOutputPath } from '../util/files';

interface PredictFlags { checkpoint: string; input: string; out: string; scales: number[]; flip?: boolean; opacity: number; skipBad?: boolean; device: string; threads?: number }

/** Segments one image file and writes NAME_labels.png and NAME_overlay.png, each complete or not at all. */
async function predictFile(file: string, predict: Predictor, palette: readonly (readonly number[])[], o: PredictFlags): Promise<void> {
  const img = await readRgb(file);
  const label = new Uint8Array(img.width * img.height);
  const pred = predictSample(predict, { id: file, width: img.width, height: img.height, image: img.data, label }, { scales: o.scales, flip: !!o.flip });
  const colours = new Uint8Array(img.data.length);
  const overlay = new Uint8Array(img.data.length);
  pred.forEach((k, p) => {
    for (let c = 0; c < 3; c++) {
      colours[p * 3 + c] = palette[k][c];
      overlay[p * 3 + c] = Math.round((1 - o.opacity) * img.data[p * 3 + c] + o.opacity * palette[k][c]);
    }
  });
  const base = path.join(o.out, path.parse(file).name);
  await writeRgbPng(`${base}_labels.png`, { ...img, data: colours });
  await writeRgbPng(`${base}_overlay.png`, { ...img, data: overlay });
}

export function predictCommand(): Command {
  const cmd = new Command('predict')
    .description('segment images: writes NAME_labels.png (class colours) and NAME_overlay.png for each')
    .requiredOption('--checkpoint <file>', 'model.safetensors or checkpoint.safetensors from train')
    .requiredOption('--input <path>', 'an image or a folder of images')
    .requiredOption('--out <dir>', 'output folder')
    .option('--scales <list>', 'inference scales', scaleList, [1])
    .option('--flip', 'also average horizontally flipped inputs')
    .option('--opacity <x>', 'label colour opacity in the overlay, 0..1', unitInterval, 0.5)
    .option('--skip-bad', 'images that cannot be read or segmented are listed, and the exit code stays 0');
  return addRunOptions(cmd, { label: 'predict', only: ['threads', 'device'] })
    .addHelpText('after', `
Examples:
  $ autodeeplab predict --checkpoint runs/t1/model.safetensors --input photos/ --out predictions/
  $ autodeeplab predict --checkpoint runs/t1/model.safetensors --input photos/ --out predictions/ --skip-bad

Every image that can be read is segmented, whatever fails before or after it;
the ones that failed are listed at the end (exit 1, or 0 with --skip-bad).`)
    .action(async (o: PredictFlags) => {
      checkOutputPath('--out', o.out, 'dir');
      useDevice(o.device);
      T.setNumThreads(o.threads ?? os.availableParallelism());
      const files = listImages(o.input);
      const { model, palette } = loadModel(o.checkpoint);
      const bar = progress('predict', files.length);
      const failed: string[] = [];
      try {
        for (const [i, file] of files.entries()) {
          try {
            await predictFile(file, (x) => model.forward(x, false), palette, o);
          } catch (e) {
            // A write that fails (a full disk) will fail for the next image too: stop. Anything else is this image's.
            if (e instanceof WriteError) throw e;
            failed.push((e as Error).message.startsWith(file) ? (e as Error).message : `${file}: ${(e as Error).message}`);
          }
          bar.update(i + 1);
        }
      } finally {
        bar.stop();
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
