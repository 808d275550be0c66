// Devices as the API shows them: device strings, where tensors and modules live, moving between
// devices, and the errors a machine without a usable GPU gives. (What a GPU computes is checked in
// cuda.test.ts, where one is present.)
import { describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';
import { deviceIndex } from '../lib/tensor/device.js';
import { Trainer } from '../lib/train/trainer.js';

const noGpu = !tf.cuda.isAvailable();

describe('device strings', () => {
  it("parse 'cpu', 'cuda' and 'cuda:N' as PyTorch does, and name the bad ones", () => {
    expect(deviceIndex('cpu', 'x')).toBe(-1);
    expect(deviceIndex('cuda', 'x')).toBe(0);
    expect(deviceIndex('cuda:3', 'x')).toBe(3);
    for (const bad of ['gpu', 'cuda:', 'cuda:-1', 'CUDA', 'cuda:1.5', 3]) expect(() => deviceIndex(bad, 'to')).toThrow(/^to: unknown device/);
    expect(() => tf.zeros([2]).to('tpu' as never)).toThrow(/^to: expected a dtype .* or a device .*, got "tpu"/);
  });
});

describe('tensors and modules on the host', () => {
  it('live on cpu; to/cpu() there return the same tensor', () => {
    const x = tf.tensor([[1, 2], [3, 4]]);
    expect(x.device).toBe('cpu');
    expect(x.to('cpu')).toBe(x);
    expect(x.cpu()).toBe(x);
    expect(tf.zeros([2], { device: 'cpu' }).device).toBe('cpu');
    const m = new tf.Linear(2, 3);
    expect(m.device).toBe('cpu');
    const w = m.weight;
    expect(m.to('cpu').weight).toBe(w);
  });

  it('a fixed sinusoidal table is a buffer that moves with the module but stays out of the state dict', () => {
    const m = new tf.EncoderClassifier({ vocabSize: 10, maxLen: 8, dModel: 4, nHead: 1, dimFeedforward: 8, numLayers: 1, numClasses: 2, positional: 'sinusoidal' });
    expect([...m.namedBuffers()].map(([n]) => n)).toContain('table');
    expect([...m.stateDict().keys()]).not.toContain('table');
    const logits = m.eval().forward(tf.tensor([[1, 2, 3]], { dtype: 'int32' }));
    expect(logits.shape).toEqual([1, 2]);
  });
});

describe.runIf(noGpu)('without a usable GPU', () => {
  it('moving a tensor or module to cuda throws an Error that says why, and the process goes on', () => {
    expect(() => tf.tensor([1, 2]).to('cuda')).toThrow(/cuda:0: (built without CUDA support|.*no CUDA device|.*driver)/);
    expect(() => tf.zeros([2], { device: 'cuda:1' })).toThrow(/cuda:1/);
    expect(() => new tf.Linear(2, 2).to('cuda')).toThrow(/cuda:0/);
    expect(tf.tensor([1, 2]).add(1).data()).toEqual(new Float32Array([2, 3]));
  });

  it('tf.cuda reports no device and empty allocator statistics', () => {
    expect(tf.cuda.isAvailable()).toBe(false);
    expect(tf.cuda.deviceCount()).toBe(0);
    expect(tf.cuda.memoryStats()).toEqual({ allocated: 0, reserved: 0, peak: 0 });
    expect(() => tf.cuda.synchronize()).not.toThrow();
    expect(tf.cuda.allowTF32()).toBe(false);
    tf.cuda.setAllowTF32(true);
    expect(tf.cuda.allowTF32()).toBe(true);
    tf.cuda.setAllowTF32(false);
  });
});

describe('Trainer and devices', () => {
  it("refuses an optimizer whose tensors are not the model's parameters (e.g. made before model.to)", () => {
    const model = new tf.EncoderClassifier({ vocabSize: 10, maxLen: 8, dModel: 4, nHead: 1, dimFeedforward: 8, numLayers: 1, numClasses: 2 });
    const stale = new tf.AdamW(model.parameters(), { lr: 1e-3 });
    model.to('bfloat16');
    expect(() => new Trainer(model, stale, ['a', 'b'], { epochs: 1, schedule: { kind: 'constant', lr: 1e-3 } })).toThrow(/model\.to\(device\) before creating the optimizer/);
  });
});
