/**
 * `autodeeplab evidence [--quick] [--check]` (`npm run evidence`): reruns
 * every figure the docs publish (src/cli/evidence_steps.ts), writes
 * docs/results/NAME.json with the machine, libtorch, BLAS, commit and date,
 * then regenerates the marked blocks of README.md and docs/*.md from them
 * (src/report/evidence_docs.ts). `--check` only compares: exit 1 when a block
 * differs from what the results give.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { checkBlocks, RESULTS_DIR, writeBlocks } from '../report/evidence_docs';
import { EvidenceMachine, EvidenceResult } from '../report/evidence_tables';
import { writeFileAtomic } from '../util/files';
import { doctorReport } from './doctor';
import { STEPS } from './evidence_steps';
import { threadsArg } from './options';

/** The repository root: dist/src/cli/ -> ../../.. */
const ROOT = path.resolve(__dirname, '..', '..', '..');

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** HEAD's hash, with "-dirty" when tracked files differ from it (the figures then come from uncommitted code). */
function commit(): string {
  const head = git(['rev-parse', 'HEAD']) || 'unknown';
  return git(['status', '--porcelain', '--untracked-files=no']) ? `${head}-dirty` : head;
}

function machine(): EvidenceMachine {
  const d = doctorReport();
  return { cpu: os.cpus()[0]?.model.trim() ?? 'unknown', threads: os.availableParallelism(), libtorch: d.torchVersion, blas: d.blas, sgemmGflops: d.sgemmGflops };
}

function stepList(v: string): string[] {
  const names = v.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !STEPS.some((s) => s.name === n));
  if (unknown.length) throw new InvalidArgumentError(`unknown step(s) ${unknown.join(', ')}; steps: ${STEPS.map((s) => s.name).join(', ')}`);
  return names;
}

export function evidenceCommand(): Command {
  return new Command('evidence')
    .description('rerun every figure the docs publish, write docs/results/*.json and regenerate the docs\' marked tables (--check: only compare)')
    .option('--quick', 'skip the benches and run one quickstart seed and a 3-seed compare (under 30 minutes on 2 cores)')
    .option('--check', 'run nothing: exit 1 when a generated block of README.md or docs/*.md differs from docs/results/*.json')
    .option('--docs-only', 'run nothing: regenerate the blocks from docs/results/*.json')
    .option('--only <steps>', `comma-separated steps (${STEPS.map((s) => s.name).join(', ')})`, stepList)
    .option('--threads <n>', 'threads of each run (default: the cores of this machine)', threadsArg)
    .option('--out <dir>', 'where the runs go', path.join('runs', 'evidence'))
    .addHelpText('after', `
Examples:
  $ npm run evidence -- --quick        # table2, budget, budget-search, quickstart (seed 0), compare --seeds 3, fig4
  $ npm run evidence                   # also quickstart seeds 1-2, compare --seeds 5, the search, engine and profile benches
  $ npm run evidence -- --check        # the docs' generated blocks against docs/results/*.json`)
    .action((o: { quick?: boolean; check?: boolean; docsOnly?: boolean; only?: string[]; threads?: number; out: string }) => {
      if (o.check) {
        const stale = checkBlocks(ROOT);
        if (stale.length) {
          process.stderr.write(`evidence --check: ${stale.length} generated block(s) differ from ${RESULTS_DIR}/*.json (run \`npm run evidence -- --only NAME\` or regenerate):\n  ${stale.join('\n  ')}\n`);
          process.exitCode = 1;
        } else process.stdout.write('evidence --check: every generated block matches docs/results/*.json\n');
        return;
      }
      const steps = o.docsOnly ? [] : STEPS.filter((s) => (o.only ? o.only.includes(s.name) : !o.quick || s.quick));
      const m = machine();
      const at = commit(); // before this run rewrites tracked files under docs/
      const ctx = { out: o.out, quick: !!o.quick, threads: o.threads ?? os.availableParallelism() };
      fs.mkdirSync(path.join(ROOT, RESULTS_DIR), { recursive: true });
      for (const step of steps) {
        const started = Date.now();
        process.stderr.write(`evidence: ${step.name}\n`);
        const r = step.run(ctx);
        const result: EvidenceResult = { name: step.name, date: new Date().toISOString(), commit: at, quick: ctx.quick, machine: m, ...r };
        writeFileAtomic(path.join(ROOT, RESULTS_DIR, `${step.name}.json`), JSON.stringify(result, null, 1) + '\n');
        process.stderr.write(`evidence: ${step.name} done in ${((Date.now() - started) / 1000).toFixed(0)} s -> ${RESULTS_DIR}/${step.name}.json\n`);
      }
      const changed = writeBlocks(ROOT, writeFileAtomic);
      process.stdout.write(`evidence: ${steps.length} step(s) rerun; regenerated blocks in ${changed.length ? changed.join(', ') : 'no file (unchanged)'}\n`);
    });
}
