// Builds the browser SDK: client/browser.ts and msgpackr in one ES module,
// dist/client/browser.bundle.js (package export `troupe/client/browser`).
// Run after tsc (it writes the types this bundle is published with,
// dist/client/browser.d.ts). Needs esbuild, a devDependency: the bundle is
// built before packing, so users of the package never need it.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// The Node transport (the `ws` package) is never used in a browser, where the
// SDK picks the global WebSocket; leaving it out keeps `ws` and Node's
// built-ins out of the bundle, so a page needs nothing else to resolve.
const withoutNodeTransport = {
  name: 'without-node-transport',
  setup(b) {
    b.onResolve({ filter: /\/transport-ws\.js$/ }, () => ({ path: 'transport-ws', namespace: 'browser-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'browser-stub' }, () => ({
      contents: "export async function wsTransport() { throw new TypeError('the browser build of the Troupe SDK uses the global WebSocket'); }",
      loader: 'js',
    }));
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: ['client/browser.ts'],
  outfile: 'dist/client/browser.bundle.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
  plugins: [withoutNodeTransport],
});
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)?.bytes ?? 0;
process.stderr.write(`build-browser-client: dist/client/browser.bundle.js (${Math.round(bytes / 1024)} KiB)\n`);
