#!/usr/bin/env node
// Builds native/src/*.cc into build/autodeeplab.node against libtorch.
// libtorch is found through LIBTORCH or Debian's libtorch-dev. LIBTORCH may
// name an unpacked libtorch (libtorch/include, libtorch/lib), a PyTorch
// wheel's torch directory (site-packages/torch: the same include/ and lib/,
// CUDA libraries from the nvidia-* wheels next to it), or the site-packages
// directory that holds it. Prints one line saying which libtorch (path,
// version from torch/version.h) and whether CUDA (libtorch_cuda.so) it found.
// Rebuilds only when a source or the libtorch changed (--force: always;
// --which: print that line and stop).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

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

function main() {
  const torch = findLibtorch();
  const sources = fs.readdirSync(srcDir).filter((f) => /\.(cc|h)$/.test(f)).map((f) => path.join(srcDir, f));
  const withCuda = fs.existsSync(path.join(torch.lib, 'libtorch_cuda.so'));
  const version = torchVersion(torch);
  const abi = cxx11Abi(torch);
  process.stderr.write(`autodeeplab: libtorch ${version} at ${torch.root}, ${withCuda ? 'CUDA (libtorch_cuda.so found)' : 'CPU only (no libtorch_cuda.so)'}, C++ ABI _GLIBCXX_USE_CXX11_ABI=${abi}\n`);
  if (process.argv.includes('--which')) return; // only say which libtorch a build would use
  const stamp = JSON.stringify({ torch, version, abi, withCuda, node: process.versions.modules });
  const stampFile = path.join(outDir, 'build-stamp.json');
  if (fs.existsSync(out) && !process.argv.includes('--force')) {
    const builtAt = fs.statSync(out).mtimeMs;
    const stale = sources.some((f) => fs.statSync(f).mtimeMs > builtAt) ||
      fs.statSync(__filename).mtimeMs > builtAt ||
      !fs.existsSync(stampFile) || fs.readFileSync(stampFile, 'utf8') !== stamp;
    if (!stale) return;
  }
  fs.mkdirSync(outDir, { recursive: true });
  const addonApi = require('node-addon-api');
  const includes = [nodeIncludeDir(), addonApi.include.replace(/"/g, ''), ...torch.includes];
  const libs = ['-ltorch', '-ltorch_cpu', '-lc10'];
  // The CUDA kernels register themselves at load time: keep the library even
  // though no symbol of it is referenced.
  if (withCuda) libs.push('-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed');
  const args = [
    '-std=c++17', '-O2', '-fPIC', '-shared', '-fvisibility=hidden',
    '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    `-D_GLIBCXX_USE_CXX11_ABI=${abi}`,
    ...(withCuda ? ['-DADL_WITH_CUDA'] : []), // distributed.h: NCCL only in CUDA builds
    '-Wno-deprecated-declarations',
    ...includes.map((d) => `-I${d}`),
    ...sources.filter((f) => f.endsWith('.cc')),
    '-o', out + '.tmp',
    `-L${torch.lib}`, `-Wl,-rpath,${torch.lib}`, ...libs,
  ];
  process.stderr.write('autodeeplab: building the native addon...\n');
  const t0 = Date.now();
  try {
    execFileSync(process.env.CXX || 'g++', args, { stdio: 'inherit' });
  } catch {
    fail('compilation failed (see the compiler output above)');
  }
  fs.renameSync(out + '.tmp', out);
  fs.writeFileSync(stampFile, stamp);
  process.stderr.write(`autodeeplab: native addon built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

main();
