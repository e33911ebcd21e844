/** `serve`'s static server: cross-origin isolation headers, MIME types, and no file outside the folder. */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createStaticServer, listen, resolveInside } from '../../src/deploy/web/server';

/** The raw status line of a request (fetch would normalise `..` away before sending it). */
function rawStatus(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let text = '';
    s.on('data', (d) => { text += d; }).on('end', () => resolve(text.split('\r\n')[0])).on('error', reject);
  });
}

describe('serve', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-serve-'));
  const site = path.join(root, 'site');
  let server: http.Server;
  let base = '';
  before(async () => {
    fs.mkdirSync(path.join(site, 'ort'), { recursive: true });
    fs.writeFileSync(path.join(root, 'secret.txt'), 'outside');
    fs.writeFileSync(path.join(site, 'index.html'), '<!doctype html>');
    for (const f of ['ort/a.wasm', 'ort/b.mjs', 'model.onnx', 'model.json']) fs.writeFileSync(path.join(site, f), 'x');
    server = createStaticServer(site);
    base = `http://127.0.0.1:${await listen(server, 0)}`;
  });
  after(() => {
    server.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('sends the MIME types and the cross-origin isolation headers the page needs', async () => {
    const expected: Record<string, string> = { '/': 'text/html', '/ort/a.wasm': 'application/wasm', '/ort/b.mjs': 'text/javascript', '/model.onnx': 'application/octet-stream', '/model.json': 'application/json' };
    for (const [p, type] of Object.entries(expected)) {
      const r = await fetch(base + p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers.get('content-type')!.split(';')[0], type, p);
      assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp');
    }
    assert.equal((await fetch(`${base}/missing.js`)).status, 404);
  });

  it('refuses paths outside the folder, encoded or not', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/ort/..%2f..%2fsecret.txt', '/%2e%2e%5csecret.txt']) {
      const line = await rawStatus(Number(new URL(base).port), p);
      assert.match(line, / (403|404) /, `${p}: ${line}`);
      assert.ok(!line.includes(' 200 '), p);
    }
    assert.equal(resolveInside(site, '/../secret.txt'), path.join(site, 'secret.txt')); // clamped to the root, which has none
    assert.equal(resolveInside(site, '/%E0%A4%A'), null); // malformed escape
    assert.equal(resolveInside(site, '/a%00b'), null);
  });
});
