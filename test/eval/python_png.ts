/**
 * An oracle for the PNGs that predict writes: /usr/bin/python3 with numpy and
 * a PNG decoder written here from the specification (no PIL on this machine),
 * so that a file is read as the benchmarks' scripts read it with
 * np.array(Image.open(f)): grey values, or palette indices (not colours).
 */
import { spawnSync } from 'node:child_process';

/** read_png(path) -> (colour type, palette as [(r, g, b)] or None, values (H, W) uint8); 8-bit grey or palette only. */
export const PY_READ_PNG = `
import struct, zlib
import numpy as np

def read_png(path):
    data = open(path, 'rb').read()
    assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n', path + ': not a PNG'
    pos, idat, plte = 8, b'', None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b'IHDR':
            w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
        elif kind == b'PLTE':
            plte = [tuple(body[i:i + 3]) for i in range(0, n, 3)]
        elif kind == b'IDAT':
            idat += body
    assert depth == 8 and interlace == 0 and ctype in (0, 3), '%s: depth %d, colour type %d' % (path, depth, ctype)
    raw = zlib.decompress(idat)
    prev, rows = bytearray(w), []
    for y in range(h):  # one byte per pixel: the filters' left neighbour is x - 1
        f, line = raw[y * (w + 1)], bytearray(raw[y * (w + 1) + 1:(y + 1) * (w + 1)])
        for x in range(w):
            a = line[x - 1] if x > 0 else 0
            b = prev[x]
            c = prev[x - 1] if x > 0 else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return ctype, plte, np.array(rows, dtype=np.uint8).reshape(h, w)
`;

/** Why python3 with numpy cannot run here, or null when it can. */
export function pythonMissing(): string | null {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  return r.status === 0 ? null : 'needs /usr/bin/python3 with numpy';
}

/** Runs PY_READ_PNG + code with args (sys.argv[1:]); its stdout parsed as JSON. */
export function runPython(code: string, ...args: string[]): unknown {
  const r = spawnSync('/usr/bin/python3', ['-c', `${PY_READ_PNG}\n${code}`, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}
