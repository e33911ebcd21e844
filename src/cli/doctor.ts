/**
 * `autodeeplab doctor`: what this installation runs on (libtorch, its BLAS,
 * its malloc, threads, devices) and how fast its matrix products are, with what to do
 * when they are slow.
 */
import { Command } from 'commander';
import * as T from '../engine';
import { blasBuildInfo, blasName, loadedBlasLibraries, mallocName, sgemmGflops } from '../engine/blas';
import { MAX_THREADS } from './options';

/** Below this sgemm rate on one thread the BLAS is the reference one or misconfigured (OpenBLAS gives 50-150 here). */
export const SLOW_SGEMM_GFLOPS = 20;

export interface DoctorReport {
  torchVersion: string;
  cudaDevices: number;
  blas: string;
  blasLibraries: string[];
  blasBuildInfo: string;
  malloc: string;
  threads: number;
  sgemmGflops: { oneThread: number; allThreads: number };
  warnings: string[];
}

export function doctorReport(): DoctorReport {
  const info = T.buildInfo();
  const libs = loadedBlasLibraries();
  const blas = blasName(libs);
  const report: DoctorReport = {
    torchVersion: info.torchVersion, cudaDevices: info.cudaDevices, blas, blasLibraries: libs, blasBuildInfo: blasBuildInfo(), malloc: mallocName(),
    threads: MAX_THREADS, sgemmGflops: { oneThread: sgemmGflops(1), allThreads: sgemmGflops(MAX_THREADS) }, warnings: [],
  };
  if (report.sgemmGflops.oneThread < SLOW_SGEMM_GFLOPS) {
    report.warnings.push(`matrix products run at ${report.sgemmGflops.oneThread.toFixed(1)} GFLOP/s on one thread (${blas} BLAS); ` +
      "`npm run setup` installs Debian's OpenBLAS (libopenblas0-openmp), which libtorch then uses through libblas.so.3");
  }
  return report;
}

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('libtorch, its BLAS and its matrix-product speed on this machine (exit 1 when the BLAS is slow)')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      const r = doctorReport();
      if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else {
        process.stdout.write([
          `libtorch ${r.torchVersion}, ${r.cudaDevices} CUDA device(s), ${r.threads} core(s)`,
          `BLAS: ${r.blas} (${r.blasLibraries.join(', ') || 'no separate library mapped'}; libtorch built with BLAS_INFO=${r.blasBuildInfo})`,
          `malloc: ${r.malloc}${r.malloc.startsWith('glibc') ? ' (bin/autodeeplab preloads tcmalloc where Debian\'s libtcmalloc-minimal4 is installed; npm run setup installs it)' : ''}`,
          `sgemm 1024x1024: ${r.sgemmGflops.oneThread.toFixed(1)} GFLOP/s on 1 thread, ${r.sgemmGflops.allThreads.toFixed(1)} on ${r.threads}`,
          ...r.warnings.map((w) => `warning: ${w}`),
        ].join('\n') + '\n');
      }
      if (r.warnings.length) process.exitCode = 1;
    });
}
