// The op list is one list: ops.def, the loaded addon and every backend's kernel table agree.
import { describe, expect, it } from 'vitest';
import { native } from '../lib/index.js';
import { opListFromSource } from '../lib/native.js';

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
  it('the cuda backend reports what it lacks instead of crashing', () => {
    const info = native.info();
    if (!info.cudaBuilt) {
      const s = new native.Storage(16);
      expect(() => native.run('exp', 2, [[s, 0, 0, [4], [1]]], null, [])).toThrow(/built without CUDA support/);
    }
  });
});
