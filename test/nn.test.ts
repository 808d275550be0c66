// nn modules and optimizers: PyTorch's names, state dicts, modes, and optimizer steps checked
// against the update rules computed by hand in double precision.
import { describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';

describe('modules', () => {
  it('use PyTorch state-dict names', () => {
    expect([...new tf.SeedEncoderLayer(8, 2, 16).stateDict().keys()].sort()).toEqual(
      [
        'feedforward.0.bias', 'feedforward.0.weight', 'feedforward.2.bias', 'feedforward.2.weight',
        'norm1.bias', 'norm1.weight', 'norm2.bias', 'norm2.weight',
        'self_attn.key_proj.bias', 'self_attn.key_proj.weight', 'self_attn.query_proj.bias', 'self_attn.query_proj.weight',
        'self_attn.value_proj.bias', 'self_attn.value_proj.weight',
      ].sort(),
    );
    expect([...new tf.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 }).stateDict().keys()].sort()).toEqual(
      [
        'linear1.bias', 'linear1.weight', 'linear2.bias', 'linear2.weight', 'norm1.bias', 'norm1.weight', 'norm2.bias', 'norm2.weight',
        'self_attn.in_proj_bias', 'self_attn.in_proj_weight', 'self_attn.out_proj.bias', 'self_attn.out_proj.weight',
      ].sort(),
    );
  });
  it('initialise like PyTorch: Linear U(±1/√in), LayerNorm ones/zeros, in_proj_bias and out_proj.bias zero', () => {
    const l = new tf.Linear(400, 300);
    const w = l.weight.data();
    expect(Math.max(...w)).toBeLessThanOrEqual(1 / 20);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-1 / 20);
    expect(tf.variance(l.weight).item()).toBeCloseTo(1 / 400 / 3, 4);
    const layer = new tf.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    const sd = layer.stateDict();
    expect(tf.sum(tf.abs(sd.get('self_attn.in_proj_bias')!)).item()).toBe(0);
    expect(tf.sum(tf.abs(sd.get('self_attn.out_proj.bias')!)).item()).toBe(0);
    expect(sd.get('norm1.weight')!.toArray()).toEqual(new Array(8).fill(1));
  });
  it('strict loading lists missing and unexpected keys; shapes must match', () => {
    const l = new tf.Linear(3, 2);
    expect(() => l.loadStateDict({ weight: tf.zeros([2, 3]), extra: tf.zeros([1]) })).toThrow(/missing keys \[bias\]; unexpected keys \[extra\]/);
    expect(l.loadStateDict({ weight: tf.ones([2, 3]) }, { strict: false })).toEqual({ missing: ['bias'], unexpected: [] });
    expect(l.weight.toArray()).toEqual([[1, 1, 1], [1, 1, 1]]);
    expect(() => l.loadStateDict({ weight: tf.zeros([3, 2]), bias: tf.zeros([2]) })).toThrow(/weight has shape \[3,2\] in the checkpoint, \[2,3\] in the model/);
  });
  it('dropout is active in train mode only (p = 0.1 in the seed layer)', () => {
    const layer = new tf.SeedEncoderLayer(8, 2, 16);
    const x = tf.randn([2, 5, 8]);
    const a = layer.eval().forward(x).data(), b = layer.eval().forward(x).data();
    expect(a).toEqual(b);
    expect(layer.train().forward(x).data()).not.toEqual(a);
    expect(layer.dropout1.p).toBe(0.1);
  });
  it('eval mode adds the residual in the last linear pass: the same values as the unfused sums', () => {
    const x = tf.randn([2, 5, 8]);
    for (const layer of [
      new tf.SeedEncoderLayer(8, 2, 16, { dropout: 0 }),
      new tf.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 }),
      new tf.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, normFirst: true, activation: 'gelu' }),
    ]) {
      // train mode with no dropout: linear, then add
      const unfused = tf.noGrad(() => layer.train().forward(x)).data();
      expect(tf.noGrad(() => layer.eval().forward(x)).data()).toEqual(unfused);
    }
  });
  it('to(bfloat16) converts every parameter and keeps them trainable', () => {
    const l = new tf.Linear(4, 3).to('bfloat16');
    expect(l.parameters().map((p) => p.dtype)).toEqual(['bfloat16', 'bfloat16']);
    expect(l.parameters().every((p) => p.requiresGrad)).toBe(true);
  });
  it('a classifier trains: loss goes down on a separable toy task', () => {
    const g = new tf.Generator(1);
    const model = new tf.EncoderClassifier({ vocabSize: 10, maxLen: 6, dModel: 16, nHead: 2, dimFeedforward: 32, numLayers: 1, numClasses: 2, dropout: 0, normFirst: true, activation: 'gelu' }, g);
    const tokens = tf.tensor([[1, 2, 3, 0], [4, 5, 6, 0], [1, 1, 2, 3], [5, 6, 4, 4]], { dtype: 'int32' });
    const labels = tf.tensor([0, 1, 0, 1], { dtype: 'int32' });
    const mask = tf.tensor([[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], { dtype: 'uint8' });
    const opt = new tf.AdamW(model.parameters(), { lr: 0.01 });
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) {
      losses.push(tf.tidy(() => {
        opt.zeroGrad();
        const loss = tf.crossEntropy(model.forward(tokens, mask), labels);
        loss.backward();
        opt.step();
        return loss.item();
      }));
    }
    expect(losses[29]!).toBeLessThan(losses[0]! * 0.2);
  });
  it('attention writes its output in (B, S, H, Dv) memory order, so merging the heads is a view', () => {
    const q = tf.randn([2, 3, 5, 4]);
    const out = tf.scaledDotProductAttention(q, q, q);
    expect(out.shape).toEqual([2, 3, 5, 4]);
    expect(out.strides).toEqual([60, 4, 12, 1]);
    expect(tf.permute(out, [0, 2, 1, 3]).isContiguous()).toBe(true);
  });
  for (const pooling of ['mean', 'max'] as const) {
    it(`${pooling} pooling: padded positions change neither the logits nor the gradients`, () => {
      const config = { vocabSize: 10, maxLen: 6, dModel: 16, nHead: 2, dimFeedforward: 32, numLayers: 1, numClasses: 2, dropout: 0, pooling };
      const model = new tf.EncoderClassifier(config, new tf.Generator(4));
      const labels = tf.tensor([1], { dtype: 'int32' });
      const run = (tokens: number[], mask: number[] | null) => {
        model.zeroGrad();
        const logits = model.forward(tf.tensor([tokens], { dtype: 'int32' }), mask && tf.tensor([mask], { dtype: 'uint8' }));
        tf.crossEntropy(logits, labels).backward();
        return { logits: [...(logits.data() as Float32Array)], grad: [...(model.head.weight.grad!.data() as Float32Array)] };
      };
      const plain = run([3, 1, 4], null);
      for (const pad of [[0, 0], [9, 5]]) {
        const padded = run([3, 1, 4, ...pad], [0, 0, 0, 1, 1]);
        padded.logits.forEach((v, i) => expect(v).toBeCloseTo(plain.logits[i]!, 5));
        padded.grad.forEach((v, i) => expect(v).toBeCloseTo(plain.grad[i]!, 5));
      }
      // and the pooling is what its name says: the two differ on the same input
      const other = new tf.EncoderClassifier({ ...config, pooling: pooling === 'mean' ? 'max' : 'mean' }, new tf.Generator(4));
      const otherLogits = other.forward(tf.tensor([[3, 1, 4]], { dtype: 'int32' })).data() as Float32Array;
      expect(Math.abs(otherLogits[0]! - plain.logits[0]!)).toBeGreaterThan(1e-4);
    });
  }
});

describe('optimizers', () => {
  it('AdamW matches the update rule computed by hand', () => {
    const p0 = [0.5, -1.25, 2], grads = [[0.1, -0.3, 0.02], [-0.2, 0.4, 0.05], [0.3, 0.1, -0.6]];
    const lr = 0.01, b1 = 0.9, b2 = 0.99, eps = 1e-6, wd = 0.1;
    const p = tf.tensor(p0, { requiresGrad: true });
    const opt = new tf.AdamW([p], { lr, betas: [b1, b2], eps, weightDecay: wd });
    const ref = [...p0], m = [0, 0, 0], v = [0, 0, 0];
    grads.forEach((g, t) => {
      p.grad = tf.keep(tf.tensor(g));
      opt.step();
      for (let i = 0; i < 3; i++) {
        ref[i] = ref[i]! * (1 - lr * wd);
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
        v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
        const mh = m[i]! / (1 - b1 ** (t + 1)), vh = v[i]! / (1 - b2 ** (t + 1));
        ref[i] = ref[i]! - (lr * mh) / (Math.sqrt(vh) + eps);
      }
    });
    const got = p.data();
    ref.forEach((r, i) => expect(got[i]).toBeCloseTo(r, 6));
  });
  it('SGD with momentum, dampening, weight decay and Nesterov matches torch.optim.SGD', () => {
    for (const [nesterov, damp] of [[false, 0.25], [true, 0]] as const) {
      const lr = 0.1, mom = 0.9, wd = 0.01;
      const p = tf.tensor([1, -2], { requiresGrad: true });
      const opt = new tf.SGD([p], { lr, momentum: mom, dampening: damp, weightDecay: wd, nesterov });
      const ref = [1, -2], buf = [0, 0];
      [[0.5, 0.1], [-0.2, 0.3], [0.7, -0.4]].forEach((g, t) => {
        p.grad = tf.keep(tf.tensor(g));
        opt.step();
        for (let i = 0; i < 2; i++) {
          let d = g[i]! + wd * ref[i]!;
          buf[i] = t === 0 ? d : mom * buf[i]! + (1 - damp) * d;
          d = nesterov ? d + mom * buf[i]! : buf[i]!;
          ref[i] = ref[i]! - lr * d;
        }
      });
      const got = p.data();
      ref.forEach((r, i) => expect(got[i]).toBeCloseTo(r, 6));
    }
  });
  it('parameter groups carry their own hyper-parameters (no decay on biases)', () => {
    const w = tf.ones([2]).requiresGrad_(), b = tf.ones([2]).requiresGrad_();
    const opt = new tf.AdamW([{ params: [w] }, { params: [b], weightDecay: 0 }], { lr: 0.1, weightDecay: 0.5 });
    w.grad = tf.keep(tf.zeros([2]));
    b.grad = tf.keep(tf.zeros([2]));
    opt.step();
    expect(w.data()[0]).toBeCloseTo(0.95, 6);
    expect(b.data()[0]).toBe(1);
    expect(() => new tf.AdamW([w, w])).toThrow(/more than one group/);
    expect(() => new tf.AdamW([w], { betas: [1, 0.9] })).toThrow(/betas must be in \[0, 1\)/);
  });
});
