/**
 * Search speed and memory: seconds per iteration (weight step + architecture
 * step) and peak RSS at crops 32, 64 and 128 (batch 2, F=8, B=5, L=12, 19
 * classes), each in its own process, with the cells into a node sharing
 * weights (the default) and untied (--untied-cells, in columns beside).
 * `--crops 33 --tiny` checks that it runs (L=2, B=2, F=2). Compared with
 *  - the plain formulation of the same supernet (every arrow, edge and op on
 *    its own), run in this invocation at crop 64: the batching speed-up;
 *  - the public PyTorch implementation's own search step (bench/peer/, driven
 *    by peer_search.py under Debian's python3-torch), run in this invocation
 *    at crop 64 (`--peer-crops 32,64,128` for more, `--no-peer` to skip), in
 *    its own process per crop, its rounds interleaved with our measurements
 *    of the same crop so that machine noise hits both alike.
 * The ratios to the peer are given for the mode a search picks by default on
 * this machine (recompute 'auto': keep when the estimate fits half the memory)
 * and for recompute.
 */
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { KEEP_SHARE } from '../src/search/search_memory';
import { median, printTable } from './report';
import { PythonReference } from './reference';

const PEER_SCRIPT = path.join(__dirname, '..', '..', 'bench', 'peer_search.py');
// The peer's forward reads the stride-32 level from layer 2 on, so its smallest supernet has L=3.
const PEER_TINY = ['--layers', '3', '--block', '2', '--step', '2', '--filter', '2'];

interface Measurement { crop: number; mode: string; secondsPerIteration: number; peakRssBytes: number; estimateBytes: number; params: number }
interface PeerMeasurement { secondsPerIteration: number; peakRssBytes: number }

/** One worker process; cells 'shared' or 'untied'; tiny: a small supernet, to check that the bench runs. */
function measure(crop: number, mode: string, iterations: number, threads: number, cells = 'shared', tiny = false): Measurement {
  const argv = [path.join(__dirname, 'search_worker.js'), String(crop), mode, String(iterations), String(threads), cells, tiny ? 'tiny' : 'paper'];
  const out = execFileSync(process.execPath, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as Measurement;
}

const gb = (bytes: number) => (bytes / 2 ** 30).toFixed(2);

/**
 * Our measurements at one crop (recompute and keep, shared and untied cells)
 * and, when `withPeer`, `iterations` timed peer iterations (after its warm-up),
 * one before each of our modes and the rest after: the median and its peak RSS.
 */
async function measureCrop(crop: number, iterations: number, threads: number, tiny: boolean, withPeer: boolean) {
  const peerArgs = [String(crop), String(threads), ...(tiny ? PEER_TINY : [])];
  const peer = withPeer ? await PythonReference.start(PEER_SCRIPT, peerArgs, threads).catch((e: Error) => {
    throw new Error(`${e.message}; --no-peer skips the peer`);
  }) : undefined;
  const rounds: number[] = [];
  const peerRound = async () => {
    if (peer && rounds.length < iterations) rounds.push(await peer.time('iteration'));
  };
  try {
    const ours: { mode: string; shared: Measurement; untied: Measurement }[] = [];
    for (const mode of ['recompute', 'keep']) {
      await peerRound();
      ours.push({ mode, shared: measure(crop, mode, iterations, threads, 'shared', tiny), untied: measure(crop, mode, iterations, threads, 'untied', tiny) });
    }
    while (peer && rounds.length < iterations) await peerRound();
    const peerResult: PeerMeasurement | undefined = peer && { secondsPerIteration: median(rounds), peakRssBytes: Number(await peer.query('peak_rss')) };
    return { ours, peer: peerResult };
  } finally {
    peer?.close();
  }
}

export async function runSearchBench(threads: number, args: string[]): Promise<void> {
  const iterations = Number(args[args.indexOf('--iterations') + 1]) || 3;
  const listArg = (flag: string, fallback: number[]) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1].split(',').map(Number) : fallback;
  };
  const crops = listArg('--crops', [32, 64, 128]);
  const peerCrops = args.includes('--no-peer') ? [] : listArg('--peer-crops', [64]);
  for (const c of peerCrops.filter((c) => !crops.includes(c))) console.error(`search bench: peer crop ${c} skipped: not among --crops`);
  const tiny = args.includes('--tiny');
  const rows: Record<string, string>[] = [];
  const results: Measurement[] = [];
  const untiedResults: Measurement[] = [];
  const peers = new Map<number, PeerMeasurement>();
  for (const crop of crops) {
    const { ours, peer } = await measureCrop(crop, iterations, threads, tiny, peerCrops.includes(crop));
    if (peer) peers.set(crop, peer);
    for (const { mode, shared: m, untied: u } of ours) {
      results.push(m);
      untiedResults.push(u);
      rows.push({
        crop: String(crop), mode, 's/it': m.secondsPerIteration.toFixed(2), 'peak RSS GB': gb(m.peakRssBytes), 'estimate GB': gb(m.estimateBytes),
        'untied s/it': u.secondsPerIteration.toFixed(2), 'untied GB': gb(u.peakRssBytes),
        'peer s/it': peer?.secondsPerIteration.toFixed(2) ?? '-', 'peer GB': peer ? gb(peer.peakRssBytes) : '-',
        'speed-up': peer ? (peer.secondsPerIteration / m.secondsPerIteration).toFixed(1) : '-',
        'memory ratio': peer ? (m.peakRssBytes / peer.peakRssBytes).toFixed(2) : '-',
      });
    }
  }
  printTable(rows);
  console.log(`supernet weights: ${(results[0].params / 1e6).toFixed(1)}M shared, ${(untiedResults[0].params / 1e6).toFixed(1)}M untied; ` +
    `threads=${threads}; iterations=${iterations} (median, after one warm-up; peer: ${peers.size ? 'same rounds, interleaved' : 'not run'})`);
  if (tiny) return; // the comparisons below need the paper's supernet on both sides
  const at = (crop: number, mode: string) => results.find((r) => r.crop === crop && r.mode === mode)!;
  // What recompute 'auto' picks here (search_memory.ts: chooseRecompute, on the same estimate).
  const byDefault = (crop: number) => (at(crop, 'keep').estimateBytes <= KEEP_SHARE * os.totalmem() ? 'keep' : 'recompute');
  console.log(`default mode on this machine (recompute 'auto'): ${crops.map((c) => `crop ${c}: ${byDefault(c)}`).join(', ')}`);
  if (peers.size > 0) {
    const ratio = (c: number, p: PeerMeasurement, mode: string) => (p.secondsPerIteration / at(c, mode).secondsPerIteration).toFixed(2);
    const ratios = [...peers].map(([c, p]) => `speedup_vs_peer_crop${c}=${ratio(c, p, byDefault(c))} speedup_vs_peer_crop${c}_recompute=${ratio(c, p, 'recompute')}`);
    const memory = Math.max(...[...peers].map(([c, p]) => at(c, byDefault(c)).peakRssBytes / p.peakRssBytes));
    const p64 = peers.get(64);
    if (p64) {
      console.log(`peer at crop 64 (same invocation): ${p64.secondsPerIteration.toFixed(2)} s/it, ${gb(p64.peakRssBytes)} GB; ours (${byDefault(64)}, the default here) ` +
        `${at(64, byDefault(64)).secondsPerIteration.toFixed(2)} s/it: ${ratio(64, p64, byDefault(64))}x faster; recomputing: ${ratio(64, p64, 'recompute')}x`);
    }
    console.log(`${ratios.join(' ')} max_memory_ratio_vs_peer=${memory.toFixed(2)}`);
  }
  if (!crops.includes(64)) return; // the plain formulation is compared at crop 64
  const plain = measure(64, 'plain', 1, threads);
  const batched64 = at(64, 'keep');
  console.log(`plain formulation at crop 64 (same invocation): ${plain.secondsPerIteration.toFixed(2)} s/it, ` +
    `${gb(plain.peakRssBytes)} GB; batched is ${(plain.secondsPerIteration / batched64.secondsPerIteration).toFixed(1)}x faster`);
}
