/**
 * A rank that cannot join says what to check (issue 22, item 7): c10d's own
 * message can be as bare as "Stop_waiting response is expected" (another
 * program answering on MASTER_PORT), so initProcessGroup adds the address,
 * port, rank, backend, timeout and the usual causes. Real processes
 * (dist_worker.js) against a real socket on 127.0.0.1.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { rankEnv } from '../../src/run/launch';

const WORKER = path.join(__dirname, 'dist_worker.js');

/** node dist_worker.js init TIMEOUT with env; its JSON line, exit code and time. */
function join(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; error: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [WORKER, 'init', String(timeoutMs)], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 30_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, error: (JSON.parse(out.trim().split('\n').pop() || '{}') as { error?: string }).error ?? out, ms: Date.now() - t0 });
  }));
}

/** A server on 127.0.0.1 that answers every query with 8 bytes of 7s: not a TCPStore. */
async function impostor(): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', () => s.write(Buffer.alloc(8, 7)));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

describe('distributed: a rank that cannot join says what to check', () => {
  it('another program on MASTER_PORT ("Stop_waiting response is expected"): rank, address, port, backend, timeout, and what to check', async () => {
    const other = await impostor();
    try {
      const r = await join(rankEnv(process.env, 1, 2, other.port, 2), 3000);
      assert.equal(r.code, 1, r.error);
      assert.match(r.error, new RegExp(`^initProcessGroup: rank 1 of 2 could not join the job at 127\\.0\\.0\\.1:${other.port} \\(gloo, timeout 3000 ms\\): distInit: `));
      assert.match(r.error, new RegExp(`\\ncheck: rank 0 is running and serves 127\\.0\\.0\\.1:${other.port} \\(no other program or earlier job does\\), and every rank reaches it ` +
        '\\(a firewall may block it, and the ports Gloo picks\\); every rank has the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE; ' +
        'Gloo uses address 127\\.0\\.0\\.1 and tells the other ranks its address: GLOO_SOCKET_IFNAME names the interface the other machines reach$'));
      assert.ok(r.ms < 3000 + 15_000, `took ${r.ms} ms`);
    } finally {
      other.close();
    }
  });

  it('rank 0 whose MASTER_PORT is taken is told to check that the port is free', async () => {
    const other = await impostor();
    try {
      const r = await join(rankEnv(process.env, 0, 2, other.port, 2), 3000);
      assert.equal(r.code, 1, r.error);
      assert.match(r.error, new RegExp(`rank 0 of 2 could not join the job at 127\\.0\\.0\\.1:${other.port} .*\\ncheck: MASTER_PORT ${other.port} is free on this machine, and every rank reaches`));
    } finally {
      other.close();
    }
  });
});
