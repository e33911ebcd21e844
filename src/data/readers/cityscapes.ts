/**
 * Cityscapes in its official layout:
 *   leftImg8bit/{train,val,test}/{city}/{name}_leftImg8bit.png
 *   gtFine/{train,val,test}/{city}/{name}_gtFine_labelIds.png      (or gtCoarse/... _gtCoarse_labelIds.png)
 * labelIds (0..33) map to the 19 train ids; everything else is 255 (ignored).
 */
import * as path from 'node:path';
import { IGNORE_INDEX } from '../dataset';
import { DatasetError, findFiles, PairedFilesDataset, requireDir } from './files';

/** labelId -> trainId (cityscapesScripts' labels.py). */
const TRAIN_ID: Record<number, number> = {
  7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
};
export const CITYSCAPES_CLASSES = ['road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign', 'vegetation',
  'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle'];
const PALETTE: [number, number, number][] = [[128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156], [190, 153, 153], [153, 153, 153],
  [250, 170, 30], [220, 220, 0], [107, 142, 35], [152, 251, 152], [70, 130, 180], [220, 20, 60], [255, 0, 0], [0, 0, 142], [0, 0, 70],
  [0, 60, 100], [0, 80, 100], [0, 0, 230], [119, 11, 32]];

export function cityscapesTrainId(labelId: number): number {
  if (labelId > 33) return -1; // not a Cityscapes label id: reported as out of range
  return TRAIN_ID[labelId] ?? IGNORE_INDEX;
}

export class Cityscapes extends PairedFilesDataset {
  readonly name = 'cityscapes';
  readonly numClasses = 19;
  readonly classNames = CITYSCAPES_CLASSES;
  readonly palette = PALETTE;
  protected readonly pairs: { image: string; label: string; id: string }[];

  constructor(readonly root: string, readonly split: string, coarse = false) {
    super();
    const images = requireDir(path.join(root, 'leftImg8bit', split), `Cityscapes' leftImg8bit/${split}/{city}/*_leftImg8bit.png under --data-root`);
    const gt = coarse ? 'gtCoarse' : 'gtFine';
    requireDir(path.join(root, gt, split), `${gt}/${split}/{city}/*_${gt}_labelIds.png under --data-root`);
    this.pairs = findFiles(images, '_leftImg8bit.png').map((image) => {
      const rel = path.relative(images, image);
      const id = rel.replace(/_leftImg8bit\.png$/, '');
      return { image, label: path.join(root, gt, split, `${id}_${gt}_labelIds.png`), id };
    });
    if (this.pairs.length === 0) throw new DatasetError(`${images}: empty split (expected {city}/*_leftImg8bit.png files)`);
  }

  protected mapLabel(raw: number): number {
    return cityscapesTrainId(raw);
  }
}
