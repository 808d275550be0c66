// Runs test/gpu/device_checks.mjs without npm packages (a lent GPU machine has no Node: a node
// binary travels with the run, see bench/gpu/pack.sh). One JSON line per check, a summary last;
// exit status 1 when a check failed or no device answered.
import { deviceChecks } from '../../test/gpu/device_checks.mjs';
import * as cuda from '../../dist/lib/cuda.js';
import { runtimeInfo } from '../../dist/lib/runtime.js';

const info = runtimeInfo();
console.log(JSON.stringify({ addon: info.addon, cuda: info.cuda }));
if (!cuda.isAvailable()) {
  console.log(JSON.stringify({ summary: true, error: `no CUDA device: ${info.addon.reason}` }));
  process.exit(1);
}
let failed = 0;
for (const [name, check] of deviceChecks) {
  const t0 = performance.now();
  try {
    check();
    console.log(JSON.stringify({ check: name, pass: true, ms: Math.round(performance.now() - t0) }));
  } catch (e) {
    failed++;
    console.log(JSON.stringify({ check: name, pass: false, error: String(e?.stack ?? e).split('\n').slice(0, 4).join(' | ') }));
  }
}
console.log(JSON.stringify({ summary: true, passed: deviceChecks.length - failed, failed }));
process.exit(failed ? 1 : 0);
