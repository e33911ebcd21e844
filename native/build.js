#!/usr/bin/env node
// Builds native/src/*.cc into build/autodeeplab.node against libtorch.
// libtorch is found through LIBTORCH (an unpacked libtorch, CPU or CUDA) or
// Debian's libtorch-dev. Rebuilds only when a source or the libtorch changed.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const srcDir = path.join(__dirname, 'src');
const outDir = path.join(root, 'build');
const out = path.join(outDir, 'autodeeplab.node');

function findLibtorch() {
  const env = process.env.LIBTORCH;
  if (env) {
    const inc = path.join(env, 'include');
    const lib = path.join(env, 'lib');
    if (!fs.existsSync(path.join(inc, 'torch/csrc/api/include'))) {
      fail(`LIBTORCH=${env} has no include/torch/csrc/api/include; point it at an unpacked libtorch`);
    }
    return { includes: [inc, path.join(inc, 'torch/csrc/api/include')], lib };
  }
  const debInc = '/usr/include/torch/csrc/api/include';
  const debLib = '/usr/lib/x86_64-linux-gnu';
  const archLib = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  for (const lib of [debLib, archLib]) {
    if (fs.existsSync(debInc) && fs.existsSync(path.join(lib, 'libtorch.so'))) {
      return { includes: [debInc], lib };
    }
  }
  fail('libtorch not found: run `apt-get install -y libtorch-dev` (Debian) or set LIBTORCH=/path/to/libtorch');
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
  const cudaLib = path.join(torch.lib, 'libtorch_cuda.so');
  const withCuda = fs.existsSync(cudaLib);
  const stamp = JSON.stringify({ torch, withCuda, node: process.versions.modules });
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
    '-D_GLIBCXX_USE_CXX11_ABI=' + (process.env.LIBTORCH_CXX11_ABI ?? '1'),
    '-Wno-deprecated-declarations',
    ...includes.map((d) => `-I${d}`),
    ...sources.filter((f) => f.endsWith('.cc')),
    '-o', out + '.tmp',
    `-L${torch.lib}`, `-Wl,-rpath,${torch.lib}`, ...libs,
  ];
  process.stderr.write(`autodeeplab: building native addon against ${torch.lib}${withCuda ? ' (CUDA)' : ''}...\n`);
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
