// The page: an image from the file picker or a drop, segmented, overlaid with a legend.
import { createSession, hasWebGpu, segment, toInput } from './segment.js';
import { drawImage, drawMask, drawLegend } from './draw.js';

const $ = (id) => document.getElementById(id);
const meta = await (await fetch('model.json')).json();
let session = null;
let last = null; // the last image and its segmentation

function status(text, state) {
  $('status').textContent = text;
  if (state) document.body.dataset.state = state;
}

async function useBackend(backend) {
  status(`Loading the model (${backend})…`, 'loading');
  try {
    session = await createSession('model.onnx', backend);
    status(`Ready (${backend}${backend === 'wasm' ? `, ${crossOriginIsolated ? 'threads' : 'one thread'}` : ''}). Choose an image.`, 'ready');
    if (last) await run(last.pixels);
  } catch (e) {
    status(`Could not load the model on ${backend}: ${e.message}`, 'error');
  }
}

async function run(pixels) {
  status('Segmenting…', 'busy');
  const input = toInput(pixels.data, pixels.height, pixels.width, meta.mean, meta.std);
  const result = await segment(session, input);
  last = { pixels, result };
  drawMask($('mask'), result.labels, pixels.width, pixels.height, meta.palette, $('opacity').value / 100);
  drawLegend($('legend'), meta.classNames, meta.palette, result.labels);
  status(`${pixels.width}x${pixels.height}: the model took ${result.ms.toFixed(1)} ms (${$('backend').value}).`, 'done');
  // For tests and scripts: the last result, read back by the browser driver.
  window.segmentation = { width: pixels.width, height: pixels.height, ms: result.ms, labels: Array.from(result.labels), logits: Array.from(result.logits) };
}

async function open(file) {
  if (!file || !session) return;
  try {
    await run(await drawImage($('image'), file));
  } catch (e) {
    status(`Could not segment ${file.name}: ${e.message}`, 'error');
  }
}

$('file').addEventListener('change', () => open($('file').files[0]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); open(e.dataTransfer.files[0]); });
$('opacity').addEventListener('input', () => {
  if (last) drawMask($('mask'), last.result.labels, last.pixels.width, last.pixels.height, meta.palette, $('opacity').value / 100);
});
$('backend').addEventListener('change', () => useBackend($('backend').value));
if (!(await hasWebGpu())) {
  $('backend').querySelector('option[value=webgpu]').disabled = true;
}
await useBackend('wasm');
