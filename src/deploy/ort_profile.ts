/**
 * What share of a part's onnxruntime call is the part's own computation.
 *
 * Timed alone, every part of the network pays costs the whole network pays
 * once: the session call (JS to native and back, the executor's start) and the
 * layout changes onnxruntime's CPU provider inserts around a graph's
 * convolutions (ReorderInput / ReorderOutput, NCHW to its blocked layout and
 * back), which inside the network happen only where a layout-bound op meets
 * one that is not. Summed over the ~200 parts of a 12-layer network, these
 * made the table over-predict by 10-30% (most at small sizes). onnxruntime's
 * own profiler times each run inside onnxruntime (the JS side of the call
 * left out) and every kernel of it, the reorders among them: a part inside a
 * network costs its run but the reorders. This reading predicted whole
 * networks best of those compared (docs/budget.md#latency-tables).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';

/** One profiled run, in microseconds: the whole call, and its kernels but the layout reorders. */
export interface ProfiledRun { runUs: number; computeUs: number; reorderUs: number; kernels: number }

interface ProfileEvent { cat?: string; name?: string; dur?: number; args?: { op_name?: string } }

const REORDERS = new Set(['ReorderInput', 'ReorderOutput']);

/**
 * Splits an onnxruntime profile (the JSON array its profiler writes) into
 * runs: each `model_run` event closes the kernels logged since the previous one.
 */
export function profiledRuns(events: readonly ProfileEvent[]): ProfiledRun[] {
  const runs: ProfiledRun[] = [];
  let cur = { computeUs: 0, reorderUs: 0, kernels: 0 };
  for (const e of events) {
    if (e.cat === 'Node' && e.name?.endsWith('_kernel_time')) {
      const reorder = REORDERS.has(e.args?.op_name ?? '');
      cur = { computeUs: cur.computeUs + (reorder ? 0 : e.dur ?? 0), reorderUs: cur.reorderUs + (reorder ? e.dur ?? 0 : 0), kernels: cur.kernels + 1 };
    } else if (e.cat === 'Session' && e.name === 'model_run') {
      runs.push({ runUs: e.dur ?? 0, ...cur });
      cur = { computeUs: 0, reorderUs: 0, kernels: 0 };
    }
  }
  return runs;
}

/** A part's profiled run, medians in milliseconds: the call inside onnxruntime, its kernels but the reorders, the reorders; and its kernel count. */
export interface ProfiledPart { runMs: number; computeMs: number; reorderMs: number; kernels: number }

/** `runs` profiled runs of an exported graph after one warm-up, their medians. */
export async function profileRuns(file: string, feed: Record<string, ort.Tensor>, threads: number, runs: number): Promise<ProfiledPart> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-profile-'));
  try {
    const session = await ort.InferenceSession.create(file, {
      intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', enableProfiling: true, profileFilePrefix: path.join(dir, 'p'),
    });
    for (let i = 0; i <= runs; i++) await session.run(feed);
    session.endProfiling();
    await session.release();
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    if (files.length !== 1) throw new Error(`onnxruntime profile: expected one file in ${dir}, found ${files.length}`);
    const recorded = profiledRuns(JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'))).slice(1);
    if (!recorded.length) throw new Error('onnxruntime profile: no run was recorded');
    const median = (k: keyof ProfiledRun) => recorded.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(recorded.length / 2)];
    return { runMs: median('runUs') / 1e3, computeMs: median('computeUs') / 1e3, reorderMs: median('reorderUs') / 1e3, kernels: median('kernels') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A part's milliseconds inside a network, by `clock`: its run inside
 * onnxruntime but the layout reorders, as a share of the wall time of its
 * whole call (the JS side included), applied to the clock's own time of that
 * call (so a CPU-clock table stays a CPU-clock table).
 */
export function inGraphMs(t: { wall: number; cpu: number; profile?: ProfiledPart }, clock: 'wall' | 'cpu'): number {
  if (!t.profile) throw new Error('inGraphMs: the part was not profiled');
  const share = Math.min(1, (t.profile.runMs - t.profile.reorderMs) / t.wall);
  return t[clock] * share;
}
