/**
 * Which BLAS libtorch's matrix products run on, and how fast: Debian's
 * libtorch links libblas.so.3, which Debian's alternatives point at the
 * reference BLAS, many times slower than OpenBLAS, unless OpenBLAS is
 * installed (docs/performance.md#blas). `autodeeplab doctor` prints both.
 */
import * as fs from 'node:fs';
import { native } from './native';
import { matmul } from './ops/linalg';
import { randn } from './ops/creation';
import { dispose } from './scope';
import { Tensor } from './tensor';

/** The shared libraries this process has mapped whose path matches pattern, sorted. */
function mappedLibraries(pattern: RegExp): string[] {
  let maps = '';
  try {
    maps = fs.readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return [];
  }
  const libs = new Set<string>();
  for (const line of maps.split('\n')) {
    const file = line.slice(line.indexOf('/'));
    if (line.includes('/') && pattern.test(file)) libs.add(file);
  }
  return [...libs].sort();
}

/** The BLAS shared libraries this process has mapped (libtorch loads its BLAS with the addon). */
export function loadedBlasLibraries(): string[] {
  return mappedLibraries(/\/(lib(open)?blas|libblis|libmkl_rt|libmkl_core|libcblas)[^/]*\.so/);
}

/** The malloc this process runs on: tcmalloc where bin/node-tcmalloc preloaded it (docs/performance.md#the-allocator). */
export function mallocName(): string {
  const preloaded = mappedLibraries(/\/lib(tcmalloc|jemalloc)[^/]*\.so/);
  if (!preloaded.length) return 'glibc malloc';
  return `${/tcmalloc/.test(preloaded[0]) ? 'tcmalloc' : 'jemalloc'} (${preloaded[0]})`;
}

/**
 * A name for the BLAS behind those libraries: 'OpenBLAS (openmp)', 'reference', 'MKL', 'BLIS' or 'unknown'.
 * libblas.so.3 decides when it is mapped (OpenBLAS' LAPACK may be mapped beside a reference BLAS).
 */
export function blasName(libs: string[] = loadedBlasLibraries()): string {
  const blas = libs.find((l) => /\/libblas\.so/.test(l));
  const all = blas ?? libs.join(' ');
  if (/openblas-openmp/.test(all)) return 'OpenBLAS (openmp)';
  if (/openblas-pthread/.test(all)) return 'OpenBLAS (pthread)';
  if (/openblas/.test(all)) return 'OpenBLAS';
  if (/mkl/.test(all)) return 'MKL';
  if (/blis/.test(all)) return 'BLIS';
  if (/\/blas\/libblas\.so/.test(all)) return 'reference';
  return libs.length ? 'unknown' : 'none found (statically linked, e.g. a PyTorch wheel with MKL)';
}

/** libtorch's own build line for BLAS (BLAS_INFO=...). */
export function blasBuildInfo(): string {
  return /BLAS_INFO=([^,\s]+)/.exec(native.buildInfo().config)?.[1] ?? 'unknown';
}

/** Single-precision n x n matrix product GFLOP/s on `threads` threads: the best of `rounds` timed products. */
export function sgemmGflops(threads: number, n = 1024, rounds = 5): number {
  const before = native.numThreads();
  native.setNumThreads(threads);
  const [a, b] = [randn([n, n]), randn([n, n])];
  let best = Infinity;
  try {
    dispose(matmul(a, b)); // first call: the BLAS's own set-up
    for (let i = 0; i < rounds; i++) {
      const t0 = process.hrtime.bigint();
      const c: Tensor = matmul(a, b);
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
      dispose(c);
    }
  } finally {
    dispose([a, b]);
    native.setNumThreads(before);
  }
  return (2 * n ** 3) / best / 1e9;
}
