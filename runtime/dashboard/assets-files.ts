/**
 * The dashboard's static files, read once from disk and kept in memory:
 * the page, its script and style (runtime/dashboard/assets/, plain files, no
 * build step), and uPlot's browser build from node_modules (vendored through
 * npm; never a CDN).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

const here = dirname(fileURLToPath(import.meta.url));
// From source (runtime/dashboard) the folder is beside this file; from dist/runtime/dashboard it is in the package root's runtime/.
const ASSET_DIRS = [join(here, 'assets'), join(here, '..', '..', '..', 'runtime', 'dashboard', 'assets')];

/** URL path under /dash/ → where the file is and its content type. */
function sources(): Record<string, { path: string; type: string }> {
  const assets = ASSET_DIRS.find((d) => existsSync(join(d, 'index.html')));
  if (assets === undefined) throw new Error(`dashboard assets not found in ${ASSET_DIRS.join(' or ')}`);
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot'));
  return {
    'index.html': { path: join(assets, 'index.html'), type: 'text/html; charset=utf-8' },
    'app.js': { path: join(assets, 'app.js'), type: 'text/javascript; charset=utf-8' },
    'dash.css': { path: join(assets, 'dash.css'), type: 'text/css; charset=utf-8' },
    'uplot.js': { path: join(uplot, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
    'uplot.css': { path: join(uplot, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
  };
}

let cache: Map<string, Asset> | null = null;

/** Every asset by its name under /dash/; throws (at node start) if one is missing, so a broken install says so at once. */
export function dashboardAssets(): Map<string, Asset> {
  if (cache === null) {
    cache = new Map();
    for (const [name, s] of Object.entries(sources())) cache.set(name, { body: readFileSync(s.path), type: s.type });
  }
  return cache;
}
