// Autograd: every differentiable op against finite differences, and the tape's semantics.
import { describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';

type T = tf.Tensor;
const g0 = () => new tf.Generator(11);
const rn = (g: tf.Generator, s: number[]) => tf.randn(s, { generator: g }).requiresGrad_();
const pos = (g: tf.Generator, s: number[]) => tf.rand(s, { generator: g, low: 0.5, high: 2 }).requiresGrad_();
/** values kept away from kinks (0 for relu/abs/clamp bounds) so finite differences are valid */
const offKink = (g: tf.Generator, s: number[]) => {
  const v = tf.randn(s, { generator: g }).data() as Float32Array;
  return tf.tensor(v.map((x) => (Math.abs(x) < 0.1 ? x + 0.3 : x)), { shape: s }).requiresGrad_();
};

const cases: [string, () => T[], (...x: T[]) => T][] = [
  ['add (broadcast)', () => [rn(g0(), [3, 1]), rn(g0(), [4])], (a, b) => tf.add(a!, b!)],
  ['sub', () => [rn(g0(), [3, 4]), rn(g0(), [4])], (a, b) => tf.sub(a!, b!)],
  ['mul', () => [rn(g0(), [2, 3]), rn(g0(), [2, 1])], (a, b) => tf.mul(a!, b!)],
  ['div', () => [rn(g0(), [5]), pos(g0(), [5])], (a, b) => tf.div(a!, b!)],
  ['pow', () => [pos(g0(), [5]), rn(g0(), [5])], (a, b) => tf.pow(a!, b!)],
  ['maximum', () => { const g = g0(); return [rn(g, [6]), rn(g, [6])]; }, (a, b) => tf.maximum(a!, b!)],
  ['minimum', () => { const g = g0(); return [rn(g, [6]), rn(g, [6])]; }, (a, b) => tf.minimum(a!, b!)],
  ['neg', () => [rn(g0(), [4])], (a) => tf.neg(a!)],
  ['abs', () => [offKink(g0(), [6])], (a) => tf.abs(a!)],
  ['exp', () => [rn(g0(), [4])], (a) => tf.exp(a!)],
  ['log', () => [pos(g0(), [4])], (a) => tf.log(a!)],
  ['sqrt', () => [pos(g0(), [4])], (a) => tf.sqrt(a!)],
  ['rsqrt', () => [pos(g0(), [4])], (a) => tf.rsqrt(a!)],
  ['relu', () => [offKink(g0(), [8])], (a) => tf.relu(a!)],
  ['gelu', () => [rn(g0(), [8])], (a) => tf.gelu(a!)],
  ['gelu tanh', () => [rn(g0(), [8])], (a) => tf.gelu(a!, 'tanh')],
  ['tanh', () => [rn(g0(), [8])], (a) => tf.tanh(a!)],
  ['sigmoid', () => [rn(g0(), [8])], (a) => tf.sigmoid(a!)],
  ['clamp', () => [offKink(g0(), [8])], (a) => tf.clamp(a!, -0.05, 0.05 + 10)],
  ['where', () => { const g = g0(); return [rn(g, [2, 3]), rn(g, [3])]; }, (a, b) => tf.where(tf.tensor([1, 0, 1], { dtype: 'uint8' }), a!, b!)],
  ['masked_fill', () => [rn(g0(), [2, 3])], (a) => tf.maskedFill(a!, tf.tensor([[0], [1]], { dtype: 'uint8' }), 2)],
  ['sum axes', () => [rn(g0(), [2, 3, 4])], (a) => tf.sum(a!, [0, 2])],
  ['mean keepdim', () => [rn(g0(), [2, 3])], (a) => tf.mean(a!, 1, true)],
  ['var', () => [rn(g0(), [3, 5])], (a) => tf.variance(a!, 1)],
  ['max', () => [rn(g0(), [3, 5])], (a) => tf.max(a!, 1)],
  ['min', () => [rn(g0(), [3, 5])], (a) => tf.min(a!, 0)],
  ['softmax', () => [rn(g0(), [3, 5])], (a) => tf.softmax(a!, -1)],
  ['softmax axis 0', () => [rn(g0(), [3, 5])], (a) => tf.softmax(a!, 0)],
  ['log_softmax', () => [rn(g0(), [3, 5])], (a) => tf.logSoftmax(a!, -1)],
  ['matmul batched', () => { const g = g0(); return [rn(g, [2, 3, 4]), rn(g, [4, 5])]; }, (a, b) => tf.matmul(a!, b!)],
  ['matmul vector', () => { const g = g0(); return [rn(g, [4]), rn(g, [4, 2])]; }, (a, b) => tf.matmul(a!, b!)],
  ['linear', () => { const g = g0(); return [rn(g, [2, 3, 4]), rn(g, [5, 4]), rn(g, [5])]; }, (x, w, b) => tf.linear(x!, w!, b)],
  ['layer_norm', () => { const g = g0(); return [rn(g, [3, 6]), rn(g, [6]), rn(g, [6])]; }, (x, w, b) => tf.layerNorm(x!, w, b)],
  ['embedding', () => [rn(g0(), [5, 3])], (w) => tf.embedding(w!, tf.tensor([[0, 4, 4], [1, 0, 2]], { dtype: 'int32' }))],
  ['gather', () => [rn(g0(), [3, 4])], (x) => tf.gather(x!, 1, tf.tensor([[0, 0], [3, 1], [2, 2]], { dtype: 'int32' }))],
  ['index_select', () => [rn(g0(), [4, 3])], (x) => tf.indexSelect(x!, 0, tf.tensor([3, 3, 0], { dtype: 'int32' }))],
  ['dropout (fixed mask)', () => [rn(g0(), [20])], (x) => tf.dropout(x!, 0.4, true, new tf.Generator(3))],
  ['cross_entropy smoothing + ignore', () => [rn(g0(), [4, 5])], (x) => tf.crossEntropy(x!, tf.tensor([1, 4, -100, 0], { dtype: 'int32' }), { labelSmoothing: 0.2 })],
  ['attention mask + causal', () => { const g = g0(); return [rn(g, [1, 2, 5, 4]), rn(g, [1, 2, 5, 4]), rn(g, [1, 2, 5, 3])]; },
    (q, k, v) => tf.scaledDotProductAttention(q!, k!, v!, { causal: true, keyPaddingMask: tf.tensor([[0, 0, 1, 0, 0]], { dtype: 'uint8' }) })],
  ['reshape/permute/slice/expand', () => [rn(g0(), [2, 6])], (x) => tf.expand(tf.slice(tf.permute(tf.reshape(x!, [3, 4]), [1, 0]), 0, 1, 4, 2), [2, 2, 3])],
  ['concat/stack/split', () => { const g = g0(); return [rn(g, [2, 3]), rn(g, [2, 3])]; }, (a, b) => tf.mul(tf.concat(tf.split(tf.stack([a!, b!]), 1, 2), 0), 2)],
  // split's parts share one backward: a part left unused gets zeros, x used beside its parts adds up
  ['split: unused part, parts beside x', () => [rn(g0(), [3, 5])], (x) => {
    const [, mid, last] = tf.split(x!, [1, 3, 1], 1);
    return tf.add(tf.mul(tf.sum(mid!, 1, true), last!), tf.slice(x!, 1, 0, 1));
  }],
  ['squeeze/unsqueeze/contiguous', () => [rn(g0(), [3, 1])], (a) => tf.contiguous(tf.transpose(tf.unsqueeze(tf.squeeze(a!), 0)))],
];

describe('gradcheck: autograd vs finite differences', () => {
  it.each(cases)('%s', (_name, make, f) => {
    const inputs = make();
    const r = tf.gradcheck(f, inputs, { eps: 1e-2, atol: 1e-2, rtol: 1e-2 });
    expect(r.ok, r.message).toBe(true);
  });
  it('a wrong backward rule is caught', () => {
    const x = tf.randn([4]).requiresGrad_();
    // forward of exp, but pretend its derivative is 2x
    const bad = (t: T) => {
      const y = tf.exp(t).detach();
      y.setGradFn({ name: 'bad', inputs: [t], backward: (g) => [tf.mul(g, tf.mul(t, 2))] });
      return y;
    };
    expect(tf.gradcheck(bad, [x]).ok).toBe(false);
  });
});

describe('tape semantics', () => {
  it('grads accumulate across backward calls; zeroGrad clears', () => {
    const x = tf.tensor([1, 2, 3], { requiresGrad: true });
    tf.sum(tf.mul(x, x)).backward();
    tf.sum(tf.mul(x, x)).backward();
    expect(x.grad!.toArray()).toEqual([4, 8, 12]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
  });
  it('backward takes an upstream gradient and checks its shape', () => {
    const x = tf.tensor([1, 2], { requiresGrad: true });
    const y = tf.mul(x, 3);
    expect(() => y.backward()).toThrow(/one-element outputs/);
    expect(() => y.backward(tf.ones([3]))).toThrow(/does not match/);
    y.backward(tf.tensor([1, 10]));
    expect(x.grad!.toArray()).toEqual([3, 30]);
  });
  it('a tensor used twice gets both contributions', () => {
    const x = tf.tensor([2], { requiresGrad: true });
    tf.sum(tf.add(tf.mul(x, x), tf.exp(x))).backward();
    expect(x.grad!.item()).toBeCloseTo(4 + Math.exp(2), 4);
  });
  it('noGrad records nothing; detach cuts the graph', () => {
    const x = tf.tensor([1, 2], { requiresGrad: true });
    const y = tf.noGrad(() => tf.mul(x, 2));
    expect(y.requiresGrad).toBe(false);
    const z = tf.mul(x.detach(), 2);
    expect(z.requiresGrad).toBe(false);
    expect(() => z.backward(tf.ones([2]))).toThrow(/does not require grad/);
  });
  it('casts pass the gradient through, in the source dtype', () => {
    const x = tf.tensor([1.3, -2.7], { requiresGrad: true });
    tf.sum(tf.mul(x.to('bfloat16'), 3)).backward();
    expect(x.grad!.dtype).toBe('float32');
    expect(x.grad!.toArray()).toEqual([3, 3]);
  });
  it('integer tensors cannot require grad', () => {
    expect(() => tf.tensor([1], { dtype: 'int32' }).requiresGrad_()).toThrow(/only float tensors/);
  });
});
