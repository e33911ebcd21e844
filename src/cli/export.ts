/** `autodeeplab export`: a trained model as ONNX, for onnxruntime (Node, browser, Python). */
import { Command } from 'commander';
import { exportOnnx } from '../deploy/onnx';
import { loadModel } from '../model/saved';
import { sizeArg } from './options';
import { BadInputError } from '../util/errors';
import { checkOutputPath } from '../util/files';


export function exportCommand(): Command {
  return new Command('export')
    .description('export a trained model (evaluation mode) to ONNX with a fixed input size')
    .requiredOption('--checkpoint <file>', 'model.safetensors or checkpoint.safetensors from train')
    .option('--format <name>', 'export format: onnx', 'onnx')
    .requiredOption('--out <file>', 'output file, e.g. model.onnx')
    .option('--size <HxW>', 'input size of the exported graph', sizeArg, [513, 513] as [number, number])
    .addHelpText('after', `
Example:
  $ autodeeplab export --checkpoint runs/t1/model.safetensors --format onnx --size 513x513 --out model.onnx

The graph takes "input" (1, 3, H, W), normalised like training (ImageNet mean/std on 0..1 RGB),
and returns logits (1, classes, H, W).`)
    .action((o: { checkpoint: string; format: string; out: string; size: [number, number] }) => {
      checkOutputPath('--out', o.out, 'file');
      if (o.format !== 'onnx') throw new BadInputError(`--format: only 'onnx' is supported, got '${o.format}'`);
      const { model } = loadModel(o.checkpoint);
      exportOnnx((x) => model.forward(x, false), o.size[0], o.size[1], o.out);
      process.stdout.write(`export: ${o.out} (input 1x3x${o.size[0]}x${o.size[1]}, ${model.cfg.numClasses} classes)\n`);
      model.weights.dispose();
    });
}
