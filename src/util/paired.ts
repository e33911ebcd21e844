/**
 * Summary statistics of repeated runs and a paired test of two treatments
 * measured under the same seeds (searched vs random architectures, issue 20).
 */

export interface Spread {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1 in the denominator; 0 for one value). */
  std: number;
  min: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  const n = xs.length;
  if (!n) throw new RangeError('spread: no values');
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, std, min: Math.min(...xs), max: Math.max(...xs) };
}

export interface PairedTest {
  /** The differences a_i - b_i, their summary. */
  differences: number[];
  diff: Spread;
  /** Paired t statistic mean(d) / (std(d) / sqrt(n)); null when n < 2 or every difference is equal. */
  t: number | null;
  /** Two-sided exact sign-flip permutation p-value: the share of the 2^n sign assignments whose |sum| is at least the observed one. */
  permutationP: number;
  /** Seeds where a beats b, of n. */
  wins: number;
}

/** Above this many pairs the 2^n sign flips are not enumerated. */
const MAX_EXACT_PAIRS = 20;

/** Paired comparison of a and b (same length, pair i measured under the same seed). */
export function pairedTest(a: readonly number[], b: readonly number[]): PairedTest {
  if (a.length !== b.length || !a.length) throw new RangeError(`pairedTest: need equal non-empty lengths, got ${a.length} and ${b.length}`);
  if (a.length > MAX_EXACT_PAIRS) throw new RangeError(`pairedTest: at most ${MAX_EXACT_PAIRS} pairs for the exact permutation test`);
  const d = a.map((x, i) => x - b[i]);
  const diff = spread(d);
  const t = d.length > 1 && diff.std > 0 ? diff.mean / (diff.std / Math.sqrt(d.length)) : null;
  const observed = Math.abs(d.reduce((s, x) => s + x, 0));
  let extreme = 0;
  const total = 2 ** d.length;
  for (let mask = 0; mask < total; mask++) {
    const s = d.reduce((acc, x, i) => acc + (mask & (1 << i) ? -x : x), 0);
    if (Math.abs(s) >= observed - 1e-12 * (1 + observed)) extreme++;
  }
  return { differences: d, diff, t, permutationP: extreme / total, wins: d.filter((x) => x > 0).length };
}
