/**
 * State dicts as safetensors files (https://github.com/huggingface/safetensors):
 * 8-byte little-endian header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {str: str}},
 * then the little-endian tensor bytes. PyTorch users load these directly.
 * Files are written atomically (temp file, fsync, rename).
 */
import * as fs from 'node:fs';
import { BYTES_PER_ELEMENT, DType } from './dtype';
import { Tensor } from './tensor';
import { native } from './native';
import { scalarTypeOf } from './dtype';
import { getDefaultDevice } from './runtime';
import { writeFileAtomic } from '../util/files';

const CODE: Record<DType, string> = {
  float32: 'F32', float64: 'F64', float16: 'F16', int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};
const BY_CODE = new Map(Object.entries(CODE).map(([k, v]) => [v, k as DType]));

export type StateDict = Record<string, Tensor>;
export type Metadata = Record<string, string>;

/** Serialises tensors (sorted by name) and string metadata to bytes. */
export function encodeSafetensors(tensors: StateDict, metadata: Metadata = {}): Buffer {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`safetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    if (!(t instanceof Tensor)) throw new TypeError(`safetensors: '${name}' is not a Tensor`);
    const bytes = Buffer.from(native.toBuffer(t.id));
    header[name] = { dtype: CODE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // align the data to 8 bytes
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json, 'utf8'), ...chunks]);
}

/** Parses safetensors bytes; `source` names the file in error messages. */
export function decodeSafetensors(buf: Buffer, source = 'safetensors data'): { tensors: StateDict; metadata: Metadata } {
  if (buf.length < 8) throw new Error(`${source}: file is ${buf.length} bytes, too short for a safetensors header`);
  const n = Number(buf.readBigUInt64LE(0));
  if (n > buf.length - 8) throw new Error(`${source}: header length ${n} exceeds the file (${buf.length} bytes); truncated?`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  const data = buf.subarray(8 + n);
  const metadata = (header.__metadata__ ?? {}) as Metadata;
  const tensors: StateDict = {};
  try {
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const { dtype, shape, data_offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
      const dt = BY_CODE.get(dtype);
      if (!dt) throw new Error(`${source}: tensor '${name}' has unsupported dtype '${dtype}'`);
      const [begin, end] = data_offsets ?? [];
      const numel = shape.reduce((a, b) => a * b, 1);
      if (!(begin >= 0 && end <= data.length && end - begin === numel * BYTES_PER_ELEMENT[dt])) {
        throw new Error(`${source}: tensor '${name}' offsets [${begin}, ${end}] do not fit shape [${shape}] ${dtype} in ${data.length} data bytes`);
      }
      const copy = new Uint8Array(end - begin); // aligned copy for the typed view
      copy.set(data.subarray(begin, end));
      tensors[name] = new Tensor(native.fromBuffer(copy.buffer, 0, shape, scalarTypeOf(dt), getDefaultDevice()));
    }
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw e;
  }
  return { tensors, metadata };
}

export function saveSafetensors(file: string, tensors: StateDict, metadata: Metadata = {}): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

export function loadSafetensors(file: string): { tensors: StateDict; metadata: Metadata } {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file (expected a .safetensors state dict)`);
  return decodeSafetensors(fs.readFileSync(file), file);
}

