/** A small tmpfs for tests of full and read-only disks (root only: elsewhere the test is skipped with the reason). */
import { TestContext } from 'node:test';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** fn(dir) on a fresh tmpfs mounted with `options` (e.g. 'size=3m', 'ro,size=1m'), unmounted and removed however fn ends. */
export function onTmpfs(t: TestContext, options: string, fn: (dir: string) => void, skipWhy = 'the in-process tests cover the fault'): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-tmpfs-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]).status !== 0) {
    fs.rmSync(dir, { recursive: true });
    t.skip(`cannot mount a tmpfs here (not root); ${skipWhy}`);
    return;
  }
  try {
    fn(dir);
  } finally {
    spawnSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true });
  }
}
