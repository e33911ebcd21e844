/**
 * A dataset of one's own, under --data-root:
 *   images/{name}.{png,jpg,...}      masks/{name}.png (grey class ids)
 *   classes.json  {"names": [...], "colors": [[r, g, b], ...], "ignore": 255}
 *   train.txt, val.txt (optional): names of each split, one per line. With one
 *   list, the other split is every image it does not name; with neither, val
 *   is a fixed held-out tenth (heldOut below) and train the rest, so that
 *   validation never scores training images.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DerivedSplit, IGNORE_INDEX } from '../dataset';
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

/**
 * The held-out split of a folder without lists: the tenth of the images (at
 * least one) first in the order of SHA-256(`seed:NAME`). A fixed seed, not
 * --seed: search, train, eval and check-data must all see the same split. The
 * order of a name does not depend on the other names, so adding images moves
 * few others between the splits.
 */
export const HELD_OUT = { fraction: 0.1, seed: 0 } as const;

function heldOut(names: string[]): Set<string> {
  const key = new Map(names.map((n) => [n, createHash('sha256').update(`${HELD_OUT.seed}:${n}`).digest('hex')]));
  const order = [...names].sort((a, b) => (key.get(a)! < key.get(b)! ? -1 : 1));
  return new Set(order.slice(0, Math.max(1, Math.round(HELD_OUT.fraction * names.length))));
}

/** Names of a train or val split that has no list: the complement of the other list, or a side of the held-out split. */
function derivedNames(root: string, split: 'train' | 'val', all: string[]): { names: string[]; derived: DerivedSplit } {
  const other = split === 'train' ? 'val' : 'train';
  const otherList = path.join(root, `${other}.txt`);
  if (fs.existsSync(otherList)) {
    const listed = new Set(readList(otherList));
    const names = all.filter((n) => !listed.has(n));
    if (names.length === 0) throw new DatasetError(`${otherList} names every image in ${root}, so '${split}' (the images it does not name) is empty; write ${split}.txt`);
    return { names, derived: { description: `${split}: the ${names.length} image(s) not in ${other}.txt (no ${split}.txt)`, record: { split, rule: `images not in ${other}.txt`, images: names.length } } };
  }
  if (all.length === 1) throw new DatasetError(`${root}: 1 image; a held-out val split needs at least 2 (or write train.txt and val.txt)`);
  const val = heldOut(all);
  const names = all.filter((n) => val.has(n) === (split === 'val'));
  const description = `no train.txt / val.txt: val is ${val.size} of the ${all.length} images held out (a fixed ${100 * HELD_OUT.fraction}%, seed ${HELD_OUT.seed}), train the other ${all.length - val.size}`;
  return { names, derived: { description, record: { split, rule: 'held out', ...HELD_OUT, train: all.length - val.size, val: val.size } } };
}

const readList = (file: string) => fs.readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);

export class FolderDataset extends PairedFilesDataset {
  readonly name = 'folder';
  readonly numClasses: number;
  readonly classNames: string[];
  readonly palette: [number, number, number][];
  private readonly ignore: number;
  protected readonly pairs: { image: string; label: string; id: string }[];
  readonly derivedSplit?: DerivedSplit;

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
    // Without a list only train and val exist (derived); any other name is a typo that would silently train on everything.
    if (!fs.existsSync(list) && split !== 'train' && split !== 'val') {
      throw new DatasetError(`--split: no split '${split}' in ${root} (expected ${split}.txt; without split lists the splits are train and val)`);
    }
    const byName = new Map(fs.readdirSync(images).filter((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase()))
      .map((f) => [path.basename(f, path.extname(f)), path.join(images, f)]));
    let names: string[];
    if (fs.existsSync(list)) names = readList(list);
    else ({ names, derived: this.derivedSplit } = derivedNames(root, split as 'train' | 'val', [...byName.keys()].sort()));
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
