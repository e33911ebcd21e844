#!/usr/bin/env node
// The host's own run-to-run spread: one fixed JS loop (60 passes over an 8 MB array) timed 20 times, in ms.
// What it measured here, with nothing else on the CPUs, is in docs/web.md#what-was-measured: a spread
// between minutes that no statistic of one command's samples removes.
'use strict';
const a = new Float64Array(1 << 20).map(() => Math.random());
const times = [];
for (let k = 0; k < 20; k++) {
  const t = performance.now();
  let s = 0;
  for (let j = 0; j < 60; j++) for (let i = 0; i < a.length; i++) s += a[i] * a[(i * 7) & (a.length - 1)]; // a strided read, as a kernel's
  times.push((performance.now() - t).toFixed(1));
}
console.log(times.join(' '));
