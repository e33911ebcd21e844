#!/usr/bin/env node
// Compares two folders written by scripts/rooms-runs.sh (or any two run
// folders): every .safetensors tensor by tensor, byte for byte; every .json
// and .jsonl with the fields that measure time or memory removed; every .txt
// as text. Prints one line per file and exits 1 on any difference. Used to
// show that a refactor which moves code leaves search, budgeted search and
// training bit-identical.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** Fields that are wall-clock or machine measurements, or name the folder itself. */
const VOLATILE = new Set(['seconds', 'dataSeconds', 'rssBytes', 'peakRssBytes', 'elapsedSeconds', 'startedAt', 'finishedAt', 'time', 'out', 'wallSeconds']);

function files(dir, rel = '') {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = path.join(rel, e.name);
    return e.isDirectory() ? files(dir, r) : [r];
  });
}

/** name -> {dtype, shape, bytes} of a safetensors file (8-byte header length, JSON header, data). */
function readSafetensors(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const data = buf.subarray(8 + n);
  const out = new Map();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    out.set(name, { dtype: t.dtype, shape: t.shape, bytes: data.subarray(t.data_offsets[0], t.data_offsets[1]) });
  }
  return { tensors: out, metadata: header.__metadata__ ?? {} };
}

function compareSafetensors(a, b) {
  const x = readSafetensors(a);
  const y = readSafetensors(b);
  const problems = [];
  const names = new Set([...x.tensors.keys(), ...y.tensors.keys()]);
  for (const name of names) {
    const s = x.tensors.get(name);
    const t = y.tensors.get(name);
    if (!s || !t) problems.push(`${name}: only in ${s ? 'first' : 'second'}`);
    else if (s.dtype !== t.dtype || JSON.stringify(s.shape) !== JSON.stringify(t.shape)) problems.push(`${name}: ${s.dtype}${JSON.stringify(s.shape)} vs ${t.dtype}${JSON.stringify(t.shape)}`);
    else if (!s.bytes.equals(t.bytes)) problems.push(`${name}: values differ`);
  }
  const meta = (m) => JSON.stringify(strip(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, tryJson(v)]))));
  if (meta(x.metadata) !== meta(y.metadata)) problems.push('metadata differs');
  return { problems, detail: `${names.size} tensors` };
}

function tryJson(v) {
  try { return JSON.parse(v); } catch { return v; }
}

/** The value without volatile fields, at any depth. */
function strip(v) {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !VOLATILE.has(k)).map(([k, x]) => [k, strip(x)]));
  return v;
}

function compareText(a, b, ext) {
  const parse = (f) => {
    const text = fs.readFileSync(f, 'utf8');
    if (ext === '.json') return [JSON.stringify(strip(JSON.parse(text)))];
    if (ext === '.jsonl') return text.split('\n').filter((l) => l.trim()).map((l) => JSON.stringify(strip(JSON.parse(l))));
    return text.split('\n').map((l) => l.replace(/\/tmp\/[^/\s]+/g, 'DIR'));
  };
  const x = parse(a);
  const y = parse(b);
  const problems = [];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) { problems.push(`line ${i + 1} differs:\n    ${x[i]}\n    ${y[i]}`); break; }
  }
  return { problems, detail: `${x.length} line(s)` };
}

function main() {
  const [a, b] = process.argv.slice(2);
  if (!a || !b) {
    console.error('usage: node scripts/compare-runs.js DIR_A DIR_B');
    process.exit(2);
  }
  const names = [...new Set([...files(a), ...files(b)])].sort().filter((f) => !f.endsWith('.log'));
  let bad = 0;
  for (const f of names) {
    const [x, y] = [path.join(a, f), path.join(b, f)];
    if (!fs.existsSync(x) || !fs.existsSync(y)) { console.log(`DIFF ${f}: only in ${fs.existsSync(x) ? a : b}`); bad++; continue; }
    const ext = path.extname(f);
    const r = ext === '.safetensors' ? compareSafetensors(x, y) : compareText(x, y, ext);
    console.log(`${r.problems.length ? 'DIFF' : 'same'} ${f} (${r.detail})${r.problems.length ? `\n  ${r.problems.slice(0, 5).join('\n  ')}` : ''}`);
    if (r.problems.length) bad++;
  }
  console.log(bad ? `${bad} file(s) differ` : `all ${names.length} files identical`);
  process.exit(bad ? 1 : 0);
}

main();
