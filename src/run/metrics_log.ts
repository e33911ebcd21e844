/**
 * metrics.jsonl: one JSON object per line, appended and flushed as it is
 * written. On resume, lines past the checkpoint's iteration are dropped so
 * that the log reads as one uninterrupted run.
 */
import * as fs from 'node:fs';
import { BadInputError } from '../util/errors';
import { appendFileComplete, writeFileAtomic } from '../util/files';

export class MetricsLog {
  constructor(readonly file: string) {}

  append(record: Record<string, unknown>): void {
    appendFileComplete(this.file, JSON.stringify(record) + '\n');
  }

  /** Keeps only records for which keep(record) is true (after a resume). */
  truncate(keep: (r: Record<string, unknown>) => boolean): void {
    if (!fs.existsSync(this.file)) return;
    const lines = fs.readFileSync(this.file, 'utf8').split('\n').filter((l) => l.trim().length > 0);
    const kept = lines.filter((l) => {
      try {
        return keep(JSON.parse(l) as Record<string, unknown>);
      } catch {
        return false; // a line cut short by a kill
      }
    });
    writeFileAtomic(this.file, kept.map((l) => l + '\n').join(''));
  }

  static read(file: string): Record<string, unknown>[] {
    if (!fs.existsSync(file)) return [];
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    return lines.flatMap((l, i) => {
      if (!l.trim()) return [];
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch (e) {
        if (i === lines.length - 1 || lines.slice(i + 1).every((x) => !x.trim())) return []; // the last line, cut short by a kill
        throw new BadInputError(`${file}: line ${i + 1} is not valid JSON (${(e as Error).message})`);
      }
    });
  }
}
