// build.mjs - bundles the web UI (ui/src) into static assets for tide serve: app.js (the pages
// and their libraries, cytoscape and Chart.js, from node_modules), app.css and index.html, in
// the folder given as the first argument (default: build/ui, where tide serve finds it next to
// build/tide). Run by scripts/setup.sh and by the CMake target tide_ui when node_modules exists.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] || join(here, '..', 'build', 'ui'));
mkdirSync(out, { recursive: true });
await build({
    entryPoints: [join(here, 'src', 'app.js')],
    bundle: true,
    format: 'esm',
    target: 'es2020',
    minify: true,
    sourcemap: false,
    legalComments: 'linked',
    outfile: join(out, 'app.js'),
    logLevel: 'warning',
});
for (const f of ['index.html', 'app.css', 'favicon.svg'])
    copyFileSync(join(here, 'src', f), join(out, f));
