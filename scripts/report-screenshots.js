#!/usr/bin/env node
// Screenshots of every report kind for the docs (docs/img/report-*.png), from
// tiny real runs made with the CLI on the built-in scenes: a search under a
// budget, a training of its genotype, a comparison with random architectures,
// three search trials and a sweep over two budgets. Each page is rendered in
// headless Chromium (Debian's `chromium`) after its own layout check passed.
//
//   node scripts/report-screenshots.js [--work DIR] [--out docs/img]
//
// --work keeps the runs (a second call reuses the finished ones). About 26
// minutes on 2 busy cores (1 minute when --work already holds the runs). Needs `npm run build:ts` first.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const repo = path.resolve(__dirname, '..');
const { checkPage, screenshot } = require(path.join(repo, 'dist', 'test', 'report', 'chromium.js'));
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
};
const work = path.resolve(arg('--work', fs.mkdtempSync(path.join(os.tmpdir(), 'adl-shots-'))));
const out = path.resolve(arg('--out', path.join(repo, 'docs', 'img')));
fs.mkdirSync(work, { recursive: true });

function cli(args, done) {
  if (done && fs.existsSync(done)) return;
  process.stderr.write(`$ autodeeplab ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [path.join(repo, 'dist', 'src', 'cli', 'main.js'), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`autodeeplab ${args[0]} exited ${r.status}`);
}

const data = ['--crop', '48', '--builtin-image-size', '48', '--threads', '2'];
const space = ['--layers', '4', '--blocks', '3', '--filter-multiplier', '2', '--batch-size', '2'];
const dir = (name) => path.join(work, name);
cli(['search', ...space, ...data, '--builtin-size', '16', '--epochs', '4', '--arch-start-epoch', '1', '--budget', '0.55', '--budget-size', '64x64',
  '--out', dir('search')], path.join(dir('search'), 'genotypes', 'epoch-003.json'));
const genotype = path.join(dir('search'), 'genotype.json');
cli(['train', '--genotype', genotype, '--filter-multiplier', '2', ...data, '--builtin-size', '16', '--batch-size', '4', '--iterations', '30',
  '--eval-every', '10', '--out', dir('train')], path.join(dir('train'), 'model.safetensors'));
cli(['compare', '--genotype', genotype, '--random-baseline', '3', '--filter-multiplier', '2', ...data, '--builtin-size', '16', '--val-size', '8',
  '--batch-size', '4', '--iterations', '20', '--out', dir('compare')], path.join(dir('compare'), 'comparison.json'));
const trials = [...space, ...data, '--builtin-size', '8', '--epochs', '3', '--arch-start-epoch', '1'];
cli(['trials', '--trials', '3', '--out', dir('trials'), ...trials]);
cli(['trials', '--trials', '1', '--budgets', '0.5,0.6', '--budget-size', '64x64', '--out', dir('sweep'), ...trials]);

fs.mkdirSync(out, { recursive: true });
for (const kind of ['search', 'train', 'compare', 'trials', 'sweep']) {
  cli(['report', dir(kind)]);
  const html = path.join(dir(kind), 'report.html');
  const check = checkPage(html);
  if (check.overflow.length || check.overlaps.length) throw new Error(`${kind}: ${JSON.stringify({ overflow: check.overflow, overlaps: check.overlaps })}`);
  const png = path.join(out, `report-${kind}.png`);
  screenshot(html, png);
  process.stdout.write(`${png}\n`);
}
