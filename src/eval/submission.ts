/**
 * What `predict` writes for each image, in the formats that the benchmarks'
 * servers and scripts read (the paper's Tables 4 and 6 are test-server
 * results). For an image named NAME, under --out:
 *   colours     NAME_labels.png (class colours) and NAME_overlay.png
 *   cityscapes  {city}_{seq}_{frame}_labelIds.png: Cityscapes label ids (train id -> label id, labels.py),
 *               which evalPixelLevelSemanticLabeling.py finds by the pattern {city}_{seq}_{frame}*.png
 *   voc         results/VOC2012/Segmentation/comp5_test_cls/NAME.png: class indices with VOC's palette
 *   ade20k      NAME.png: class index + 1 as grey values (0 is "other", never predicted)
 * Only the colours format writes overlays: a submission folder holds predictions only.
 */
import * as path from 'node:path';
import { RgbImage, writeGreyPng, writePalettePng, writeRgbPng } from '../data/image_io';
import { ADE20K_CLASSES } from '../data/readers/ade20k';
import { CITYSCAPES_CLASSES, CITYSCAPES_LABEL_IDS } from '../data/readers/cityscapes';
import { VOC_CLASSES, vocColormap } from '../data/readers/voc';
import { BadInputError } from '../util/errors';

export const PREDICT_FORMATS = ['colours', 'cityscapes', 'voc', 'ade20k'] as const;
export type PredictFormat = (typeof PREDICT_FORMATS)[number];

/** One image's prediction. */
export interface Prediction {
  image: RgbImage;
  /** Class ids (H*W), 0..classes-1. */
  classes: Int32Array;
  /** The model's class colours and their opacity over the image (colours format). */
  palette: readonly (readonly number[])[];
  opacity: number;
}

interface Format {
  /** The benchmark's classes in its order, which the model must predict (null: any model). */
  classes: readonly string[] | null;
  benchmark: string;
  /** The files written for image NAME, relative to --out (the first one holds the classes). */
  files(name: string): string[];
  write(files: string[], p: Prediction): Promise<void>;
}

/** {city}_{seq}_{frame} at the start of a Cityscapes file name (cityscapesScripts' CsFile fields). */
const CITYSCAPES_NAME = /^[a-z]+_\d{6}_\d{6}(?=_|$)/;

/** Each pixel's class mapped through `value` (class -> 0..255). */
const mapped = (classes: Int32Array, value: (k: number) => number) => Uint8Array.from(classes, value);

const FORMATS: Record<PredictFormat, Format> = {
  colours: {
    classes: null,
    benchmark: '',
    files: (name) => [`${name}_labels.png`, `${name}_overlay.png`],
    async write([labels, overlay], { image, classes, palette, opacity }) {
      const colours = new Uint8Array(image.data.length);
      const blend = new Uint8Array(image.data.length);
      classes.forEach((k, p) => {
        for (let c = 0; c < 3; c++) {
          colours[p * 3 + c] = palette[k][c];
          blend[p * 3 + c] = Math.round((1 - opacity) * image.data[p * 3 + c] + opacity * palette[k][c]);
        }
      });
      await writeRgbPng(labels, { ...image, data: colours });
      await writeRgbPng(overlay, { ...image, data: blend });
    },
  },
  cityscapes: {
    classes: CITYSCAPES_CLASSES,
    benchmark: "Cityscapes' 19 train ids",
    files: (name) => [`${CITYSCAPES_NAME.exec(name)![0]}_labelIds.png`],
    write: ([file], { image, classes }) => writeGreyPng(file, image.width, image.height, mapped(classes, (k) => CITYSCAPES_LABEL_IDS[k])),
  },
  voc: {
    classes: VOC_CLASSES,
    benchmark: "PASCAL VOC's 21 classes",
    files: (name) => [path.join('results', 'VOC2012', 'Segmentation', 'comp5_test_cls', `${name}.png`)],
    write: async ([file], { image, classes }) => writePalettePng(file, image.width, image.height, mapped(classes, (k) => k), vocColormap()),
  },
  ade20k: {
    classes: ADE20K_CLASSES,
    benchmark: "ADE20K's 150 classes",
    files: (name) => [`${name}.png`],
    write: ([file], { image, classes }) => writeGreyPng(file, image.width, image.height, mapped(classes, (k) => k + 1)),
  },
};

/**
 * The files (under out) that each input image's prediction goes to. Refused
 * before any work: a name the format cannot carry, or two images whose
 * predictions would land in one file (one would silently replace the other).
 */
export function predictionFiles(format: PredictFormat, out: string, images: readonly string[]): string[][] {
  const owner = new Map<string, string>();
  return images.map((image) => {
    const name = path.parse(image).name;
    if (format === 'cityscapes' && !CITYSCAPES_NAME.test(name)) {
      throw new BadInputError(`${image}: --format cityscapes needs Cityscapes file names, {city}_{seq}_{frame}_leftImg8bit.png `
        + '(e.g. aachen_000000_000019_leftImg8bit.png): the benchmark matches predictions to its images by them');
    }
    const files = FORMATS[format].files(name).map((f) => path.join(out, f));
    const other = owner.get(files[0]);
    if (other !== undefined) throw new BadInputError(`${image}: its prediction ${files[0]} would replace that of ${other} (two inputs, one name)`);
    owner.set(files[0], image);
    return files;
  });
}

/** Refuses a model whose classes are not the format's benchmark's, in its order: its ids would be wrong. */
export function checkFormatClasses(format: PredictFormat, classNames: readonly string[], checkpoint: string): void {
  const { classes, benchmark } = FORMATS[format];
  if (!classes) return;
  const k = classNames.length === classes.length ? classNames.findIndex((c, i) => c !== classes[i]) : -1;
  if (classNames.length === classes.length && k < 0) return;
  const why = k < 0 ? `predicts ${classNames.length} classes` : `has class ${k} '${classNames[k]}' where the benchmark has '${classes[k]}'`;
  throw new BadInputError(`--format ${format}: the model ${checkpoint} ${why}, not ${benchmark} (train it with --dataset ${format})`);
}

/** Writes one image's prediction in `format` to `files` (from predictionFiles), each file complete or not at all. */
export function writePrediction(format: PredictFormat, files: string[], p: Prediction): Promise<void> {
  return FORMATS[format].write(files, p);
}
