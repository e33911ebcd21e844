/** `autodeeplab predict`: colourised label maps and overlays for a folder of images. */
import { Command } from 'commander';
import * as path from 'node:path';
import { listImages, readRgb, writeRgbPng } from '../data/image_io';
import { predictSample } from '../eval/evaluate';
import { loadModel } from '../model/saved';
import { num, scaleList } from './options';
import { progress } from './progress';


export function predictCommand(): Command {
  return new Command('predict')
    .description('segment images: writes NAME_labels.png (class colours) and NAME_overlay.png for each')
    .requiredOption('--checkpoint <file>', 'model.safetensors or checkpoint.safetensors from train')
    .requiredOption('--input <path>', 'an image or a folder of images')
    .requiredOption('--out <dir>', 'output folder')
    .option('--scales <list>', 'inference scales', scaleList, [1])
    .option('--flip', 'also average horizontally flipped inputs')
    .option('--opacity <x>', 'label colour opacity in the overlay', num(0), 0.5)
    .addHelpText('after', '\nExample:\n  $ autodeeplab predict --checkpoint runs/t1/model.safetensors --input photos/ --out predictions/')
    .action(async (o: { checkpoint: string; input: string; out: string; scales: number[]; flip?: boolean; opacity: number }) => {
      const files = listImages(o.input);
      const { model, palette } = loadModel(o.checkpoint);
      const bar = progress('predict', files.length);
      for (const [i, file] of files.entries()) {
        const img = await readRgb(file);
        const label = new Uint8Array(img.width * img.height);
        const pred = predictSample((x) => model.forward(x, false), { id: file, width: img.width, height: img.height, image: img.data, label },
          { scales: o.scales, flip: !!o.flip });
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
        bar.update(i + 1);
      }
      bar.stop();
      process.stdout.write(`predict: ${files.length} image(s) -> ${o.out}\n`);
      model.weights.dispose();
    });
}
