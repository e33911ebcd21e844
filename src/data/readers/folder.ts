/**
 * A dataset of one's own, under --data-root:
 *   images/{name}.{png,jpg,...}      masks/{name}.png (grey class ids)
 *   classes.json  {"names": [...], "colors": [[r, g, b], ...], "ignore": 255}
 *   train.txt, val.txt (optional): names of each split, one per line; without
 *   them every image is in every split.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IGNORE_INDEX } from '../dataset';
import { IMAGE_EXTENSIONS } from '../image_io';
import { DatasetError, PairedFilesDataset, requireDir } from './files';

interface ClassesFile { names: string[]; colors?: [number, number, number][]; ignore?: number }

function readClasses(file: string): ClassesFile {
  if (!fs.existsSync(file)) throw new DatasetError(`${file}: not found (expected {"names": [...], "colors": [[r,g,b], ...], "ignore": 255})`);
  let c: ClassesFile;
  try {
    c = JSON.parse(fs.readFileSync(file, 'utf8')) as ClassesFile;
  } catch (e) {
    throw new DatasetError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(c.names) || c.names.length < 2 || c.names.some((n) => typeof n !== 'string')) {
    throw new DatasetError(`${file}: field 'names' must list at least two class names`);
  }
  if (c.colors !== undefined && (!Array.isArray(c.colors) || c.colors.length !== c.names.length)) {
    throw new DatasetError(`${file}: field 'colors' must give one [r, g, b] per class (${c.names.length})`);
  }
  if (c.ignore !== undefined && !(Number.isInteger(c.ignore) && c.ignore >= 0 && c.ignore <= 255)) {
    throw new DatasetError(`${file}: field 'ignore' must be an integer 0..255`);
  }
  // Masks are 8-bit: class ids 0..names-1 and the ignore value must all be distinct bytes.
  if (c.names.length > 255) throw new DatasetError(`${file}: ${c.names.length} class names, but 8-bit masks hold at most 255 classes besides the ignore value`);
  const ignore = c.ignore ?? 255;
  if (ignore < c.names.length) {
    throw new DatasetError(`${file}: field 'ignore' (${ignore}) is a class id (classes are 0..${c.names.length - 1}); use a value >= ${c.names.length}`);
  }
  const seen = new Set<string>();
  for (const n of c.names) {
    if (seen.has(n)) throw new DatasetError(`${file}: class name '${n}' appears twice (names must be distinct)`);
    seen.add(n);
  }
  const byte = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255;
  const badColor = c.colors?.findIndex((rgb) => !Array.isArray(rgb) || rgb.length !== 3 || !rgb.every(byte)) ?? -1;
  if (badColor >= 0) throw new DatasetError(`${file}: colors[${badColor}] must be [r, g, b] with integers 0..255, got ${JSON.stringify(c.colors![badColor])}`);
  return c;
}

export class FolderDataset extends PairedFilesDataset {
  readonly name = 'folder';
  readonly numClasses: number;
  readonly classNames: string[];
  readonly palette: [number, number, number][];
  private readonly ignore: number;
  protected readonly pairs: { image: string; label: string; id: string }[];

  constructor(readonly root: string, readonly split: string) {
    super();
    const images = requireDir(path.join(root, 'images'), 'images/ and masks/ folders and classes.json under --data-root');
    const masks = requireDir(path.join(root, 'masks'), 'masks/{name}.png next to images/');
    const classes = readClasses(path.join(root, 'classes.json'));
    this.classNames = classes.names;
    this.numClasses = classes.names.length;
    this.palette = classes.colors ?? Array.from({ length: this.numClasses }, (_, k) => [(k * 67) % 256, (k * 151) % 256, (k * 211) % 256]);
    this.ignore = classes.ignore ?? IGNORE_INDEX;
    const list = path.join(root, `${split}.txt`);
    // Without a list every image is in both splits; any other name is a typo that would silently train on everything.
    if (!fs.existsSync(list) && split !== 'train' && split !== 'val') {
      throw new DatasetError(`--split: no split '${split}' in ${root} (expected ${split}.txt; without split lists the splits are train and val)`);
    }
    const byName = new Map(fs.readdirSync(images).filter((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase()))
      .map((f) => [path.basename(f, path.extname(f)), path.join(images, f)]));
    const names = fs.existsSync(list)
      ? fs.readFileSync(list, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
      : [...byName.keys()].sort();
    this.pairs = names.map((id) => {
      const image = byName.get(id);
      if (!image) throw new DatasetError(`${list}: '${id}' has no image in ${images}`);
      return { image, label: path.join(masks, `${id}.png`), id };
    });
    if (this.pairs.length === 0) throw new DatasetError(`${images}: empty split '${split}'`);
  }

  protected mapLabel(raw: number): number {
    return raw === this.ignore ? IGNORE_INDEX : raw;
  }
}
