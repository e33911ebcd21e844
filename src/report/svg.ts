/** Tiny SVG helpers: everything the report draws is plain SVG text (no scripts). */

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function svg(width: number, height: number, body: string[], title = ''): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">` +
    `${title ? `<title>${esc(title)}</title>` : ''}<rect width="100%" height="100%" fill="white"/>${body.join('')}</svg>`;
}

/** Blue-to-red colour for a value in [0, 1]. */
export function heat(v: number): string {
  const t = Math.max(0, Math.min(1, v));
  const r = Math.round(255 * Math.min(1, 2 * t));
  const b = Math.round(255 * Math.min(1, 2 * (1 - t)));
  const g = Math.round(255 * (1 - Math.abs(2 * t - 1)));
  return `rgb(${r},${g},${b})`;
}

export interface Series {
  name: string;
  points: [number, number][];
  color: string;
}

/** A line chart of several series with axes and a legend. */
export function lineChart(title: string, xLabel: string, series: Series[], width = 560, height = 280): string {
  const pad = { l: 56, r: 16, t: 28, b: 40 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) return svg(width, 60, [`<text x="10" y="35" font-size="13">${esc(title)}: no data</text>`]);
  const [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  const [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (width - pad.l - pad.r);
  const sy = (y: number) => height - pad.b - ((y - y0) / (y1 - y0 || 1)) * (height - pad.t - pad.b);
  const body = [
    `<text x="${width / 2}" y="18" font-size="14" text-anchor="middle">${esc(title)}</text>`,
    `<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="#444"/>`,
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${height - pad.b}" stroke="#444"/>`,
    `<text x="${width / 2}" y="${height - 8}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    body.push(`<text x="${pad.l - 6}" y="${sy(y) + 4}" font-size="10" text-anchor="end">${y.toPrecision(3)}</text>`);
    const x = x0 + ((x1 - x0) * i) / 4;
    body.push(`<text x="${sx(x)}" y="${height - pad.b + 14}" font-size="10" text-anchor="middle">${Math.round(x)}</text>`);
  }
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length) body.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.8" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    body.push(`<rect x="${pad.l + 10 + i * 130}" y="${pad.t}" width="12" height="4" fill="${s.color}"/>`,
      `<text x="${pad.l + 26 + i * 130}" y="${pad.t + 6}" font-size="11">${esc(s.name)}</text>`);
  });
  return svg(width, height, body, title);
}

/** A heatmap of rows x columns in [0, 1]. */
export function heatmap(title: string, values: number[][], rowLabels: string[], colLabels: string[], cell = 14): string {
  const left = 110;
  const top = 60;
  const w = left + colLabels.length * cell + 10;
  const h = top + rowLabels.length * cell + 10;
  const body = [`<text x="4" y="16" font-size="14">${esc(title)}</text>`];
  colLabels.forEach((c, j) => body.push(`<text transform="translate(${left + j * cell + cell / 2 + 4},${top - 4}) rotate(-60)" font-size="9">${esc(c)}</text>`));
  values.forEach((row, i) => {
    body.push(`<text x="${left - 4}" y="${top + i * cell + cell - 3}" font-size="9" text-anchor="end">${esc(rowLabels[i])}</text>`);
    row.forEach((v, j) => body.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell - 1}" height="${cell - 1}" fill="${heat(v)}"><title>${v.toFixed(3)}</title></rect>`));
  });
  return svg(w, h, body, title);
}

export interface ScatterPoint {
  x: number;
  y: number;
  /** Fill colour (default red). */
  color?: string;
  /** Drawn as a ring instead of a disc (a second kind of measurement). */
  hollow?: boolean;
  /** Tooltip. */
  title?: string;
}

/** A scatter of points with dashed vertical markers (name at x) and an optional legend of colours. */
export function scatter(title: string, xLabel: string, yLabel: string, points: ScatterPoint[], markers: [string, number][],
  legend: [string, string][] = [], width = 560, height = 280): string {
  const pad = { l: 56, r: 16, t: 28, b: 40 };
  const xs = [...points.map((p) => p.x), ...markers.map((m) => m[1])];
  const [x0, x1] = [Math.min(...xs) * 0.95, Math.max(...xs) * 1.05];
  const [y0, y1] = [Math.min(...points.map((p) => p.y)), Math.max(...points.map((p) => p.y))];
  // Marker names on up to three rows in x order, so that close markers stay readable; points start below them.
  const rows = Math.min(3, markers.length);
  const row = new Map([...markers].sort((a, b) => a[1] - b[1]).map((m, i) => [m, i % 3]));
  const top = pad.t + 12 * rows + 8;
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (width - pad.l - pad.r);
  const sy = (y: number) => height - pad.b - 6 - ((y - y0) / (y1 - y0 || 1)) * (height - top - pad.b - 6);
  const body = [
    `<text x="${width / 2}" y="18" font-size="14" text-anchor="middle">${esc(title)}</text>`,
    `<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="#444"/>`,
    `<text x="${width / 2}" y="${height - 8}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="12" y="${height / 2}" font-size="12" transform="rotate(-90 12 ${height / 2})" text-anchor="middle">${esc(yLabel)}</text>`,
    ...[y0, y1].map((y) => `<text x="${pad.l - 6}" y="${sy(y) + 4}" font-size="10" text-anchor="end">${y.toPrecision(3)}</text>`),
    ...[x0, x1].map((x) => `<text x="${sx(x)}" y="${height - pad.b + 14}" font-size="10" text-anchor="middle">${x.toPrecision(4)}</text>`),
    ...markers.flatMap((m) => [`<line class="marker" x1="${sx(m[1])}" y1="${pad.t}" x2="${sx(m[1])}" y2="${height - pad.b}" stroke="#888" stroke-dasharray="4 3"/>`,
      `<text x="${sx(m[1]) + 3}" y="${pad.t + 10 + 12 * row.get(m)!}" font-size="11">${esc(m[0])}</text>`]),
    ...legend.map(([name, color], i) => `<circle cx="${width - pad.r - 110}" cy="${top + 6 + 14 * i}" r="4" fill="${color}"/>` +
      `<text x="${width - pad.r - 102}" y="${top + 10 + 14 * i}" font-size="11">${esc(name)}</text>`),
    ...points.map((p) => `<circle class="point" cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" ` +
      `${p.hollow ? `fill="white" stroke="${p.color ?? '#d62728'}" stroke-width="1.5"` : `fill="${p.color ?? '#d62728'}"`}>${p.title ? `<title>${esc(p.title)}</title>` : ''}</circle>`),
  ];
  return svg(width, height, body, title);
}
