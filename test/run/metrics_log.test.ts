/** metrics.jsonl as report reads it: a line cut short by a kill at the end is dropped; a broken line inside is bad input naming file and line. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MetricsLog } from '../../src/run/metrics_log';
import { BadInputError } from '../../src/util/errors';

describe('MetricsLog.read', () => {
  it('drops a last line cut short, names the file and line of a broken line inside', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'adl-metrics-')), 'metrics.jsonl');
    fs.writeFileSync(file, '{"iteration":1}\n{"iteration":2}\n{"iter');
    assert.deepEqual(MetricsLog.read(file), [{ iteration: 1 }, { iteration: 2 }]);
    fs.writeFileSync(file, '{"iteration":1}\n{"type":\n{"iteration":3}\n');
    assert.throws(() => MetricsLog.read(file), (e: Error) => e instanceof BadInputError && e.message.startsWith(`${file}: line 2 is not valid JSON`));
  });
});
