/**
 * Cityscapes in its official layout:
 *   leftImg8bit/{train,val,test}/{city}/{name}_leftImg8bit.png
 *   gtFine/{train,val,test}/{city}/{name}_gtFine_labelIds.png      (or gtCoarse/... _gtCoarse_labelIds.png)
 * labelIds (0..33) map to the 19 train ids; everything else is 255 (ignored).
 */
import * as path from 'node:path';
import { IGNORE_INDEX, SplitImage } from '../dataset';
import { DatasetError, findFiles, PairedFilesDataset, requireDir } from './files';

export interface CityscapesLabel { name: string; id: number; trainId: number; color: [number, number, number] }

/**
 * cityscapesScripts' labels.py (name, id, trainId, color; trainId 255: not
 * evaluated). Training reads label ids through it and `predict --format
 * cityscapes` writes them back, as the benchmark server and
 * evalPixelLevelSemanticLabeling.py read predictions.
 */
export const CITYSCAPES_LABELS: readonly CityscapesLabel[] = ([
  ['unlabeled', 0, 255, [0, 0, 0]], ['ego vehicle', 1, 255, [0, 0, 0]], ['rectification border', 2, 255, [0, 0, 0]],
  ['out of roi', 3, 255, [0, 0, 0]], ['static', 4, 255, [0, 0, 0]], ['dynamic', 5, 255, [111, 74, 0]],
  ['ground', 6, 255, [81, 0, 81]], ['road', 7, 0, [128, 64, 128]], ['sidewalk', 8, 1, [244, 35, 232]],
  ['parking', 9, 255, [250, 170, 160]], ['rail track', 10, 255, [230, 150, 140]], ['building', 11, 2, [70, 70, 70]],
  ['wall', 12, 3, [102, 102, 156]], ['fence', 13, 4, [190, 153, 153]], ['guard rail', 14, 255, [180, 165, 180]],
  ['bridge', 15, 255, [150, 100, 100]], ['tunnel', 16, 255, [150, 120, 90]], ['pole', 17, 5, [153, 153, 153]],
  ['polegroup', 18, 255, [153, 153, 153]], ['traffic light', 19, 6, [250, 170, 30]], ['traffic sign', 20, 7, [220, 220, 0]],
  ['vegetation', 21, 8, [107, 142, 35]], ['terrain', 22, 9, [152, 251, 152]], ['sky', 23, 10, [70, 130, 180]],
  ['person', 24, 11, [220, 20, 60]], ['rider', 25, 12, [255, 0, 0]], ['car', 26, 13, [0, 0, 142]],
  ['truck', 27, 14, [0, 0, 70]], ['bus', 28, 15, [0, 60, 100]], ['caravan', 29, 255, [0, 0, 90]],
  ['trailer', 30, 255, [0, 0, 110]], ['train', 31, 16, [0, 80, 100]], ['motorcycle', 32, 17, [0, 0, 230]],
  ['bicycle', 33, 18, [119, 11, 32]], ['license plate', -1, -1, [0, 0, 142]],
] as const).map(([name, id, trainId, color]) => ({ name, id, trainId, color: [...color] }));

/** labelId -> trainId, for the labels that are evaluated. */
const TRAIN_ID = new Map(CITYSCAPES_LABELS.filter((l) => l.trainId >= 0 && l.trainId !== IGNORE_INDEX).map((l) => [l.id, l.trainId]));
/** trainId (0..18) -> labelId. */
export const CITYSCAPES_LABEL_IDS: readonly number[] = [...TRAIN_ID.entries()].sort(([, a], [, b]) => a - b).map(([id]) => id);

export const CITYSCAPES_CLASSES = ['road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign', 'vegetation',
  'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle'];
export const CITYSCAPES_PALETTE: [number, number, number][] = [[128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156], [190, 153, 153], [153, 153, 153],
  [250, 170, 30], [220, 220, 0], [107, 142, 35], [152, 251, 152], [70, 130, 180], [220, 20, 60], [255, 0, 0], [0, 0, 142], [0, 0, 70],
  [0, 60, 100], [0, 80, 100], [0, 0, 230], [119, 11, 32]];

export function cityscapesTrainId(labelId: number): number {
  if (labelId > 33) return -1; // not a Cityscapes label id: reported as out of range
  return TRAIN_ID.get(labelId) ?? IGNORE_INDEX;
}

/** The images of a split, leftImg8bit/{split}/{city}/*_leftImg8bit.png, with ids {city}/{name}. */
export function cityscapesImages(root: string, split: string): SplitImage[] {
  const images = requireDir(path.join(root, 'leftImg8bit', split), `Cityscapes' leftImg8bit/${split}/{city}/*_leftImg8bit.png under --data-root`);
  const found = findFiles(images, '_leftImg8bit.png');
  if (found.length === 0) throw new DatasetError(`${images}: empty split (expected {city}/*_leftImg8bit.png files)`);
  return found.map((image) => ({ image, id: path.relative(images, image).replace(/_leftImg8bit\.png$/, '') }));
}

export class Cityscapes extends PairedFilesDataset {
  readonly name = 'cityscapes';
  readonly numClasses = 19;
  readonly classNames = CITYSCAPES_CLASSES;
  readonly palette = CITYSCAPES_PALETTE;
  protected readonly pairs: { image: string; label: string; id: string }[];

  constructor(readonly root: string, readonly split: string, coarse = false) {
    super();
    const images = cityscapesImages(root, split);
    const gt = coarse ? 'gtCoarse' : 'gtFine';
    requireDir(path.join(root, gt, split), `${gt}/${split}/{city}/*_${gt}_labelIds.png under --data-root`);
    this.pairs = images.map(({ image, id }) => ({ image, label: path.join(root, gt, split, `${id}_${gt}_labelIds.png`), id }));
  }

  protected mapLabel(raw: number): number {
    return cityscapesTrainId(raw);
  }
}
