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
    // host memory handed to the cuda backend, or no device to run it on
    const reason = native.info().cudaDevices > 0 ? /exp: input 0 is on cpu but the op runs on the cuda backend/ : /exp: the cuda backend has no device \((built without CUDA support|.+)\)/;
    expect(() => native.run('exp', 2, [[s, 0, 0, [4], [1]]], null, [])).toThrow(reason);
  });
  it('the CUDA variant, where built, has a kernel for every op and loads without a device', () => {
    if (!loaded.cudaVariant) return expect(runtimeInfo().cuda.built).toBe(false);
    const cuda = createRequire(import.meta.url)(loaded.cudaVariant) as NativeAddon;
    const info = cuda.info();
    expect(info.cudaBuilt).toBe(true);
    for (const op of opListFromSource()) expect(cuda.supports(2, op), `cuda ${op}`).toBe(true);
    if (info.cudaDevices > 0) return;
    // no device: device memory is refused with the reason, host memory and the cpu backend work
    expect(info.cudaReason).not.toBe('');
    expect(() => new cuda.Storage(16, true, 0)).toThrow(new RegExp(`Storage: cuda:0: .*${info.cudaReason.replace(/[()]/g, '.')}`));
    const s = new cuda.Storage(16);
    s.write(0, new Float32Array([0, 1, 2, 3]));
    const [[out]] = cuda.run('exp', 0, [[s, 0, 0, [4], [1]]], null, []);
    expect(new Float32Array(out.read(0, 16))[1]).toBeCloseTo(Math.E, 5);
    expect(cuda.cudaMemory('stats')).toEqual({ allocated: 0, reserved: 0, peak: 0 });
  });
});
