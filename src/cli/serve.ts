/** `autodeeplab serve DIR`: the folder of `export --format web` over http://127.0.0.1, cross-origin isolated (WASM threads). */
import * as fs from 'node:fs';
import { Command } from 'commander';
import { createStaticServer, listen } from '../deploy/web/server';
import { BadInputError } from '../util/errors';
import { intIn } from './options';

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve a folder written by export --format web on 127.0.0.1 (with the headers WASM threads need)')
    .argument('<dir>', 'the folder (index.html, model.onnx, ...)')
    .option('--port <n>', 'port (0: any free port)', intIn(0, 65535, 'a TCP port'), 8080)
    .addHelpText('after', `
Example:
  $ autodeeplab export --checkpoint runs/t1/model.safetensors --format web --out site
  $ autodeeplab serve site --port 8080     # then open http://127.0.0.1:8080/`)
    .action(async (dir: string, o: { port: number }) => {
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new BadInputError(`serve: ${dir} is not a folder (expected the --out folder of export --format web)`);
      const server = createStaticServer(dir);
      let port: number;
      try {
        port = await listen(server, o.port);
      } catch (e) {
        throw new BadInputError(`--port: cannot listen on 127.0.0.1:${o.port} (${(e as Error).message})`);
      }
      process.stdout.write(`serving ${dir} at http://127.0.0.1:${port}/ (Ctrl-C to stop)\n`);
    });
}
