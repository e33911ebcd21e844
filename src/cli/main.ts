#!/usr/bin/env node
/** The `autodeeplab` command. */
import { Command, CommanderError } from 'commander';
import { BadInputError } from '../util/errors';
import { runDemo } from './demo';
import { int, MAX_THREADS, threadsArg } from './options';
import { costCommand } from './cost';
import { predictCommand } from './predict';
import { checkDataCommand } from './check_data';
import { quickstartCommand } from './quickstart';
import { reportCommand } from './report';
import { diagramCommand } from './diagram';
import { exportCommand } from './export';
import { evalCommand, trainCommand } from './train';
import { searchCommand } from './search';
import { trialsCommand } from './trials';
import { compareCommand } from './compare';
import { latencyTableCommand } from './latency_table';
import { doctorCommand } from './doctor';
import { serveCommand } from './serve';
import { evidenceCommand } from './evidence';
import { watchLauncher } from '../run/launch';

export function buildProgram(): Command {
  const program = new Command('autodeeplab')
    .description('Auto-DeepLab: hierarchical neural architecture search for semantic segmentation (libtorch engine)')
    .showHelpAfterError();

  program
    .command('demo')
    .description('train a small CNN on generated images and print its loss falling (engine check)')
    .option('--steps <n>', 'training steps', int(1), 300)
    .option('--seed <n>', 'random seed', int(0), 0)
    .option('--threads <n>', `libtorch threads, 1..${MAX_THREADS}`, threadsArg, MAX_THREADS)
    .addHelpText('after', '\nExample:\n  $ autodeeplab demo --steps 200')
    .action((o: { steps: number; seed: number; threads: number }) => {
      const { first, last } = runDemo(o);
      process.stdout.write(`demo: loss ${first.toFixed(4)} -> ${last.toFixed(4)} over ${o.steps} steps\n`);
      if (!(last < first)) {
        process.stderr.write('demo: the loss did not fall\n');
        process.exitCode = 1;
      }
    });

  program.addCommand(searchCommand());
  program.addCommand(trialsCommand());
  program.addCommand(latencyTableCommand());
  program.addCommand(quickstartCommand());
  program.addCommand(trainCommand());
  program.addCommand(compareCommand());
  program.addCommand(evalCommand());
  program.addCommand(predictCommand());
  program.addCommand(checkDataCommand());
  program.addCommand(costCommand());
  program.addCommand(reportCommand());
  program.addCommand(diagramCommand());
  program.addCommand(exportCommand());
  program.addCommand(doctorCommand());
  program.addCommand(serveCommand());
  program.addCommand(evidenceCommand());

  return program;
}

/**
 * Exit codes: 0 success; 1 a failure while running; 2 bad usage or input
 * (flags, config files, genotypes, dataset files); 130 interrupted twice.
 */
export const EXIT = { ok: 0, failure: 1, badInput: 2, interrupted: 130 } as const;

/** Bad input (BadInputError and its subclasses, commander's usage errors) exits 2; anything else 1. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof BadInputError || e instanceof CommanderError) return EXIT.badInput;
  return EXIT.failure;
}

if (require.main === module) {
  watchLauncher(); // a rank of --nproc dies with its launcher, from its first second on
  const program = buildProgram();
  for (const cmd of [program, ...program.commands]) cmd.exitOverride();
  program.parseAsync(process.argv).catch((e: unknown) => {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') process.exit(EXIT.ok);
    if (typeof code === 'string' && code.startsWith('commander.')) process.exit(EXIT.badInput); // commander printed the message
    process.stderr.write(`autodeeplab: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(exitCodeOf(e));
  });
}
