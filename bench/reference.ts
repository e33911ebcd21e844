/**
 * A PyTorch reference process for benchmarks: it builds the same computations
 * and times one round per request, so that our rounds and its rounds can be
 * interleaved in one invocation (machine noise then hits both alike).
 */
import { ChildProcessByStdio, spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import * as readline from 'node:readline';
import { withoutPreloadedMalloc } from '../src/util/preload';

export const PYTHON = process.env.AUTODEEPLAB_PYTHON ?? '/usr/bin/python3';

export class PythonReference {
  private constructor(private readonly proc: ChildProcessByStdio<Writable, Readable, null>, private readonly lines: AsyncIterator<string>) {}

  static async start(script: string, args: string[], threads: number): Promise<PythonReference> {
    // As Debian's python3 runs: without the tcmalloc that our node runs with (AUTODEEPLAB_REFERENCE_MALLOC=inherit keeps it).
    const base = process.env.AUTODEEPLAB_REFERENCE_MALLOC === 'inherit' ? process.env : withoutPreloadedMalloc(process.env);
    const proc = spawn(PYTHON, [script, ...args], {
      env: { ...base, OMP_NUM_THREADS: String(threads), PYTHONUNBUFFERED: '1' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = readline.createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
    const ref = new PythonReference(proc, lines);
    const first = await ref.next();
    if (first !== 'ready') throw new Error(`${script}: expected 'ready', got '${first}'`);
    return ref;
  }

  private async next(): Promise<string> {
    const r = await this.lines.next();
    if (r.done) throw new Error(`PyTorch reference (${PYTHON}) exited early; is python3-torch installed? (apt-get install python3-torch)`);
    return r.value;
  }

  /** One request line, one answer line. */
  async query(request: string): Promise<string> {
    this.proc.stdin.write(`${request}\n`);
    return this.next();
  }

  /** One timed round of case `name`: seconds per iteration. */
  async time(name: string): Promise<number> {
    return Number(await this.query(name));
  }

  close(): void {
    this.proc.stdin.end();
  }
}
