// Drawing: the image at its own size, the label map as a translucent mask over it, the legend.

/** Draws an image file on the canvas at its own size and returns its RGBA pixels (ImageData). */
export async function drawImage(canvas, file) {
  // No colour conversion or premultiplication: the pixels are the file's, as a decoder outside the browser reads them.
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
}

/** The label map in the palette's colours, at `opacity`. */
export function drawMask(canvas, labels, width, height, palette, opacity) {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(width, height);
  for (let i = 0; i < labels.length; i++) {
    const [r, g, b] = palette[labels[i]] ?? [0, 0, 0];
    img.data.set([r, g, b, Math.round(255 * opacity)], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}

/** One row per class: its colour, its name, its share of the image (greyed when absent). */
export function drawLegend(list, classNames, palette, labels) {
  const counts = new Array(classNames.length).fill(0);
  for (const l of labels) counts[l]++;
  list.replaceChildren(...classNames.map((name, k) => {
    const li = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = `rgb(${palette[k].join(',')})`;
    const share = (100 * counts[k]) / labels.length;
    li.append(swatch, `${name} ${share ? `${share.toFixed(1)}%` : ''}`);
    if (!counts[k]) li.className = 'absent';
    return li;
  }));
}
