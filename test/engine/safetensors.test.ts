import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../../src/engine';

/** A file built by hand from the format's specification. */
function handBuilt(): Buffer {
  const header = JSON.stringify({
    __metadata__: { format: 'pt' },
    a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
    b: { dtype: 'I64', shape: [3], data_offsets: [16, 40] },
    c: { dtype: 'U8', shape: [2], data_offsets: [40, 42] },
  });
  const len = Buffer.alloc(8);
  len.writeUInt32LE(Buffer.byteLength(header), 0); // u64 little-endian, high word 0
  const data = Buffer.alloc(42);
  [1.5, -2, 3.25, 4].forEach((v, i) => data.writeFloatLE(v, i * 4));
  [7n, -1n, 2n ** 40n].forEach((v, i) => data.writeBigInt64LE(v, 16 + i * 8));
  data[40] = 9;
  data[41] = 255;
  return Buffer.concat([len, Buffer.from(header), data]);
}

describe('safetensors', () => {
  it('reads a file written byte by byte from the specification', () => {
    const { tensors, metadata } = T.decodeSafetensors(handBuilt());
    assert.deepEqual(metadata, { format: 'pt' });
    assert.deepEqual(tensors.a.shape, [2, 2]);
    assert.deepEqual(tensors.a.toArray(), [1.5, -2, 3.25, 4]);
    assert.equal(tensors.b.dtype, 'int64');
    assert.deepEqual(tensors.b.toArray(), [7, -1, 2 ** 40]);
    assert.deepEqual(tensors.c.toArray(), [9, 255]);
  });

  it('writes what the specification says: length, JSON header, little-endian data', () => {
    const buf = T.encodeSafetensors({ w: T.tensor([1, 2], [2]) }, { epoch: '3' });
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    assert.deepEqual(header.w, { dtype: 'F32', shape: [2], data_offsets: [0, 8] });
    assert.deepEqual(header.__metadata__, { epoch: '3' });
    assert.equal(buf.readFloatLE(8 + n), 1);
    assert.equal(buf.readFloatLE(12 + n), 2);
    assert.equal((8 + n) % 8, 0, 'data is 8-byte aligned');
  });

  it('round-trips a state dict through a file, atomically written', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-st-'));
    const file = path.join(dir, 'model.safetensors');
    T.manualSeed(9);
    const sd = { 'conv.weight': T.randn([4, 3, 3, 3]), 'bn.num_batches': T.tensor([12], [1], { dtype: 'int64' }), 'flag': T.tensor([1, 0], [2], { dtype: 'bool' }) };
    T.saveSafetensors(file, sd, { arch: 'test' });
    assert.deepEqual(fs.readdirSync(dir), ['model.safetensors'], 'no temp file left behind');
    const back = T.loadSafetensors(file);
    for (const [k, t] of Object.entries(sd)) {
      assert.equal(back.tensors[k].dtype, t.dtype);
      assert.deepEqual(back.tensors[k].shape, t.shape);
      assert.deepEqual(back.tensors[k].toArray(), t.toArray());
    }
    assert.equal(back.metadata.arch, 'test');
    fs.rmSync(dir, { recursive: true });
  });

  it('names the file and the problem for missing, truncated and inconsistent files', () => {
    assert.throws(() => T.loadSafetensors('/nonexistent/x.safetensors'), /\/nonexistent\/x.safetensors: no such file/);
    const good = handBuilt();
    assert.throws(() => T.decodeSafetensors(good.subarray(0, 20), 'cut.safetensors'), /cut.safetensors: header length \d+ exceeds the file/);
    assert.throws(() => T.decodeSafetensors(good.subarray(0, good.length - 4), 'short.safetensors'), /short.safetensors: tensor '.' offsets/);
    assert.throws(() => T.decodeSafetensors(Buffer.alloc(4)), /too short/);
  });
});
