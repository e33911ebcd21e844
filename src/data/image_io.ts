/** Image files in and out, through sharp (libvips): decoding names the file on failure. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { BadInputError } from '../util/errors';
import { writeFileAtomic } from '../util/files';
import { palettePng } from './png';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.tif', '.tiff'];

export interface RgbImage {
  width: number;
  height: number;
  /** (H, W, 3) interleaved 0..255 */
  data: Uint8Array;
}

/** An image file that is missing or cannot be decoded (exit code 2 where it stops a command). */
export class ImageError extends BadInputError {}

/** Decodes any image file to 8-bit RGB; errors (ImageError) name the file and what was expected. */
export async function readRgb(file: string): Promise<RgbImage> {
  if (!fs.existsSync(file)) throw new ImageError(`${file}: no such image`);
  try {
    const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw new ImageError(`${file}: cannot be decoded as an image (${(e as Error).message})`);
  }
}

/** Encodes in memory, then writes complete or not at all (a WriteError naming the file). */
export async function writeRgbPng(file: string, img: RgbImage): Promise<void> {
  const png = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
  writeFileAtomic(file, png);
}

/** An 8-bit grey PNG of values (H*W) (class or label ids), complete or not at all. */
export async function writeGreyPng(file: string, width: number, height: number, values: Uint8Array): Promise<void> {
  // b-w: sharp would otherwise store one raw channel as RGB, and the benchmarks' scripts read (H, W, 3) arrays.
  const png = await sharp(Buffer.from(values), { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  writeFileAtomic(file, png);
}

/** A palette PNG whose pixels are indices (H*W) into palette, complete or not at all. */
export function writePalettePng(file: string, width: number, height: number, indices: Uint8Array, palette: readonly (readonly number[])[]): void {
  writeFileAtomic(file, palettePng(width, height, indices, palette));
}

/** Image files of a folder (sorted), or the file itself. */
export function listImages(input: string): string[] {
  if (!fs.existsSync(input)) throw new BadInputError(`--input: ${input} does not exist`);
  if (fs.statSync(input).isFile()) return [input];
  const files = fs.readdirSync(input).filter((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase())).sort();
  if (files.length === 0) throw new BadInputError(`--input: ${input} holds no images (${IMAGE_EXTENSIONS.join(', ')})`);
  return files.map((f) => path.join(input, f));
}
