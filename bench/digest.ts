/**
 * `npm run bench -- digest [--crop C] [--iterations N] [--tiny]`: the search's results as digests, to show that a change
 * computes the same values bit for bit: N search iterations (default 3) at crop C (default 64) of the bench's
 * workload (search_setup.ts), shared and untied cells, activations kept and recomputed, then a SHA-256 of every
 * architecture parameter and weight, one JSON line. Run it in two checkouts and compare the lines. --tiny: L=2, B=2,
 * F=2 (for the test).
 */
import { createHash } from 'node:crypto';
import * as T from '../src/engine';
import { searchWorkload } from './search_setup';
import { BadInputError } from '../src/util/errors';

export async function runDigestBench(threads: number, args: string[]): Promise<void> {
  const flag = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
  const crop = Number(flag('--crop', '64'));
  const iterations = Number(flag('--iterations', '3'));
  if (!Number.isInteger(crop) || crop < 16) throw new BadInputError(`--crop: expected a whole number >= 16, got '${flag('--crop', '')}'`);
  if (!Number.isInteger(iterations) || iterations < 1) throw new BadInputError(`--iterations: expected a whole number >= 1, got '${flag('--iterations', '')}'`);
  T.setNumThreads(threads);
  const digests: Record<string, string> = {};
  for (const untied of [false, true]) for (const mode of ['keep', 'recompute']) {
    const w = searchWorkload(crop, mode, untied, args.includes('--tiny'));
    for (let i = 0; i < iterations; i++) w.iteration();
    const hash = createHash('sha256');
    for (const p of [...w.net.archParameters(), ...w.net.weights.parameters()]) {
      const d = p.data();
      hash.update(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    }
    digests[`${untied ? 'untied' : 'shared'} ${mode}`] = hash.digest('hex').slice(0, 16);
  }
  console.log(JSON.stringify({ crop, iterations, threads, digests }));
}
