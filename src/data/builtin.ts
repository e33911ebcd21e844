/**
 * The built-in dataset: generated scenes that need no download, are
 * deterministic by seed, come in any size, and reward architecture. Classes
 * depend on context at several scales:
 *
 *   0 background
 *   1 square region        } same texture inside: only the region's outline,
 *   2 disc region          } far from most of its pixels, tells them apart
 *   3 spot in a square     } same look: only the surrounding region
 *   4 spot in a disc       } tells them apart
 *   5 spot on background
 *
 * A one-pixel band around each region is 255 (ignored), like VOC's borders.
 * A per-pixel classifier can find spots and regions but not tell square from
 * disc, so it stays far below a network with context.
 */
import { Rng } from '../util/random';
import { IGNORE_INDEX, Sample, SegmentationDataset } from './dataset';

export const BUILTIN_CLASSES = ['background', 'square', 'disc', 'spot-in-square', 'spot-in-disc', 'spot'] as const;
const PALETTE: [number, number, number][] = [[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48]];

export interface BuiltinOptions {
  /** Number of scenes. */
  size: number;
  /** Side of each square image in pixels. */
  imageSize: number;
  seed: number;
}

/** A 32-bit hash of several integers (stateless per-sample randomness). */
export function hashSeed(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

/** Spot radius as a fraction of the image side. */
const SPOT_RADIUS = [0.045, 0.07] as const;
/** Region radius (half side of a square) as a fraction of the image side: large enough that a square's corners show at output stride 4. */
const REGION_RADIUS = [0.2, 0.3] as const;

interface Region { shape: 'square' | 'disc'; cy: number; cx: number; r: number }

function inside(reg: Region, y: number, x: number, grow = 0): boolean {
  const r = reg.r + grow;
  return reg.shape === 'square' ? Math.max(Math.abs(y - reg.cy), Math.abs(x - reg.cx)) <= r : Math.hypot(y - reg.cy, x - reg.cx) <= r;
}

export function generateScene(seed: number, index: number, size: number): Sample {
  const rng = new Rng(hashSeed(seed, index, 0x5eed));
  const image = new Uint8Array(size * size * 3);
  const label = new Uint8Array(size * size);
  // Background: a gentle colour gradient with noise.
  const bg = [rng.uniform(40, 120), rng.uniform(40, 120), rng.uniform(40, 120)];
  const grad = [rng.uniform(-40, 40), rng.uniform(-40, 40)];
  // One texture for every region in the scene: stripes at a random angle and period.
  const angle = rng.uniform(0, Math.PI);
  const period = rng.uniform(3, 6);
  const texA = [rng.uniform(150, 255), rng.uniform(150, 255), rng.uniform(150, 255)];
  const texB = texA.map((v) => v * rng.uniform(0.55, 0.75));
  const regions: Region[] = [];
  const nRegions = 1 + rng.int(2);
  for (let i = 0; i < nRegions; i++) {
    const r = size * rng.uniform(REGION_RADIUS[0], REGION_RADIUS[1]);
    regions.push({ shape: rng.next() < 0.5 ? 'square' : 'disc', r, cy: rng.uniform(r, size - r), cx: rng.uniform(r, size - r) });
  }
  const spotColor = [rng.uniform(0, 60), rng.uniform(180, 255), rng.uniform(200, 255)];
  const spots: { y: number; x: number; r: number }[] = [];
  const nSpots = 3 + rng.int(5);
  for (let i = 0; i < nSpots; i++) {
    // Half the spots fall inside regions, so both spot classes are common.
    const reg = regions[rng.int(regions.length)];
    // Spots span a few output-stride-4 pixels (at 64 px, 3-5 px radius): small enough that their class needs the surroundings.
    const r = Math.max(1.5, size * rng.uniform(SPOT_RADIUS[0], SPOT_RADIUS[1]));
    // Spots in a region stay well inside it: the region's outline, which tells its class, stays visible.
    const [y, x] = rng.next() < 0.6
      ? [reg.cy + rng.uniform(-0.45, 0.45) * reg.r, reg.cx + rng.uniform(-0.45, 0.45) * reg.r]
      : [rng.uniform(0, size), rng.uniform(0, size)];
    spots.push({ y, x, r });
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      let cls = 0;
      let col = bg.map((v, c) => v + (c < 2 ? grad[c] * (c === 0 ? y : x) / size : 0));
      let owner: Region | null = null;
      for (const reg of regions) if (inside(reg, y, x)) owner = reg;
      const band = !owner && regions.some((reg) => inside(reg, y, x, 1.0));
      if (owner) {
        cls = owner.shape === 'square' ? 1 : 2;
        const t = (y * Math.sin(angle) + x * Math.cos(angle)) / period;
        col = (Math.floor(t) % 2 === 0 ? texA : texB).slice();
      }
      for (const s of spots) {
        if (Math.hypot(y - s.y, x - s.x) <= s.r) {
          cls = owner ? (owner.shape === 'square' ? 3 : 4) : 5;
          col = spotColor.slice();
        }
      }
      label[p] = band && cls === 0 ? IGNORE_INDEX : cls;
      for (let c = 0; c < 3; c++) {
        image[p * 3 + c] = Math.max(0, Math.min(255, Math.round(col[c] + rng.uniform(-12, 12))));
      }
    }
  }
  return { id: `builtin-${seed}-${index}`, width: size, height: size, image, label };
}

export class BuiltinScenes implements SegmentationDataset {
  readonly name = 'builtin';
  readonly numClasses = BUILTIN_CLASSES.length;
  readonly classNames = BUILTIN_CLASSES;
  readonly palette = PALETTE;
  readonly length: number;

  constructor(readonly o: BuiltinOptions) {
    if (!Number.isInteger(o.size) || o.size < 1) throw new RangeError(`builtin dataset: size must be a positive integer, got ${o.size}`);
    if (!Number.isInteger(o.imageSize) || o.imageSize < 16) throw new RangeError(`builtin dataset: imageSize must be >= 16, got ${o.imageSize}`);
    this.length = o.size;
  }

  async get(index: number): Promise<Sample> {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`builtin dataset: index ${index} is out of range 0..${this.length - 1}`);
    }
    return generateScene(this.o.seed, index, this.o.imageSize);
  }
}
