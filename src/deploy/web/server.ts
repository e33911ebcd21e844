/**
 * A static file server for a web export (`autodeeplab serve`), on node:http:
 * the MIME types the page needs (.mjs, .wasm for streaming compilation,
 * .onnx), and the headers that make the page cross-origin isolated, which
 * onnxruntime-web's WASM threads need (SharedArrayBuffer). Paths outside the
 * folder are refused. Extra routes (the latency page's) can be added.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.svg': 'image/svg+xml', '.map': 'application/json',
};

/** Cross-origin isolation (COOP + COEP) and no caching (a re-export is seen at once). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store',
};

/** The file a URL path names inside root, or null when it leaves root (.., encoded or not) or is malformed. */
export function resolveInside(root: string, urlPath: string): string | null {
  let p: string;
  try {
    p = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  if (p.includes('\0')) return null;
  const file = path.resolve(root, '.' + path.posix.normalize('/' + p));
  const rel = path.relative(root, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return p.endsWith('/') || rel === '' ? path.join(file, 'index.html') : file;
}

export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/** Serves root's files (GET and HEAD); `routes` are tried first. */
export function createStaticServer(root: string, routes: Route[] = []): http.Server {
  const abs = path.resolve(root);
  return http.createServer((req, res) => {
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
    if (routes.some((r) => r(req, res))) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end();
    const file = resolveInside(abs, req.url ?? '/');
    if (!file) return void res.writeHead(403, { 'Content-Type': 'text/plain' }).end('forbidden\n');
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      res.writeHead(200, { 'Content-Type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'Content-Length': st.size });
      if (req.method === 'HEAD') return void res.end();
      fs.createReadStream(file).pipe(res);
    });
  });
}

/** Listens on 127.0.0.1:port (0: any free port) and resolves with the port. */
export function listen(server: http.Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
}
