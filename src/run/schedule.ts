/** Learning-rate schedules as pure functions of progress t in [0, 1]. */

/** Cosine annealing from lrMax to lrMin (search weights, Sec. 5.1: 0.025 -> 0.001). */
export function cosineLr(lrMax: number, lrMin: number, t: number): number {
  return lrMin + ((lrMax - lrMin) * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, t))))) / 2;
}

/** Polynomial decay lr0 * (1 - t)^power (retraining, Sec. 5.2: 0.05, power 0.9). */
export function polyLr(lr0: number, power: number, t: number): number {
  return lr0 * Math.pow(1 - Math.min(1, Math.max(0, t)), power);
}
