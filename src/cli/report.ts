/** `autodeeplab report RUN_DIR`: a static HTML page of a search or training run. */
import { Command } from 'commander';
import { writeReport } from '../report/report';

export function reportCommand(): Command {
  return new Command('report')
    .description('write RUN_DIR/report.html: curves, alpha/beta heatmaps, architecture diagrams, sample predictions')
    .argument('<run-dir>', 'the --out folder of a search or train run')
    .option('--out <file>', 'HTML file (default: RUN_DIR/report.html)')
    .addHelpText('after', '\nExample:\n  $ autodeeplab report runs/quickstart/search && chromium runs/quickstart/search/report.html')
    .action(async (runDir: string, o: { out?: string }) => {
      process.stdout.write(`report: ${await writeReport(runDir, o.out)}\n`);
    });
}
