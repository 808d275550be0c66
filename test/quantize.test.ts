// Int8 quantisation of models: dynamic and static (min/max, percentile) against the float model,
// quantised state dicts through safetensors, and the errors.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';
import { normErr } from './helpers/compare.js';

const CONFIG = { vocabSize: 50, maxLen: 12, dModel: 32, nHead: 4, dimFeedforward: 64, numLayers: 2, numClasses: 3, dropout: 0, normFirst: true, activation: 'gelu' } as const;

function model(seed = 1): tf.EncoderClassifier {
  return new tf.EncoderClassifier(CONFIG, new tf.Generator(seed)).eval();
}
function batch(seed = 2) {
  const g = new tf.Generator(seed);
  const tokens = tf.randint(1, CONFIG.vocabSize, [6, 12], { generator: g });
  const mask = tf.tensor(Array.from({ length: 72 }, (_, i) => (i % 12 >= 12 - (i / 12 | 0) ? 1 : 0)), { dtype: 'uint8', shape: [6, 12] });
  return { tokens, mask };
}
const logits = (m: tf.EncoderClassifier, b = batch()) => tf.noGrad(() => m.forward(b.tokens, b.mask));

describe('int8 quantisation', () => {
  it('Linear: int8 weight + per-row scales as buffers, output within 2% of float', () => {
    const lin = new tf.Linear(40, 24, { generator: new tf.Generator(3) });
    const x = tf.randn([7, 40], { generator: new tf.Generator(4) });
    const ref = tf.noGrad(() => lin.forward(x));
    lin.quantize();
    expect(lin.quantized).toBe(true);
    expect(lin.weight.dtype).toBe('int8');
    expect([...lin.stateDict().keys()].sort()).toEqual(['bias', 'weight', 'weight_scale']);
    expect(lin.parameters().map((p) => p.shape)).toEqual([[24]]);
    const err = normErr(lin.forward(x), ref);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(0.02);
    expect(() => lin.quantize()).toThrow(/already quantized/);
  });

  it('dynamic: every linear and embedding table of the classifier becomes int8; logits stay close to float', () => {
    const m = model();
    const ref = logits(m);
    // 2 layers x (in_proj, out_proj, linear1, linear2) + head + token and position tables
    expect(tf.quantizeDynamic(m)).toBe(11);
    expect(tf.quantizeDynamic(m)).toBe(0);
    const keys = [...m.stateDict().keys()];
    expect(keys).toContain('layers.0.self_attn.in_proj_weight_scale');
    expect(keys).toContain('head.weight_scale');
    expect(m.stateDict().get('layers.1.linear1.weight')!.dtype).toBe('int8');
    expect(m.stateDict().get('tok.weight')!.dtype).toBe('int8');
    expect(m.stateDict().get('tok.weight_scale')!.shape).toEqual([CONFIG.vocabSize]);
    expect(normErr(logits(m), ref)).toBeLessThan(0.05);
  });

  it('where bf16 products are native, the int8 attention and feed-forward run in bf16, close to their float32 form', () => {
    const best = tf.availableIsas().at(-1)!;
    expect(tf.nativeBf16('cpu')).toBe(best === 'avx512_bf16');
    if (best !== 'avx512_bf16') return;  // nothing to compare on this CPU: both forms are float32
    for (const activation of ['gelu', 'relu'] as const) {
      const m = new tf.EncoderClassifier({ ...CONFIG, activation }, new tf.Generator(1)).eval();
      tf.quantizeDynamic(m);
      try {
        expect(tf.setIsa('avx512')).toBe('avx512');  // the same int8 kernels, no BF16
        expect(tf.nativeBf16('cpu')).toBe(false);
        const f32 = logits(m);
        tf.setIsa(best);
        expect(tf.nativeBf16('cpu')).toBe(true);
        const e = normErr(logits(m), f32);
        expect(e, activation).toBeGreaterThan(0);
        expect(e, activation).toBeLessThan(0.02);
      } finally {
        tf.setIsa(best);
      }
    }
  });

  it('a quantised state dict saved as safetensors loads into a freshly quantised model with identical outputs', () => {
    const m = model();
    tf.quantizeDynamic(m);
    const path = join(mkdtempSync(join(tmpdir(), 'tf-q-')), 'q.safetensors');
    tf.saveSafetensors(path, m.stateDict());
    const back = model(99);
    tf.quantizeDynamic(back);
    back.loadStateDict(tf.loadSafetensors(path).tensors);
    expect(normErr(logits(back), logits(m))).toBe(0);
    // a float model cannot take int8 weights silently
    expect(() => model(5).loadStateDict(tf.loadSafetensors(path).tensors)).toThrow(/unexpected keys \[.*weight_scale/);
  });

  for (const observer of ['minmax', 'percentile'] as const) {
    it(`static (${observer}): one calibrated input scale per layer, logits close to float`, () => {
      const m = model();
      const ref = logits(m, batch(7));
      const n = tf.quantizeStatic(m, () => {
        for (const s of [2, 3, 4]) logits(m, batch(s));
      }, { observer, percentile: 99.9 });
      expect(n).toBe(11);
      const scale = m.stateDict().get('layers.0.linear2.input_scale')!;
      expect(scale.shape).toEqual([1]);
      expect(scale.item()).toBeGreaterThan(0);
      expect(normErr(logits(m, batch(7)), ref)).toBeLessThan(0.08);
    });
  }

  it('fakeQuantize: the int8 values, the gradient of the identity', () => {
    const x = tf.randn([5, 9], { generator: new tf.Generator(8) }).requiresGrad_();
    const y = tf.fakeQuantize(x);
    const { q, scale } = tf.quantizePerChannel(x);
    const deq = tf.mul(q.to('float32'), tf.reshape(scale, [5, 1]));
    expect(normErr(y, deq)).toBeLessThan(1e-6);
    expect(normErr(y, x)).toBeGreaterThan(1e-4);
    tf.backward(tf.sum(tf.mul(y, tf.arange(45).reshape([5, 9]).to('float32'))));
    expect([...x.grad!.data()]).toEqual([...tf.arange(45).data()]);
  });

  it('quantisation-aware training: the fake-quantised model computes what its int8 form computes, and trains', () => {
    const m = model();
    expect(tf.prepareQat(m)).toBe(11);
    const qat = logits(m);
    const opt = new tf.AdamW(m.parameters(), { lr: 1e-3 });
    const b = batch(4);
    tf.backward(tf.crossEntropy(m.train().forward(b.tokens, b.mask), tf.tensor([0, 1, 2, 0, 1, 2], { dtype: 'int32' })));
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    opt.zeroGrad();
    m.eval();
    tf.quantizeDynamic(m);
    expect(normErr(logits(m), qat)).toBeLessThan(1e-4);
  });

  it('bad input: no calibration data, bad options, bad activation scale', () => {
    expect(() => tf.quantizeStatic(model(), () => {})).toThrow(/calibration never ran/);
    expect(() => tf.quantizeStatic(model(), () => {}, { observer: 'mean' as never })).toThrow(/unknown observer "mean"/);
    expect(() => new tf.Linear(4, 4).quantize(-1)).toThrow(/activation scale must be finite and >= 0/);
    const w = tf.quantizePerChannel(tf.randn([3, 5]));
    expect(() => tf.linearInt8(tf.randn([2, 4]), w)).toThrow(/linear_int8: input \[2,4\] has 4 features, weight \[3,5\] expects 5/);
    expect(() => tf.linearInt8(tf.randn([2, 5]), { q: w.q, scale: tf.ones([2]) })).toThrow(/linear_int8: weight scale \[2\] must be \[3\]/);
    expect(() => tf.linearInt8(tf.randn([2, 5]), { q: tf.ones([3, 5]), scale: w.scale })).toThrow(/linear_int8: .*weight.*int8/);
  });
});
