/**
 * Two machines, simulated (issue 26): two network namespaces joined by veth
 * pairs (vA 10.231.0.1 <-> vB 10.231.0.2, wA 10.231.1.1 and 192.168.231.1 <->
 * wB 10.231.1.2 and 192.168.231.2),
 * each with its own /etc/hosts mapping the host name to 127.0.1.1, the
 * loopback trap of a common Debian install. Ranks are started by hand with
 * torchrun's variables, as on two hosts, and no GLOO_SOCKET_IFNAME. All
 * traffic stays inside these namespaces (nothing routes out of them); they,
 * and their /etc/netns files, are removed at the end, even on failure.
 * Skipped, saying why, where `ip` is missing or namespaces cannot be made.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../../src/engine';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const NETWORK = path.join(__dirname, '..', '..', 'src', 'run', 'network.js');
const WORKER = path.join(__dirname, '..', 'engine', 'dist_worker.js');
const [A, B] = [`adl${process.pid}a`, `adl${process.pid}b`];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-2hosts-'));
const started = new Set<ChildProcess>();
let skipReason: string | null = null;

const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });

/** The namespaces, links, addresses and routes; the reason to skip when they cannot be made. */
function makeHosts(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (ip('-V').error) return '`ip` is missing (Debian: apt-get install iproute2; scripts/setup.sh --with-browser installs it)';
  const steps = [
    ['netns', 'add', A], ['netns', 'add', B],
    ['link', 'add', 'vA', 'netns', A, 'type', 'veth', 'peer', 'name', 'vB', 'netns', B],
    ['link', 'add', 'wA', 'netns', A, 'type', 'veth', 'peer', 'name', 'wB', 'netns', B],
    ['-n', A, 'addr', 'add', '10.231.0.1/24', 'dev', 'vA'], ['-n', B, 'addr', 'add', '10.231.0.2/24', 'dev', 'vB'],
    ['-n', A, 'addr', 'add', '10.231.1.1/24', 'dev', 'wA'], ['-n', B, 'addr', 'add', '10.231.1.2/24', 'dev', 'wB'],
    // Addresses above 127.x too: Gloo's pair with the lower address connects, so only these expose a peer told 127.0.0.1.
    ['-n', A, 'addr', 'add', '192.168.231.1/24', 'dev', 'wA'], ['-n', B, 'addr', 'add', '192.168.231.2/24', 'dev', 'wB'],
    ...[[A, 'lo'], [A, 'vA'], [A, 'wA'], [B, 'lo'], [B, 'vB'], [B, 'wB']].map(([ns, dev]) => ['-n', ns, 'link', 'set', dev, 'up']),
    // Routes for the interface rule: a /22 and a /25 inside it, one /24 twice (metrics 5 and 1), and a default route, all to B.
    ['-n', A, 'route', 'add', '10.231.8.0/22', 'dev', 'wA'], ['-n', A, 'route', 'add', '10.231.8.128/25', 'via', '10.231.0.2', 'dev', 'vA'],
    ['-n', A, 'route', 'add', '10.231.12.0/24', 'via', '10.231.0.2', 'dev', 'vA', 'metric', '5'],
    ['-n', A, 'route', 'add', '10.231.12.0/24', 'via', '10.231.1.2', 'dev', 'wA', 'metric', '1'],
    ['-n', A, 'route', 'add', 'default', 'via', '10.231.1.2', 'dev', 'wA'],
  ];
  for (const step of steps) {
    const r = ip(...step);
    if (r.status !== 0) return `\`ip ${step.join(' ')}\` failed (${(r.stderr || String(r.error)).trim()}): network namespaces need root and a kernel with veth`;
  }
  hostsResolveTo('127.0.1.1', '127.0.1.1');
  return null;
}

/** `ip netns exec` mounts /etc/netns/NS/hosts over /etc/hosts: the address the host name resolves to in A and in B. */
function hostsResolveTo(inA: string, inB: string): void {
  for (const [ns, addr] of [[A, inA], [B, inB]]) {
    fs.mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    fs.writeFileSync(`/etc/netns/${ns}/hosts`, `127.0.0.1 localhost\n${addr} ${os.hostname()}\n`);
  }
}

before(() => { skipReason = makeHosts(); });
after(() => {
  started.forEach((c) => c.kill('SIGKILL'));
  for (const ns of [A, B]) {
    ip('netns', 'del', ns); // its veth ends go with it
    fs.rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
  }
  try { fs.rmdirSync('/etc/netns'); } catch { /* not empty: someone else's */ }
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Ran { code: number | null; stdout: string; stderr: string; ms: number }

/** node ARGS in namespace ns (the root one when null) with env added; killed after limitMs. */
function runIn(ns: string | null, args: string[], env: NodeJS.ProcessEnv, limitMs: number): Promise<Ran> {
  const t0 = Date.now();
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GLOO_SOCKET_IFNAME|AUTODEEPLAB_LAUNCHER_PID|RANK|WORLD_SIZE|LOCAL_RANK)$/.test(k)));
  const [cmd, argv] = ns ? ['ip', ['netns', 'exec', ns, process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv as string[], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let [stdout, stderr] = ['', ''];
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    started.delete(child);
    resolve({ code, stdout, stderr, ms: Date.now() - t0 });
  }));
}

/** Rank 0 in A and rank 1 in B (or the ranks' namespaces given), MASTER_ADDR 10.231.0.1 unless given. */
function acrossVeth(args: string[], port: number, o: { timeoutMs?: number; env?: NodeJS.ProcessEnv; master?: string; limitMs?: number } = {}): Promise<Ran[]> {
  return Promise.all([A, B].map((ns, rank) => runIn(ns, [CLI, ...args], {
    RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: o.master ?? '10.231.0.1', MASTER_PORT: String(port),
    AUTODEEPLAB_DIST_TIMEOUT_MS: String(o.timeoutMs ?? 60_000), ...o.env,
  }, o.limitMs ?? 180_000)));
}

function tensorsOf(file: string): Record<string, number[]> {
  const { tensors } = T.loadSafetensors(file);
  const out = Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, t.toArray()]));
  T.dispose(Object.values(tensors));
  return out;
}

const TRAIN = ['train', '--arch', 'autodeeplab-s', '--filter-multiplier', '2', '--crop', '40', '--batch-size', '2', '--iterations', '3',
  '--builtin-size', '8', '--builtin-image-size', '48', '--checkpoint-every', '0'];
const SEARCH = ['search', '--layers', '2', '--blocks', '2', '--filter-multiplier', '2', '--crop', '40', '--batch-size', '2', '--epochs', '2',
  '--arch-start-epoch', '1', '--builtin-size', '8', '--builtin-image-size', '48', '--checkpoint-every', '0'];

/** Rank 1 of a train job, alone in B, its master at `master`. */
const loneRank1 = (master: string, port: number, timeoutMs: number, out: string) => runIn(B, [CLI, ...TRAIN, '--threads', '1', '--out', path.join(dir, out)], {
  RANK: '1', WORLD_SIZE: '2', MASTER_ADDR: master, MASTER_PORT: String(port), AUTODEEPLAB_DIST_TIMEOUT_MS: String(timeoutMs),
}, 60_000);

describe('two hosts (network namespaces joined by veth pairs)', () => {
  it('the interface Gloo is given is the one `ip route get` names for MASTER_ADDR', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const cases: [string, string[]][] = [[A, ['10.231.0.2', '10.231.1.2', '10.231.9.5', '10.231.8.200', '10.231.8.100', '10.231.12.7', '10.99.0.1']], [B, ['10.231.0.1', '10.231.1.1']]];
    for (const [ns, addrs] of cases) {
      const code = `const n = require(${JSON.stringify(NETWORK)}); Promise.all(${JSON.stringify(addrs)}.map((a) => n.glooInterfaceFor(a, {})))
        .then((c) => console.log(JSON.stringify(c.map((x) => x && x.iface))))`;
      const r = await runIn(ns, ['-e', code], {}, 30_000);
      assert.equal(r.code, 0, r.stderr);
      const expected = addrs.map((a) => JSON.parse(ip('-n', ns, '-j', 'route', 'get', a).stdout)[0].dev);
      assert.deepEqual(JSON.parse(r.stdout), expected, `${ns}: ${addrs.join(', ')}`);
    }
  });

  it('train: 2 ranks across the veth pair reach the weights of 2 ranks on loopback; each says which interface it binds', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const [veth, local] = [path.join(dir, 'train-veth'), path.join(dir, 'train-lo')];
    const ranks = await acrossVeth([...TRAIN, '--threads', '1', '--out', veth], 29511);
    for (const r of ranks) assert.equal(r.code, 0, r.stderr);
    assert.match(ranks[0].stderr, /^rank 0: the host name '.*' resolves to 127\.0\.1\.1 \(loopback\): Gloo binds vA, the interface that holds MASTER_ADDR 10\.231\.0\.1/m);
    assert.match(ranks[1].stderr, /^rank 1: .*: Gloo binds vB, the interface whose route reaches MASTER_ADDR 10\.231\.0\.1 \(GLOO_SOCKET_IFNAME chooses another\)$/m);
    const lo = await runIn(null, [CLI, ...TRAIN, '--threads', '2', '--nproc', '2', '--out', local], {}, 180_000);
    assert.equal(lo.code, 0, lo.stderr);
    const [a, b] = [tensorsOf(path.join(veth, 'model.safetensors')), tensorsOf(path.join(local, 'model.safetensors'))];
    assert.ok(Object.keys(a).length > 10);
    assert.deepEqual(a, b);
  });

  it('search: 2 ranks across the veth pair reach the weights, alpha, beta and genotype of 2 ranks on loopback', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const [veth, local] = [path.join(dir, 'search-veth'), path.join(dir, 'search-lo')];
    const ranks = await acrossVeth([...SEARCH, '--threads', '1', '--out', veth], 29512);
    for (const r of ranks) assert.equal(r.code, 0, r.stderr);
    const lo = await runIn(null, [CLI, ...SEARCH, '--threads', '2', '--nproc', '2', '--out', local], {}, 180_000);
    assert.equal(lo.code, 0, lo.stderr);
    t.diagnostic(`2-rank search: ${Math.max(...ranks.map((r) => r.ms))} ms across the veth pair, ${lo.ms} ms on loopback (--nproc 2)`);
    assert.deepEqual(tensorsOf(path.join(veth, 'checkpoint.safetensors')), tensorsOf(path.join(local, 'checkpoint.safetensors')));
    const genotype = (d: string) => JSON.parse(fs.readFileSync(path.join(d, 'genotype.json'), 'utf8'));
    assert.deepEqual(genotype(veth), genotype(local));
  });

  it('Kubernetes\' PyTorchJob: the master pod\'s MASTER_ADDR=localhost, host names resolving to each pod\'s address: the job joins', async (t) => {
    if (skipReason) return t.skip(skipReason);
    hostsResolveTo('192.168.231.1', '192.168.231.2');
    try {
      const ranks = await Promise.all([[A, 'localhost'], [B, '192.168.231.1']].map(([ns, master], rank) => runIn(ns, [WORKER, 'collectives'], {
        RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: master, MASTER_PORT: '29516', // no LOCAL_RANK, LOCAL_WORLD_SIZE: as the operator sets them
      }, 60_000)));
      for (const [rank, r] of ranks.entries()) assert.equal(r.code, 0, `rank ${rank}: ${r.stdout}${r.stderr}`);
      assert.deepEqual(JSON.parse(ranks[0].stdout).a, JSON.parse(ranks[1].stdout).a);
    } finally {
      hostsResolveTo('127.0.1.1', '127.0.1.1');
    }
  });

  it('a rank whose master is unreachable fails within the timeout, naming address, port, rank, backend, timeout and what to check', async (t) => {
    if (skipReason) return t.skip(skipReason);
    // Nobody holds 10.231.0.3: B's ARP requests on vB go unanswered.
    const r1 = await loneRank1('10.231.0.3', 29513, 4000, 'unreachable');
    assert.equal(r1.code, 1, r1.stderr);
    assert.match(r1.stderr, /rank 1 of 2 could not join the job at 10\.231\.0\.3:29513 \(gloo, timeout 4000 ms\)/);
    assert.match(r1.stderr, /check: rank 0 is running and serves 10\.231\.0\.3:29513 .*every rank reaches it .*firewall.*MASTER_ADDR, MASTER_PORT.*Gloo uses interface vB.*GLOO_SOCKET_IFNAME/);
    assert.ok(r1.ms < 4000 + 10_000, `took ${r1.ms} ms`);
  });

  it('ranks whose peers were told a loopback address (GLOO_SOCKET_IFNAME=lo) both fail within the timeout: joins are bounded', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const ranks = await acrossVeth([...TRAIN, '--threads', '1', '--out', path.join(dir, 'trapped')], 29514, { timeoutMs: 4000, env: { GLOO_SOCKET_IFNAME: 'lo' }, limitMs: 60_000 });
    for (const [rank, r] of ranks.entries()) {
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`rank ${rank} of 2 could not join the job at 10\\.231\\.0\\.1:29514 \\(gloo, timeout 4000 ms\\)`));
      assert.ok(r.ms < 4000 + 10_000, `rank ${rank} took ${r.ms} ms`);
    }
  });

  it('no interface but loopback reaches MASTER_ADDR: exit 2 at once, naming the loopback resolution and GLOO_SOCKET_IFNAME', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const r = await loneRank1('10.232.0.1', 29515, 60_000, 'noroute');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /the host name '.*' resolves to 127\.0\.1\.1 \(loopback\), .*no interface but loopback reaches MASTER_ADDR 10\.232\.0\.1: set GLOO_SOCKET_IFNAME/);
    assert.ok(r.ms < 30_000, `took ${r.ms} ms`);
  });
});
