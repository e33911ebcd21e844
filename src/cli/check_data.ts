/** `autodeeplab check-data`: decodes every image and mask of a dataset and says what is wrong, before a long run finds it. */
import { Command } from 'commander';
import { SampleFiles, SegmentationDataset } from '../data/dataset';
import { inspectDataset } from '../data/preflight';
import { DatasetError } from '../data/readers/files';
import { DATASETS, openDataset } from '../data/registry';
import { progress } from './progress';

interface CheckFlags { dataset: string; dataRoot?: string; split?: string; coarse?: boolean }

const key = (f: SampleFiles) => `${f.image}\n${f.label}`;

/**
 * Decodes one split fully. A sample whose files were checked under an earlier
 * split is not decoded again; its verdict (in `known`, by files) is reused.
 */
async function checkSplit(ds: SegmentationDataset, split: string, known: Map<string, string | null>): Promise<{ bad: string[]; fresh: number }> {
  // One bar over both passes (headers, then decoding).
  const bar = progress(`check-data ${split}`, 2 * ds.length);
  let found: Awaited<ReturnType<typeof inspectDataset>>;
  try {
    found = await inspectDataset(ds, {
      full: true, progressEveryMs: 200, skip: (f) => known.has(key(f)),
      onProgress: (done, n, phase) => bar.update(phase === 'headers' ? done : n + done),
    });
    bar.update(2 * ds.length); // both passes done (the last report may lag, or be skipped for a quick split)
  } finally {
    bar.stop(); // the bar's line ends before a message or the summary
  }
  const message = new Map(found.map((b) => [b.index, b.message]));
  let fresh = 0;
  const bad: string[] = [];
  for (let i = 0; i < ds.length; i++) {
    const k = key(ds.files!(i)!);
    if (!known.has(k)) {
      fresh++;
      known.set(k, message.get(i) ?? null);
    }
    const m = known.get(k);
    if (m) bad.push(m);
  }
  return { bad, fresh };
}

export function checkDataCommand(): Command {
  return new Command('check-data')
    .description('decode every image and mask of a dataset and list what is wrong (exit 0 clean, 2 if anything is bad)')
    .requiredOption('--dataset <name>', `dataset: ${DATASETS.filter((d) => d !== 'builtin').join(', ')}`)
    .option('--data-root <dir>', 'dataset folder (official layouts; see README)')
    .option('--split <list>', 'comma-separated splits to check (default: train,val, those present)')
    .option('--coarse', 'cityscapes: gtCoarse labels')
    .addHelpText('after', `
Examples:
  $ autodeeplab check-data --dataset folder --data-root data/mine
  $ autodeeplab check-data --dataset voc --data-root /data/voc --split train_aug,val
  $ autodeeplab check-data --dataset cityscapes --data-root /data/cityscapes --split val

Checks that every listed file exists and decodes, that each mask has its image's
size and that every label is a class id or the ignore value. search, train and
eval run a quicker version of this (headers; labels too on small datasets)
before their first step.`)
    .action(async (f: CheckFlags) => {
      if (f.dataset === 'builtin') {
        process.stdout.write('check-data: builtin scenes are generated, not read: nothing to check\n');
        return;
      }
      const explicit = f.split !== undefined;
      const splits = (f.split ?? 'train,val').split(',').map((s) => s.trim()).filter(Boolean);
      if (splits.length === 0) throw new DatasetError(`--split: expected a comma-separated list of splits, got '${f.split}'`);
      const known = new Map<string, string | null>();
      for (const split of splits) {
        let ds: SegmentationDataset;
        try {
          ds = openDataset(f.dataset, { root: f.dataRoot, split, coarse: f.coarse });
        } catch (e) {
          // A split asked for by name must exist; of the default ones, only those present are checked.
          if (explicit || !(e instanceof DatasetError) || split === splits[0]) throw e;
          process.stdout.write(`${split}: not checked (${e.message})\n`);
          continue;
        }
        const r = await checkSplit(ds, split, known);
        const again = ds.length - r.fresh;
        if (ds.derivedSplit) process.stdout.write(`${split}: ${ds.derivedSplit.description}\n`);
        process.stdout.write(`${split}: ${ds.length} sample(s)${again ? ` (${again} checked under an earlier split)` : ''}, ${r.bad.length} bad\n` +
          r.bad.map((m) => `  ${m}\n`).join(''));
      }
      const bad = [...known.values()].filter((m) => m !== null).length;
      if (bad > 0) throw new DatasetError(`check-data: ${bad} of ${known.size} sample(s) have bad files (listed above)`);
      process.stdout.write(`check-data: all ${known.size} sample(s) decode, masks match their images, labels in range\n`);
    });
}
