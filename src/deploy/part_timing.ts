/**
 * Timing one part of the network (or a whole network) in libtorch or in
 * onnxruntime-node on its exported graph (in the browser: web/part_timing.ts): by the wall clock and by this
 * process's CPU time at once, batch 1, after two warm-up runs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as T from '../engine';
import { exportOnnx } from './onnx';
import { profileRuns } from './ort_profile';
import { timePartInBrowser } from './web/part_timing';

export type { Clock, Part, PartTiming, RuntimeName } from './part';
import type { Clock, Part, PartTiming, RuntimeName } from './part';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const wallMs = () => Number(process.hrtime.bigint()) / 1e6;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};

/** Medians over `repeats` samples of the milliseconds of one run by both clocks, after two warm-up runs. */
async function sample(run: () => Promise<void> | void, repeats: number): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < 2; i++) await run();
  const t0 = wallMs();
  await run();
  const times = Math.max(1, Math.ceil(20 / Math.max(wallMs() - t0, 1e-3)));
  const [wall, cpu]: number[][] = [[], []];
  for (let i = 0; i < repeats; i++) {
    const [w, c] = [wallMs(), cpuMs()];
    for (let j = 0; j < times; j++) await run();
    wall.push((wallMs() - w) / times);
    cpu.push((cpuMs() - c) / times);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/**
 * Milliseconds of one run of a part in a runtime, by both clocks (medians of
 * `repeats` samples); profile (onnxruntime): also its kernels' times as
 * onnxruntime's profiler records them (ort_profile.ts).
 */
export async function timePartClocks(part: Part, runtime: RuntimeName, threads: number, repeats: number, profile = false): Promise<PartTiming> {
  if (runtime === 'web') return timePartInBrowser(part, threads, repeats, profile);
  if (runtime === 'libtorch') {
    T.setNumThreads(threads);
    const x = T.randn(part.input).keep();
    const ms = await sample(() => T.noGrad(() => T.tidy(() => void part.forward(x))), repeats); // CPU kernels run synchronously
    x.dispose();
    return ms;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-latency-'));
  try {
    const file = path.join(dir, 'part.onnx');
    const [, c, h, w] = part.input;
    exportOnnx(part.forward, h, w, file, 'autodeeplab latency-table', c);
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
    const feed = { input: new ort.Tensor('float32', Float32Array.from({ length: c * h * w }, () => Math.random() - 0.5), part.input) };
    const ms = await sample(async () => void (await session.run(feed)), repeats);
    await session.release();
    return profile ? { ...ms, profile: await profileRuns(file, feed, threads, repeats) } : ms;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Milliseconds of one run of a part by one clock. */
export async function timePart(part: Part, runtime: RuntimeName, threads: number, repeats: number, clock: Clock = 'cpu'): Promise<number> {
  return (await timePartClocks(part, runtime, threads, repeats))[clock];
}
