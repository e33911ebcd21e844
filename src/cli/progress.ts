/**
 * Progress for long commands: a bar with ETA on a terminal; when stderr is
 * not a terminal (a log file, a pipe, CI), one plain line every few seconds
 * and one at the end, never a carriage return. The ETA is measured from the
 * first update of this process (a resumed run's earlier iterations took no
 * time here) and is `--` until a second update has timed a step.
 */
import { SingleBar, Presets } from 'cli-progress';
import { formatDuration } from '../util/format';

export interface Progress {
  update(done: number, fields?: Record<string, string | number>): void;
  /** Ends the bar, or prints the last line not yet printed; safe to call twice. */
  stop(): void;
}

/** Seconds between the plain lines of a log. */
export const PLAIN_LINE_SECONDS = 2;

export function progress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  let first: { done: number; at: number } | null = null;
  const eta = (done: number, now: number): string => {
    first ??= { done, at: now };
    const seconds = (now - first.at) / 1000;
    const rate = seconds > 0 ? (done - first.done) / seconds : NaN; // steps per second, this process only
    return formatDuration(rate > 0 ? (total - done) / rate : NaN);
  };
  if (stream.isTTY) {
    const bar = new SingleBar(
      { format: `${label} [{bar}] {value}/{total} | {info} | ETA {etaText}`, hideCursor: true, stream },
      Presets.shades_classic,
    );
    bar.start(total, 0, { info: '', etaText: '--' });
    let running = true;
    return {
      update: (done, fields = {}) => bar.update(done, { info: formatFields(fields), etaText: eta(done, Date.now()) }),
      stop: () => {
        if (running) bar.stop(); // ends the bar's line: what follows starts on a new one
        running = false;
      },
    };
  }
  let lastPrint = 0;
  let pending: string | null = null; // the latest state, when not printed yet
  return {
    update(done, fields = {}) {
      const now = Date.now();
      pending = `${label} ${done}/${total} | ${formatFields(fields)} | ETA ${eta(done, now)}\n`;
      if (now - lastPrint < PLAIN_LINE_SECONDS * 1000 && done < total) return;
      lastPrint = now;
      stream.write(pending);
      pending = null;
    },
    stop() {
      if (pending !== null) stream.write(pending);
      pending = null;
    },
  };
}

function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4)) : v}`)
    .join(' ');
}

/** A progress whose total is known only at its first update (a callback's count); nothing is shown before. */
export function lateProgress(label: string): { update(done: number, total: number, fields?: Record<string, string | number>): void; stop(): void } {
  let bar: Progress | null = null;
  return {
    update(done, total, fields) {
      bar ??= progress(label, total);
      bar.update(done, fields);
    },
    stop: () => bar?.stop(),
  };
}
