/** SVG text for the architecture diagrams (./diagrams.ts); the charts are Vega-Lite (./charts.ts). */

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function svg(width: number, height: number, body: string[], title = ''): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">` +
    `${title ? `<title>${esc(title)}</title>` : ''}<rect width="100%" height="100%" fill="white"/>${body.join('')}</svg>`;
}
