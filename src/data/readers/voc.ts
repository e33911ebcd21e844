/**
 * PASCAL VOC 2012 in its official layout, under --data-root:
 *   VOCdevkit/VOC2012/JPEGImages/{name}.jpg
 *   VOCdevkit/VOC2012/SegmentationClass/{name}.png     (palette PNGs; 255 = border, ignored)
 *   VOCdevkit/VOC2012/ImageSets/Segmentation/{train,val,trainval}.txt
 * and the augmented set (SBD): SegmentationClassAug/{name}.png (grey ids) with
 * ImageSets/Segmentation/train_aug.txt, as --split train_aug.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IGNORE_INDEX, Sample, SampleFiles, SegmentationDataset, SplitImage } from '../dataset';
import { DatasetError, makeSample, readImage, readLabelIds, readPaletteLabels, requireDir } from './files';

export const VOC_CLASSES = ['background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor'];

/** VOC's colour map: index bits spread over the RGB channels (devkit's labelcolormap). */
export function vocColormap(n = 256): [number, number, number][] {
  return Array.from({ length: n }, (_, i) => {
    let [r, g, b, c] = [0, 0, 0, i];
    for (let j = 7; j >= 0; j--) {
      r |= ((c >> 0) & 1) << j;
      g |= ((c >> 1) & 1) << j;
      b |= ((c >> 2) & 1) << j;
      c >>= 3;
    }
    return [r, g, b];
  });
}

const COLORMAP = vocColormap();

function vocLabel(raw: number): number {
  if (raw === IGNORE_INDEX) return IGNORE_INDEX;
  return raw <= 20 ? raw : -1;
}

function vocBase(root: string): string {
  return requireDir(path.join(root, 'VOCdevkit', 'VOC2012'), 'VOCdevkit/VOC2012 under --data-root');
}

/** The names listed in ImageSets/Segmentation/{split}.txt (train_aug's lines are 'image label' paths). */
function splitNames(base: string, split: string): string[] {
  const list = path.join(base, 'ImageSets', 'Segmentation', `${split}.txt`);
  if (!fs.existsSync(list)) throw new DatasetError(`${list}: split list not found (expected one of train, val, trainval, train_aug; test for predict)`);
  const names = fs.readFileSync(list, 'utf8').split(/\r?\n/).map((l) => l.trim().split(/\s+/)[0]).filter(Boolean)
    .map((n) => path.basename(n, path.extname(n)));
  if (names.length === 0) throw new DatasetError(`${list}: empty split`);
  return names;
}

/** The images of a split (JPEGImages/{name}.jpg for each name of its list; test has no labels). */
export function vocImages(root: string, split: string): SplitImage[] {
  const base = vocBase(root);
  const dir = requireDir(path.join(base, 'JPEGImages'), 'VOCdevkit/VOC2012/JPEGImages');
  return splitNames(base, split).map((id) => ({ id, image: path.join(dir, `${id}.jpg`) }));
}

export class PascalVOC implements SegmentationDataset {
  readonly name = 'voc';
  readonly numClasses = 21;
  readonly classNames = VOC_CLASSES;
  readonly palette = COLORMAP.slice(0, 21);
  private readonly names: string[];
  private readonly base: string;
  private readonly aug: boolean;

  constructor(readonly root: string, readonly split: string) {
    this.base = vocBase(root);
    this.aug = split === 'train_aug';
    requireDir(path.join(this.base, 'JPEGImages'), 'VOCdevkit/VOC2012/JPEGImages');
    requireDir(path.join(this.base, this.aug ? 'SegmentationClassAug' : 'SegmentationClass'),
      `VOCdevkit/VOC2012/${this.aug ? 'SegmentationClassAug (the SBD-augmented labels)' : 'SegmentationClass'}`);
    this.names = splitNames(this.base, split);
  }

  get length(): number {
    return this.names.length;
  }

  files(index: number): SampleFiles {
    const name = this.names[index];
    return {
      id: name, image: path.join(this.base, 'JPEGImages', `${name}.jpg`),
      label: path.join(this.base, this.aug ? 'SegmentationClassAug' : 'SegmentationClass', `${name}.png`),
    };
  }

  async get(index: number): Promise<Sample> {
    const { id: name, image: imageFile, label: labelFile } = this.files(index);
    const [image, label] = await Promise.all([
      readImage(imageFile), this.aug ? readLabelIds(labelFile) : readPaletteLabels(labelFile, COLORMAP),
    ]);
    return makeSample(name, imageFile, image, labelFile, label, this.numClasses, vocLabel);
  }
}
