/** `autodeeplab export`: a trained model as ONNX, for onnxruntime (Node, browser, Python), or as a web page. */
import { Command } from 'commander';
import { exportOnnx } from '../deploy/onnx';
import { exportOnnxDynamic } from '../deploy/onnx_dynamic';
import { exportWeb } from '../deploy/web/export';
import { loadModel } from '../model/saved';
import { sizeArg } from './options';
import { BadInputError } from '../util/errors';
import { checkOutputPath } from '../util/files';

export function exportCommand(): Command {
  return new Command('export')
    .description('export a trained model (evaluation mode) to ONNX, or as a web page that segments images in the browser')
    .requiredOption('--checkpoint <file>', 'model.safetensors or checkpoint.safetensors from train')
    .option('--format <name>', 'onnx (one file) or web (a folder: page, model, onnxruntime-web)', 'onnx')
    .requiredOption('--out <path>', 'output file (onnx), e.g. model.onnx, or folder (web)')
    .option('--size <HxW>', 'input size of the exported graph (onnx without --dynamic)', sizeArg, [513, 513] as [number, number])
    .option('--dynamic', 'onnx: a graph for images of any height and width (web: always)')
    .addHelpText('after', `
Examples:
  $ autodeeplab export --checkpoint runs/t1/model.safetensors --format onnx --size 513x513 --out model.onnx
  $ autodeeplab export --checkpoint runs/t1/model.safetensors --format onnx --dynamic --out model.onnx
  $ autodeeplab export --checkpoint runs/t1/model.safetensors --format web --out site && autodeeplab serve site

The graph takes "input" (1, 3, H, W), normalised like training (ImageNet mean/std on 0..1 RGB),
and returns logits (1, classes, H, W).`)
    .action((o: { checkpoint: string; format: string; out: string; size: [number, number]; dynamic?: boolean }, cmd: Command) => {
      if (o.format !== 'onnx' && o.format !== 'web') throw new BadInputError(`--format: expected onnx or web, got '${o.format}'`);
      if (o.format === 'web' || o.dynamic) {
        if (cmd.getOptionValueSource('size') === 'cli') throw new BadInputError(`--size: ${o.format === 'web' ? '--format web' : '--dynamic'} exports a graph for any size; leave --size out`);
      }
      checkOutputPath('--out', o.out, o.format === 'web' ? 'dir' : 'file');
      const { model, classNames, palette } = loadModel(o.checkpoint);
      const forward = (x: Parameters<typeof model.forward>[0]) => model.forward(x, false);
      const classes = `${model.cfg.numClasses} classes`;
      if (o.format === 'web') {
        exportWeb(forward, { classNames, palette }, o.out);
        process.stdout.write(`export: ${o.out}/ (index.html, model.onnx of any size, ${classes}); open it with: autodeeplab serve ${o.out}\n`);
      } else if (o.dynamic) {
        exportOnnxDynamic(forward, o.out);
        process.stdout.write(`export: ${o.out} (input 1x3xHxW, any H and W, ${classes})\n`);
      } else {
        exportOnnx(forward, o.size[0], o.size[1], o.out);
        process.stdout.write(`export: ${o.out} (input 1x3x${o.size[0]}x${o.size[1]}, ${classes})\n`);
      }
      model.weights.dispose();
    });
}
