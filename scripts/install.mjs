// npm install hook: use a prebuilt addon from prebuilds/<platform>-<arch>/ when one ships with the
// package, else build from source with cmake-js (through npm, so cmake-js finds Node's headers).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prebuilt = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'tensorforge_cpu.node');
if (existsSync(prebuilt) && !process.env.TENSORFORGE_BUILD_FROM_SOURCE) {
  console.log(`tensorforge: using prebuilt addon ${prebuilt}`);
  process.exit(0);
}
const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
const r = spawnSync(npm[0], [...npm[1], 'run', 'build:native'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
