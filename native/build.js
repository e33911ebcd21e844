#!/usr/bin/env node
// Builds native/src/*.cc into build/autodeeplab.node against libtorch.
// libtorch is found through LIBTORCH or Debian's libtorch-dev. LIBTORCH may
// name an unpacked libtorch (libtorch/include, libtorch/lib), a PyTorch
// wheel's torch directory (site-packages/torch: the same include/ and lib/,
// CUDA libraries from the nvidia-* wheels next to it), or the site-packages
// directory that holds it. Prints one line saying which libtorch (path,
// version from torch/version.h) and whether CUDA (libtorch_cuda.so) it found.
// Compiles each .cc in its own process, as many at once as there are cores
// (AUTODEEPLAB_BUILD_JOBS to choose), into build/obj/, then links; rebuilds
// only the objects whose source or any header changed, everything when the
// libtorch or this script changed (--force: always; --which: print that line
// and stop).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const os = require('node:os');
const { spawn } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const srcDir = path.join(__dirname, 'src');
const outDir = path.join(root, 'build');
const out = path.join(outDir, 'autodeeplab.node');
const API_INCLUDE = 'torch/csrc/api/include';

/** A libtorch installation rooted at dir (include/ and lib/ side by side), or null. */
function layoutAt(dir) {
  const inc = path.join(dir, 'include');
  const lib = path.join(dir, 'lib');
  if (!fs.existsSync(path.join(inc, API_INCLUDE, 'torch/version.h')) || !fs.existsSync(path.join(lib, 'libtorch.so'))) return null;
  return { root: dir, includes: [inc, path.join(inc, API_INCLUDE)], lib, cmake: path.join(dir, 'share/cmake/Torch/TorchConfig.cmake') };
}

function findLibtorch() {
  const env = process.env.LIBTORCH;
  if (env) {
    const dir = path.resolve(env);
    // An unpacked libtorch or a wheel's torch/ directory; else a folder that holds torch/ (site-packages).
    const found = layoutAt(dir) ?? layoutAt(path.join(dir, 'torch'));
    if (!found) {
      fail(`LIBTORCH=${env} holds no libtorch: expected include/${API_INCLUDE}/torch/version.h and lib/libtorch.so ` +
        'in it (an unpacked libtorch, or a PyTorch wheel\'s torch directory, e.g. $(python3 -c "import torch, os; print(os.path.dirname(torch.__file__))"))');
    }
    return found;
  }
  const debInc = '/usr/include';
  for (const lib of [...new Set([`/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, '/usr/lib/x86_64-linux-gnu'])]) {
    if (fs.existsSync(path.join(debInc, API_INCLUDE, 'torch/version.h')) && fs.existsSync(path.join(lib, 'libtorch.so'))) {
      return { root: lib, includes: [path.join(debInc, API_INCLUDE)], lib, cmake: path.join(lib, 'cmake/Torch/TorchConfig.cmake') };
    }
  }
  fail('libtorch not found: run `apt-get install -y libtorch-dev` (Debian) or set LIBTORCH=/path/to/libtorch ' +
    '(an unpacked libtorch or a PyTorch wheel\'s torch directory)');
}

/** "2.11.0" from torch/version.h (the macros the C++ side guards with; recent releases define them in torch/headeronly/version.h). */
function torchVersion(torch) {
  const text = torch.includes.flatMap((dir) => ['torch/version.h', 'torch/headeronly/version.h'].map((f) => path.join(dir, f)))
    .filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  const part = (name) => (text.match(new RegExp(`#define TORCH_VERSION_${name}\\s+(\\d+)`)) ?? [])[1] ?? '?';
  return `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
}

/**
 * The libstdc++ ABI libtorch was built with: LIBTORCH_CXX11_ABI when set, else
 * what its TorchConfig.cmake says (-D_GLIBCXX_USE_CXX11_ABI=N; PyTorch wheels
 * before 2.7 used 0), else whether libc10.so exports std::__cxx11 symbols.
 */
function cxx11Abi(torch) {
  if (process.env.LIBTORCH_CXX11_ABI) return process.env.LIBTORCH_CXX11_ABI;
  if (fs.existsSync(torch.cmake)) {
    const m = fs.readFileSync(torch.cmake, 'utf8').match(/_GLIBCXX_USE_CXX11_ABI=([01])/);
    if (m) return m[1];
  }
  const c10 = path.join(torch.lib, 'libc10.so');
  if (fs.existsSync(c10)) return fs.readFileSync(c10).includes('St7__cxx11') ? '1' : '0';
  return '1';
}

function fail(message) {
  process.stderr.write(`autodeeplab native build: ${message}\n`);
  process.exit(1);
}

function nodeIncludeDir() {
  const candidates = [
    process.env.NODE_INCLUDE_DIR,
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  if (!found) fail(`Node headers (node_api.h) not found in ${candidates.join(', ')}; set NODE_INCLUDE_DIR`);
  return found;
}

/** Runs the compiler on args; resolves when it exits 0, rejects otherwise (its output goes to our stderr). */
function compile(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.CXX || 'g++', args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
}

/** Runs tasks (functions returning promises) with at most `jobs` at a time; after a failure starts no more, waits for those running, then throws. */
async function inParallel(tasks, jobs) {
  let next = 0;
  let failed = null;
  const worker = async () => {
    while (next < tasks.length && !failed) {
      try {
        await tasks[next++]();
      } catch (e) {
        failed = e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
  if (failed) throw failed;
}

async function main() {
  const torch = findLibtorch();
  const sources = fs.readdirSync(srcDir).filter((f) => /\.(cc|h)$/.test(f)).map((f) => path.join(srcDir, f));
  const withCuda = fs.existsSync(path.join(torch.lib, 'libtorch_cuda.so'));
  const version = torchVersion(torch);
  const abi = cxx11Abi(torch);
  process.stderr.write(`autodeeplab: libtorch ${version} at ${torch.root}, ${withCuda ? 'CUDA (libtorch_cuda.so found)' : 'CPU only (no libtorch_cuda.so)'}, C++ ABI _GLIBCXX_USE_CXX11_ABI=${abi}\n`);
  if (process.argv.includes('--which')) return; // only say which libtorch a build would use
  // What every object depends on besides its sources: the libtorch, the ABI, Node's ABI, and this script (its flags).
  const script = crypto.createHash('sha256').update(fs.readFileSync(__filename)).digest('hex');
  const stamp = JSON.stringify({ torch, version, abi, withCuda, node: process.versions.modules, script });
  const stampFile = path.join(outDir, 'build-stamp.json');
  const objDir = path.join(outDir, 'obj');
  const force = process.argv.includes('--force') || !fs.existsSync(stampFile) || fs.readFileSync(stampFile, 'utf8') !== stamp;
  if (force) {
    fs.rmSync(stampFile, { force: true }); // written again only when the whole build succeeds
    fs.rmSync(objDir, { recursive: true, force: true });
  }
  fs.mkdirSync(objDir, { recursive: true });
  // One object per .cc, rebuilt when it, or any header here, is newer than the object: each file
  // compiles in its own process, as many at once as there are cores (libtorch's headers make each slow).
  const headersAt = Math.max(0, ...sources.filter((f) => f.endsWith('.h')).map((f) => fs.statSync(f).mtimeMs));
  const units = sources.filter((f) => f.endsWith('.cc')).map((cc) => ({ cc, obj: path.join(objDir, path.basename(cc, '.cc') + '.o') }));
  const stale = units.filter(({ cc, obj }) => !fs.existsSync(obj) || fs.statSync(obj).mtimeMs < Math.max(fs.statSync(cc).mtimeMs, headersAt));
  for (const f of fs.readdirSync(objDir)) if (f.endsWith('.o') && !units.some((u) => path.basename(u.obj) === f)) fs.rmSync(path.join(objDir, f)); // a removed source
  if (!stale.length && fs.existsSync(out) && units.every(({ obj }) => fs.statSync(obj).mtimeMs <= fs.statSync(out).mtimeMs)) return;
  const addonApi = require('node-addon-api');
  const includes = [nodeIncludeDir(), addonApi.include.replace(/"/g, ''), ...torch.includes];
  const libs = ['-ltorch', '-ltorch_cpu', '-lc10'];
  // The CUDA kernels register themselves at load time: keep the library even
  // though no symbol of it is referenced.
  if (withCuda) libs.push('-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed');
  const flags = [
    '-std=c++17', '-O2', '-fPIC', '-fvisibility=hidden',
    // No fused multiply-adds behind the loops' backs: the depthwise layouts are bit-identical only if each sums alike.
    '-ffp-contract=off',
    '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    `-D_GLIBCXX_USE_CXX11_ABI=${abi}`,
    ...(withCuda ? ['-DADL_WITH_CUDA'] : []), // distributed.h: NCCL only in CUDA builds
    '-Wno-deprecated-declarations',
    ...includes.map((d) => `-I${d}`),
  ];
  const jobs = Math.max(1, Number(process.env.AUTODEEPLAB_BUILD_JOBS) || (os.availableParallelism?.() ?? os.cpus().length));
  process.stderr.write(`autodeeplab: building the native addon (${stale.length} of ${units.length} files, ${jobs} at a time)...\n`);
  const t0 = Date.now();
  try {
    const tmp = (f) => `${f}.${process.pid}.tmp`; // two builds at once never write one file
    await inParallel(stale.map(({ cc, obj }) => () => compile([...flags, '-c', cc, '-o', tmp(obj)]).then(() => fs.renameSync(tmp(obj), obj))), jobs);
    await compile(['-shared', ...units.map((u) => u.obj), '-o', tmp(out), `-L${torch.lib}`, `-Wl,-rpath,${torch.lib}`, ...libs]);
    fs.renameSync(tmp(out), out);
  } catch {
    fail('compilation failed (see the compiler output above)');
  }
  fs.writeFileSync(stampFile, stamp);
  process.stderr.write(`autodeeplab: native addon built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

main().catch((e) => fail(e.message));
