/** `autodeeplab diagram`: the network path and the cell of a genotype or preset, as SVG (and PNG). */
import { Command } from 'commander';
import * as path from 'node:path';
import sharp from 'sharp';
import { isPreset } from '../model/presets';
import { writeFileAtomic } from '../util/files';
import { readGenotypeFile } from '../arch/genotype_file';
import { cellSvgs, trellisSvg } from '../report/diagrams';
import { AUTO_DEEPLAB_GENOTYPE } from '../arch/genotype';
import { BadInputError } from '../util/errors';
import { checkOutputPath } from '../util/files';

export function diagramCommand(): Command {
  return new Command('diagram')
    .description('draw the network path (on the L x 4 trellis) and the cell as SVG and PNG')
    .option('--arch <name>', 'a preset (the released architecture)')
    .option('--genotype <file>', 'genotype JSON (with the search\'s betas when present)')
    .requiredOption('--out <dir>', 'output folder: path.svg/png, cell.svg/png (a cell per layer: cell-layer1..L.svg/png)')
    .addHelpText('after', '\nExamples:\n  $ autodeeplab diagram --arch autodeeplab-s --out docs\n  $ autodeeplab diagram --genotype runs/s1/genotype.json --out runs/s1')
    .action(async (o: { arch?: string; genotype?: string; out: string }) => {
      checkOutputPath('--out', o.out, 'dir');
      if (o.arch && !isPreset(o.arch)) throw new BadInputError(`--arch: unknown preset '${o.arch}'`);
      const { genotype: g, beta } = o.genotype ? readGenotypeFile(o.genotype) : { genotype: AUTO_DEEPLAB_GENOTYPE, beta: undefined };
      const diagrams = [{ name: 'path', svg: trellisSvg(g, beta) }, ...cellSvgs(g)];
      for (const { name, svg: text } of diagrams) {
        writeFileAtomic(path.join(o.out, `${name}.svg`), text);
        await sharp(Buffer.from(text)).png().toFile(path.join(o.out, `${name}.png`));
      }
      process.stdout.write(`diagram: ${o.out}/{${diagrams.map((d) => d.name).join(',')}}.{svg,png}\n`);
    });
}
