/** Numbers as a person reads them: durations (progress ETAs) and fractions as percentages. */

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * A duration in seconds as its two largest units: `45s`, `3m 05s`, `2h 14m`,
 * `13d 5h`, rounded to the smaller unit shown; `--` for one not measured yet
 * (NaN, infinite or negative).
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad2(s % 60)}s`;
  const m = Math.round(seconds / 60); // 3599.6 s is 1h 00m, not 59m 60s
  if (m < 24 * 60) return `${Math.floor(m / 60)}h ${pad2(m % 60)}m`;
  const h = Math.round(seconds / 3600);
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/**
 * A fraction in [0, 1] (mIoU, pixel accuracy, a class IoU) as a person reads
 * it, in percent with two decimals: 0.0853 -> `8.53%`. JSON and metrics.jsonl
 * keep the fraction.
 */
export function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(2)}%`;
}
