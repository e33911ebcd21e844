/** Image files in and out, through sharp (libvips): decoding names the file on failure. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { BadInputError } from '../util/errors';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.tif', '.tiff'];

export interface RgbImage {
  width: number;
  height: number;
  /** (H, W, 3) interleaved 0..255 */
  data: Uint8Array;
}

/** Decodes any image file to 8-bit RGB; errors name the file and what was expected. */
export async function readRgb(file: string): Promise<RgbImage> {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such image`);
  try {
    const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw new Error(`${file}: cannot be decoded as an image (${(e as Error).message})`);
  }
}

export async function writeRgbPng(file: string, img: RgbImage): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(file);
}

/** Image files of a folder (sorted), or the file itself. */
export function listImages(input: string): string[] {
  if (!fs.existsSync(input)) throw new BadInputError(`--input: ${input} does not exist`);
  if (fs.statSync(input).isFile()) return [input];
  const files = fs.readdirSync(input).filter((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase())).sort();
  if (files.length === 0) throw new BadInputError(`--input: ${input} holds no images (${IMAGE_EXTENSIONS.join(', ')})`);
  return files.map((f) => path.join(input, f));
}
