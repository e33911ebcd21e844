/**
 * Progress for long commands: a bar with ETA on a terminal, plain periodic
 * lines otherwise (logs, CI).
 */
import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  update(done: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

export function progress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new SingleBar(
      { format: `${label} [{bar}] {value}/{total} | {info} | ETA {eta_formatted}`, hideCursor: true, etaBuffer: 20, stream },
      Presets.shades_classic,
    );
    bar.start(total, 0, { info: '' });
    return {
      update: (done, fields = {}) => bar.update(done, { info: formatFields(fields) }),
      stop: () => bar.stop(),
    };
  }
  const start = Date.now();
  let lastPrint = 0;
  return {
    update(done, fields = {}) {
      const now = Date.now();
      if (now - lastPrint < 2000 && done < total) return;
      lastPrint = now;
      const elapsed = (now - start) / 1000;
      const eta = done > 0 ? (elapsed / done) * (total - done) : NaN;
      stream.write(`${label} ${done}/${total} | ${formatFields(fields)} | ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)}s` : '?'}\n`);
    },
    stop() {},
  };
}

function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4)) : v}`)
    .join(' ');
}
