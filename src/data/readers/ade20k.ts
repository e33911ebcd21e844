/**
 * ADE20K (SceneParsing, ADEChallengeData2016) in its official layout:
 *   ADEChallengeData2016/images/{training,validation}/*.jpg
 *   ADEChallengeData2016/annotations/{training,validation}/*.png
 *   release_test/testing/*.jpg                             (the challenge's test images, --split test)
 * Annotation 0 is "other" (ignored); 1..150 are the classes, shifted to 0..149.
 */
import * as path from 'node:path';
import { IGNORE_INDEX, SplitImage } from '../dataset';
import { vocColormap } from './voc';
import { DatasetError, findFiles, PairedFilesDataset, requireDir } from './files';

/** The 150 classes of the SceneParsing benchmark (objectInfo150), in label order 1..150. */
export const ADE20K_CLASSES = [
  'wall', 'building', 'sky', 'floor', 'tree', 'ceiling', 'road', 'bed', 'windowpane', 'grass',
  'cabinet', 'sidewalk', 'person', 'earth', 'door', 'table', 'mountain', 'plant', 'curtain', 'chair',
  'car', 'water', 'painting', 'sofa', 'shelf', 'house', 'sea', 'mirror', 'rug', 'field',
  'armchair', 'seat', 'fence', 'desk', 'rock', 'wardrobe', 'lamp', 'bathtub', 'railing', 'cushion',
  'base', 'box', 'column', 'signboard', 'chest of drawers', 'counter', 'sand', 'sink', 'skyscraper', 'fireplace',
  'refrigerator', 'grandstand', 'path', 'stairs', 'runway', 'case', 'pool table', 'pillow', 'screen door', 'stairway',
  'river', 'bridge', 'bookcase', 'blind', 'coffee table', 'toilet', 'flower', 'book', 'hill', 'bench',
  'countertop', 'stove', 'palm', 'kitchen island', 'computer', 'swivel chair', 'boat', 'bar', 'arcade machine', 'hovel',
  'bus', 'towel', 'light', 'truck', 'tower', 'chandelier', 'awning', 'streetlight', 'booth', 'television receiver',
  'airplane', 'dirt track', 'apparel', 'pole', 'land', 'bannister', 'escalator', 'ottoman', 'bottle', 'buffet',
  'poster', 'stage', 'van', 'ship', 'fountain', 'conveyer belt', 'canopy', 'washer', 'plaything', 'swimming pool',
  'stool', 'barrel', 'basket', 'waterfall', 'tent', 'bag', 'minibike', 'cradle', 'oven', 'ball',
  'food', 'step', 'tank', 'trade name', 'microwave', 'pot', 'animal', 'bicycle', 'lake', 'dishwasher',
  'screen', 'blanket', 'sculpture', 'hood', 'sconce', 'vase', 'traffic light', 'tray', 'ashcan', 'fan',
  'pier', 'crt screen', 'plate', 'monitor', 'bulletin board', 'shower', 'radiator', 'glass', 'clock', 'flag',
];

export function ade20kLabel(raw: number): number {
  if (raw === 0) return IGNORE_INDEX;
  return raw <= 150 ? raw - 1 : -1;
}

const splitFolder = (split: string) => (split === 'train' ? 'training' : split === 'val' ? 'validation' : split);

/**
 * The images of a split: ADEChallengeData2016/images/{training,validation}/*.jpg,
 * and for test the challenge's release_test/testing/*.jpg (no annotations).
 */
export function ade20kImages(root: string, split: string): SplitImage[] {
  let images: string;
  if (split === 'test') images = requireDir(path.join(root, 'release_test', 'testing'), 'release_test/testing/*.jpg (the test images) under --data-root');
  else {
    const base = requireDir(path.join(root, 'ADEChallengeData2016'), 'ADEChallengeData2016 under --data-root');
    images = requireDir(path.join(base, 'images', splitFolder(split)), `ADEChallengeData2016/images/${splitFolder(split)}/*.jpg`);
  }
  const found = findFiles(images, '.jpg');
  if (found.length === 0) throw new DatasetError(`${images}: empty split (expected *.jpg files)`);
  return found.map((image) => ({ image, id: path.basename(image, '.jpg') }));
}

export class ADE20K extends PairedFilesDataset {
  readonly name = 'ade20k';
  readonly numClasses = 150;
  readonly classNames = ADE20K_CLASSES;
  readonly palette = vocColormap(151).slice(1);
  protected readonly pairs: { image: string; label: string; id: string }[];

  constructor(readonly root: string, readonly split: string) {
    super();
    const dir = splitFolder(split);
    const images = ade20kImages(root, split);
    const annotations = requireDir(path.join(root, 'ADEChallengeData2016', 'annotations', dir), `ADEChallengeData2016/annotations/${dir}/*.png`);
    this.pairs = images.map(({ image, id }) => ({ image, label: path.join(annotations, `${id}.png`), id }));
  }

  protected mapLabel(raw: number): number {
    return ade20kLabel(raw);
  }
}
