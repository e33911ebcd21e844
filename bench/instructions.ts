/**
 * `npm run bench -- instructions [--crop 32] [--against DIR]`: the instructions
 * one search iteration executes, by shared object, as valgrind's callgrind
 * counts them. The count hardly changes from run to run, whatever else the
 * machine does (V8 runs single-threaded here; what is left is its choice of
 * when to optimise and collect), where this virtual machine's timings drift by
 * 10-50% within minutes: it shows a change of a few per cent in per-operator
 * cost that alternated timings cannot. It does not see memory stalls or
 * threads (libtorch runs one): a change in arithmetic or memory traffic needs
 * timings as well. --threads and --device do not apply.
 *
 * The search worker (search_worker.js: the paper's supernet, activations kept)
 * runs under callgrind twice at once, with 1 and 3 timed iterations after its
 * warm-up (valgrind keeps a process on one core); an iteration is half the
 * difference. `--against DIR`: the same for another built checkout (a git
 * worktree of an earlier commit), after this one, and the ratios. About 15
 * minutes a checkout at crop 32 on 2 cores; needs valgrind (Debian's package).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { printTable } from './report';

/**
 * A stub of Highway's TimerResolution to preload under valgrind (bench/valgrind/hwy_timer.cc says why), built into
 * dir; null when the addon does not load libhwy.
 */
function highwayStub(here: string, dir: string): string | null {
  const addon = path.join(here, 'build', 'autodeeplab.node');
  if (!/libhwy\.so/.test(execFileSync('ldd', [addon], { encoding: 'utf8' }))) return null;
  const stub = path.join(dir, 'hwy_timer.so');
  execFileSync('g++', ['-shared', '-fPIC', '-O2', '-o', stub, path.join(here, 'bench', 'valgrind', 'hwy_timer.cc')]);
  return stub;
}

/** Instructions by shared object of one callgrind run of the worker with `iterations` timed iterations. */
function run(root: string, crop: number, iterations: number, out: string, preload: string | null): Promise<Map<string, number>> {
  const worker = path.join(root, 'dist', 'bench', 'search_worker.js');
  // --single-threaded: V8 compiles and collects garbage on this thread, so the count does not depend on when its
  // helper threads ran (callgrind counts every thread of the process).
  const args = ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, '--single-threaded', worker, String(crop), 'keep', String(iterations), '1'];
  return new Promise((resolve, reject) => {
    // The environment as is (`npm run bench` runs under bin/node-tcmalloc, whose LD_PRELOAD the worker keeps), and the stub.
    const env = preload ? { ...process.env, LD_PRELOAD: [preload, process.env.LD_PRELOAD].filter(Boolean).join(':') } : process.env;
    const p = spawn('valgrind', args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    p.on('error', (e) => reject(new Error(`valgrind: ${e.message} (apt-get install valgrind)`)));
    p.on('close', (code) => (code === 0 ? resolve(byObject(out)) : reject(new Error(`valgrind exited ${code}: ${err}`))));
  });
}

const TOTAL = 'total';

/** The program's total (key TOTAL) and self instructions summed per shared object, from callgrind_annotate's per-function lines. */
function byObject(file: string): Map<string, number> {
  const text = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', '--auto=no', file], { maxBuffer: 1 << 28 }).toString();
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*?)\s*$/.exec(line);
    if (!m) continue;
    const obj = /\[([^\]]*)\]$/.exec(m[2]);
    const name = m[2] === 'PROGRAM TOTALS' ? TOTAL : obj ? path.basename(obj[1]) : 'no object named';
    sums.set(name, (sums.get(name) ?? 0) + Number(m[1].replace(/,/g, '')));
  }
  if (!sums.has(TOTAL)) throw new Error(`callgrind_annotate printed no PROGRAM TOTALS for ${file}`);
  return sums;
}

/** Instructions of one timed iteration, by object: (3 iterations - 1 iteration) / 2. */
async function perIteration(root: string, crop: number, dir: string, preload: string | null): Promise<Map<string, number>> {
  const [one, three] = await Promise.all([1, 3].map((n) => run(root, crop, n, path.join(dir, `callgrind.${n}.out`), preload)));
  const per = new Map<string, number>();
  for (const k of new Set([...one.keys(), ...three.keys()])) per.set(k, ((three.get(k) ?? 0) - (one.get(k) ?? 0)) / 2);
  return per;
}

const giga = (n: number) => (n / 1e9).toFixed(3);
const total = (m: Map<string, number>) => m.get(TOTAL)!;

export async function runInstructionsBench(args: string[]): Promise<void> {
  const ci = args.indexOf('--crop');
  const crop = ci >= 0 ? Number(args[ci + 1]) : 32;
  if (!Number.isInteger(crop) || crop < 1) {
    console.error(`bench instructions: --crop ${args[ci + 1] ?? ''}: expected a crop size in pixels, a positive integer (e.g. 32)`);
    process.exit(2);
  }
  const ai = args.indexOf('--against');
  const against = ai >= 0 ? path.resolve(args[ai + 1] ?? '') : null;
  if (against && !fs.existsSync(path.join(against, 'dist', 'bench', 'search_worker.js'))) {
    console.error(`bench instructions: --against ${against}: no dist/bench/search_worker.js there (build that checkout first)`);
    process.exit(2);
  }
  const here = path.resolve(__dirname, '..', '..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-callgrind-'));
  try {
    console.log(`search iteration at crop ${crop}, 1 thread, under callgrind (1 and 3 iterations at once)`);
    const preload = highwayStub(here, dir);
    const ours = await perIteration(here, crop, dir, preload);
    const theirs = against ? await perIteration(against, crop, dir, preload) : null;
    const big = (m: Map<string, number> | null, k: string) => m !== null && Math.abs(m.get(k) ?? 0) > 0.005 * total(m);
    const keys = [...new Set([...ours.keys(), ...(theirs?.keys() ?? [])])].filter((k) => k !== TOTAL && (big(ours, k) || big(theirs, k)));
    keys.sort((a, b) => (ours.get(b) ?? 0) - (ours.get(a) ?? 0));
    const row = (name: string, a: number, b?: number) => ({ object: name, 'this, G instructions': giga(a), ...(theirs ? { [`${path.basename(against!)}`]: giga(b ?? 0), ratio: b ? (a / b).toFixed(3) : '-' } : {}) });
    printTable([...keys.map((k) => row(k, ours.get(k) ?? 0, theirs?.get(k))), row('total', total(ours), theirs ? total(theirs) : undefined)]);
    console.log(`instructions_per_iteration=${total(ours).toFixed(0)}${theirs ? ` against=${total(theirs).toFixed(0)} ratio=${(total(ours) / total(theirs)).toFixed(4)}` : ''}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
