#!/usr/bin/env node
// Runs every compiled test file with node's built-in runner (its closing
// summary is what CI reads). Pass file-name fragments to run a subset.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..', 'dist', 'test');
function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name.endsWith('.test.js') ? [p] : [];
  });
}
const filters = process.argv.slice(2);
// Only tests whose source still exists: a test moved or deleted leaves its old compiled copy in dist/.
const source = (f) => path.join(__dirname, '..', path.relative(path.join(root, '..'), f)).replace(/\.js$/, '.ts');
const files = walk(root).filter((f) => fs.existsSync(source(f)))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error(`no test files found under ${root}${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(1);
}
// AUTODEEPLAB_TEST_DEVICE=cuda: every test file creates its tensors on that device.
const device = process.env.AUTODEEPLAB_TEST_DEVICE ? ['--require', path.join(root, 'device_setup.js')] : [];
const r = spawnSync(process.execPath, [...device, '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
