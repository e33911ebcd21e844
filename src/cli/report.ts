/** `autodeeplab report RUN_DIR`: a self-contained HTML page of a search or training run (or of trials, a sweep, a comparison). */
import { Command } from 'commander';
import { writeReport } from '../report/report';

export function reportCommand(): Command {
  return new Command('report')
    .description('write RUN_DIR/report.html: curves, alpha/beta heatmaps, architecture diagrams, sample predictions, configuration')
    .argument('<run-dir>', 'the --out folder of a search, train, trials or compare run')
    .option('--out <file>', 'HTML file (default: RUN_DIR/report.html)')
    .option('--data-root <dir>', 'dataset folder for the sample predictions (default: the one the run recorded in config.json)')
    .addHelpText('after', `
The page is one file with its chart library inlined: it opens offline. Append ?check to its address
to have it check its own layout (used by the tests).

Example:
  $ autodeeplab report runs/quickstart/search && chromium runs/quickstart/search/report.html
  $ autodeeplab report runs/voc-search --data-root /data/VOC   # the data moved since the search`)
    .action(async (runDir: string, o: { out?: string; dataRoot?: string }) => {
      process.stdout.write(`report: ${await writeReport(runDir, o.out, { dataRoot: o.dataRoot })}\n`);
    });
}
