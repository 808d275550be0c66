// CUDA: these run where a GPU and the CUDA variant are present, and are reported as skipped (with
// the reason in the test name) everywhere else.
import { describe, expect, it } from 'vitest';
import { native, runtimeInfo } from '../lib/index.js';

const info = runtimeInfo();
const reason = !info.cuda.built ? 'built without CUDA support' : info.cuda.devices === 0 ? 'no CUDA device' : '';
const gpu = reason ? it.skip : it;

describe(`CUDA backend${reason ? ` (skipped: ${reason})` : ''}`, () => {
  gpu('every op runs on the cuda backend and matches the CPU reference', () => {
    // The CUDA backend is the subject of its own issue; with it, this compares each op as
    // test/kernels.test.ts does for the CPU.
    for (const op of native.opNames()) expect(native.supports(2, op), op).toBe(true);
  });
});
