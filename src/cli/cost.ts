/** `autodeeplab cost`: parameters and Multi-Adds of a preset or a genotype. */
import { Command } from 'commander';
import { BadInputError } from '../util/errors';
import { countCost } from '../model/cost';
import { buildModel } from '../model/presets';
import { loadGenotype } from '../arch/genotype_file';
import { int, sizeArg } from './options';


export function costCommand(): Command {
  return new Command('cost')
    .description('parameters and Multi-Adds (convolution multiply-accumulates), total and per part')
    .option('--arch <name>', 'preset: autodeeplab-s, autodeeplab-m, autodeeplab-l')
    .option('--genotype <file>', 'genotype JSON (as search writes it)')
    .option('--filter-multiplier <n>', 'F for a genotype (presets fix it)', int(1))
    .option('--size <HxW>', 'input size', sizeArg, [1024, 2048] as [number, number])
    .option('--classes <n>', 'number of classes', int(2), 19)
    .option('--json', 'print JSON')
    .addHelpText('after', `
Examples:
  $ autodeeplab cost --arch autodeeplab-s --size 1024x2048
  $ autodeeplab cost --genotype runs/s1/genotype.json --filter-multiplier 20 --json`)
    .action((o: { arch?: string; genotype?: string; filterMultiplier?: number; size: [number, number]; classes: number; json?: boolean }) => {
      if (!o.arch && !o.genotype) throw new BadInputError('cost: give --arch NAME or --genotype FILE');
      const model = buildModel({ arch: o.arch, genotype: o.genotype ? loadGenotype(o.genotype) : undefined, filterMultiplier: o.filterMultiplier, numClasses: o.classes });
      const c = countCost(model, o.size[0], o.size[1]);
      if (o.json) {
        process.stdout.write(JSON.stringify(c, null, 2) + '\n');
        return;
      }
      const fmt = (p: { params: number; multiAdds: number }) => `${(p.params / 1e6).toFixed(2).padStart(8)}M params  ${(p.multiAdds / 1e9).toFixed(2).padStart(9)}B Multi-Adds`;
      const lines = Object.entries(c.parts).map(([k, p]) => `  ${k.padEnd(8)} ${fmt(p)}`);
      process.stdout.write(`${o.arch ?? o.genotype} at ${c.height}x${c.width}, ${o.classes} classes:\n${lines.join('\n')}\n  ${'total'.padEnd(8)} ${fmt(c)}\n`);
    });
}
