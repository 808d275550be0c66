// The op list is one list: ops.def, the loaded addon and every backend's kernel table agree.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { native, runtimeInfo } from '../lib/index.js';
import { loaded, opListFromSource, type NativeAddon } from '../lib/native.js';

describe('op list', () => {
  it('the addon exposes exactly the ops of ops.def, in order', () => {
    const fromSource = opListFromSource();
    expect(fromSource.length).toBeGreaterThan(50);
    expect(native.opNames()).toEqual(fromSource);
  });
  it('every op has a reference kernel and a CPU kernel', () => {
    for (const op of opListFromSource()) {
      expect(native.supports(1, op), `ref ${op}`).toBe(true);
      expect(native.supports(0, op), `cpu ${op}`).toBe(true);
    }
  });
  it('the cuda backend says why it cannot run instead of crashing', () => {
    const s = new native.Storage(16);
    const reason = native.info().cudaBuilt ? /not reachable from Node yet|no CUDA device/ : /built without CUDA support/;
    expect(() => native.run('exp', 2, [[s, 0, 0, [4], [1]]], null, [])).toThrow(reason);
  });
  it('the CUDA variant, where built, has a kernel for every op and loads without a device', () => {
    if (!loaded.cudaVariant) return expect(runtimeInfo().cuda.built).toBe(false);
    const cuda = createRequire(import.meta.url)(loaded.cudaVariant) as NativeAddon;
    const info = cuda.info();
    expect(info.cudaBuilt).toBe(true);
    if (info.cudaDevices === 0) expect(info.cudaReason).not.toBe('');
    for (const op of opListFromSource()) expect(cuda.supports(2, op), `cuda ${op}`).toBe(true);
  });
});
