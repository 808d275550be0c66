// Bad input never crashes the process: every malformed call throws an Error that names the op and
// the shapes or values at fault. Several hundred calls go straight at the native binding.
import { describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';
import { native, opListFromSource, type NativeStorage, type ViewDesc } from '../lib/native.js';

const OPS = opListFromSource();

/** A deterministic xorshift PRNG for the fuzzer. */
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function expectError(fn: () => unknown, pattern?: RegExp): Error {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a thrown Error').toBeInstanceOf(Error);
  if (pattern) expect((err as Error).message).toMatch(pattern);
  return err as Error;
}

describe('binding: malformed calls', () => {
  const s = new native.Storage(64);
  const good: ViewDesc = [s, 0, 0, [4], [1]];
  it('wrong argument counts and types', () => {
    const calls: (() => unknown)[] = [
      () => (native.run as unknown as () => void)(),
      () => (native.run as unknown as (...a: unknown[]) => void)('exp'),
      () => native.run('nope', 0, [good], null, []),
      () => native.run(17 as unknown as string, 0, [good], null, []),
      () => native.run('exp', 9, [good], null, []),
      () => native.run('exp', -1, [good], null, []),
      () => native.run('exp', 0.5, [good], null, []),
      () => native.run('exp', 0, 'x' as unknown as ViewDesc[], null, []),
      () => native.run('exp', 0, [good], 'x' as unknown as ViewDesc[], []),
      () => native.run('exp', 0, [good], null, 'x' as unknown as number[]),
      () => native.run('exp', 0, [good], null, ['1' as unknown as number]),
      () => native.run('exp', 0, [[s, 0, 0, [4]] as unknown as ViewDesc], null, []),
      () => native.run('exp', 0, [[{}, 0, 0, [4], [1]] as unknown as ViewDesc], null, []),
      () => native.run('exp', 0, [[s, 'f', 0, [4], [1]] as unknown as ViewDesc], null, []),
      () => native.run('exp', 0, [[s, 0, 0, 'x', [1]] as unknown as ViewDesc], null, []),
      () => native.run('exp', 0, [[s, 0, 0, [4], [1, 1]]], null, []),
      () => native.run('exp', 0, [[s, 0, 0, [1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]]], null, []),
      () => new native.Storage(-1),
      () => new native.Storage(1.5),
      () => new native.Storage(NaN),
      () => (native.Storage as unknown as (n: number) => void)(4),
      () => s.read(60, 8),
      () => s.read(-1, 2),
      () => s.write(62, new Float32Array(1)),
      () => s.write(0, 'abc' as unknown as Float32Array),
      () => native.setIsa('sse9'),
      () => native.setThreads(0),
      () => native.supports(7, 'exp'),
    ];
    for (const c of calls) expectError(c);
  });
  it('views outside their buffer, bad dtypes, sizes and strides', () => {
    const bad: ViewDesc[] = [
      [s, 0, 0, [17], [1]],
      [s, 0, 15, [2], [1]],
      [s, 0, 0, [4, 4], [4, 2]],
      [s, 6, 0, [4], [1]],
      [s, -1, 0, [4], [1]],
      [s, 2.5, 0, [4], [1]],
      [s, 0, -1, [4], [1]],
      [s, 0, 0.5, [4], [1]],
      [s, 0, 0, [-4], [1]],
      [s, 0, 0, [2.5], [1]],
      [s, 0, 0, [NaN], [1]],
      [s, 0, 0, [Infinity], [1]],
      [s, 0, 0, [4], [-1]],
      [s, 0, 0, [4], [NaN]],
      [s, 0, 0, [1e300, 1e300], [1, 1]],
    ];
    for (const op of ['exp', 'add', 'sum', 'softmax', 'layer_norm', 'copy']) {
      for (const v of bad) expectError(() => native.run(op, 0, op === 'add' ? [v, v] : [v], null, op === 'sum' ? [0] : op === 'layer_norm' ? [1e-5] : []), new RegExp(`^${op}: `));
    }
  });
  it('a disposed buffer is refused', () => {
    const d = new native.Storage(16);
    d.dispose();
    expectError(() => native.run('exp', 0, [[d, 0, 0, [4], [1]]], null, []), /exp: input 0 uses a disposed tensor/);
    expectError(() => d.read(0, 4), /disposed/);
  });
  it('several hundred random calls at every op, then the process still computes correctly', () => {
    const rnd = prng(20261128);
    const pick = <X>(xs: readonly X[]) => xs[Math.floor(rnd() * xs.length)]!;
    const bufs: NativeStorage[] = [new native.Storage(0), new native.Storage(4), new native.Storage(64), new native.Storage(4096)];
    // an int32 buffer of wild indices, to reach the index checks
    const idx = new native.Storage(64);
    idx.write(0, new Int32Array([0, 1, -1, 5, 1000000, -7, 3, 2, 2 ** 31 - 1, -(2 ** 31), 4, 0, 1, 2, 3, 9]));
    bufs.push(idx);
    const sizes = [0, 1, 2, 3, 4, 5, 8, 16, 17];
    let thrown = 0, ran = 0;
    for (let i = 0; i < 1500; i++) {
      const op = pick(OPS);
      const nIn = Math.floor(rnd() * 8);
      const views: ViewDesc[] = [];
      for (let k = 0; k < nIn; k++) {
        const rank = Math.floor(rnd() * 5);
        const shape = Array.from({ length: rank }, () => pick(sizes));
        const contiguous = rnd() < 0.7;
        const strides = shape.map((_, d) => (contiguous ? shape.slice(d + 1).reduce((a, b) => a * b, 1) : pick([0, 1, 2, 3, 7])));
        const dtype = rnd() < 0.6 ? 0 : Math.floor(rnd() * 6);
        views.push([pick(bufs), dtype, pick([0, 0, 0, 1, 3]), shape, strides]);
      }
      const attrs = Array.from({ length: Math.floor(rnd() * 8) }, () => pick([0, 1, -1, 2, 0.5, 1e-5, -100, 3, 1e9, NaN, Infinity]));
      const outs = rnd() < 0.2 ? [[pick(bufs), 0, 0, [pick(sizes)], [1]] as ViewDesc] : null;
      try {
        native.run(op, pick([0, 0, 1]), views, outs, attrs);
        ran++;
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        thrown++;
      }
    }
    expect(thrown).toBeGreaterThan(500);
    expect(thrown + ran).toBe(1500);
    // still alive and right
    expect(tf.matmul(tf.tensor([[1, 2]]), tf.tensor([[3], [4]])).item()).toBe(11);
  });
});

describe('ops: errors name the op and the shapes or values', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['add shapes', () => tf.add(tf.zeros([2, 3]), tf.zeros([4])), /^add: shapes \[2,3\] and \[4\] do not broadcast/],
    ['matmul inner', () => tf.matmul(tf.zeros([2, 3]), tf.zeros([4, 5])), /^matmul: shapes \[2,3\] and \[4,5\] cannot be multiplied/],
    ['matmul batch', () => tf.matmul(tf.zeros([2, 2, 3]), tf.zeros([3, 3, 1])), /^matmul: batch dims/],
    ['linear features', () => tf.linear(tf.zeros([2, 3]), tf.zeros([5, 4])), /^linear: input \[2,3\] has 3 features, weight \[5,4\] expects 4/],
    ['linear bias', () => tf.linear(tf.zeros([2, 3]), tf.zeros([5, 3]), tf.zeros([4])), /^linear: bias \[4\] must be \[5\]/],
    ['layer_norm weight', () => tf.layerNorm(tf.zeros([2, 3]), tf.zeros([4])), /^layer_norm: weight \[4\] must be \[3\]/],
    ['embedding index', () => tf.embedding(tf.zeros([5, 2]), tf.tensor([1, 5], { dtype: 'int32' })), /^embedding: index 5 at flat position 1 is out of range \[0, 5\)/],
    ['embedding negative', () => tf.embedding(tf.zeros([5, 2]), tf.tensor([-1], { dtype: 'int32' })), /^embedding: index -1/],
    ['linear residual shape', () => tf.linear(tf.zeros([2, 3]), tf.zeros([4, 3]), null, tf.zeros([2, 3])), /^linear: residual \[2,3\] must have the output's shape \[2,4\]/],
    ['linear_int8 residual dtype', () => tf.linearInt8(tf.zeros([2, 3]), tf.quantizePerChannel(tf.ones([4, 3])), null, 0, tf.zeros([2, 4], { dtype: 'int32' })), /^linear_int8: residual must be a float tensor, got int32\[2,4\]/],
    ['linear_int8 out dtype', () => tf.linearInt8(tf.zeros([2, 3]), tf.quantizePerChannel(tf.ones([4, 3])), null, 0, null, { outDtype: 'float16' as 'bfloat16' }), /^linear_int8: outDtype must be float32 or bfloat16, got float16/],
    ['linear_int8 activation', () => tf.linearInt8(tf.zeros([2, 3]), tf.quantizePerChannel(tf.ones([4, 3])), null, 0, null, { activation: 'tanh' as 'gelu' }), /^linear_int8: activation must be relu, gelu or null, got tanh/],
    ['linear_int8 activation with a residual', () => tf.linearInt8(tf.zeros([2, 3]), tf.quantizePerChannel(tf.ones([4, 3])), null, 0, tf.zeros([2, 4]), { activation: 'gelu' }), /^linear_int8: an activation and a residual together/],
    ['embedding scale of a float table', () => tf.embedding(tf.zeros([5, 2]), tf.tensor([1], { dtype: 'int32' }), tf.ones([5])), /^embedding: weight with a scale must be int8, got float32\[5,2\]/],
    ['embedding scale length', () => tf.embedding(tf.zeros([5, 2], { dtype: 'int8' }), tf.tensor([1], { dtype: 'int32' }), tf.ones([4])), /^embedding: row scale/],
    ['embedding dtype', () => tf.embedding(tf.zeros([5, 2]), tf.tensor([1])), /^embedding: index must be int32, got float32\[1\]/],
    ['cross_entropy label', () => tf.crossEntropy(tf.zeros([2, 3]), tf.tensor([0, 3], { dtype: 'int32' })), /^cross_entropy: label 3 at row 1 is out of range \[0, 3\)/],
    ['cross_entropy rows', () => tf.crossEntropy(tf.zeros([2, 3]), tf.tensor([0], { dtype: 'int32' })), /^cross_entropy: labels \[1\] must be \[2\]/],
    ['attention shapes', () => tf.scaledDotProductAttention(tf.zeros([1, 2, 3, 4]), tf.zeros([1, 2, 3, 5]), tf.zeros([1, 2, 3, 4])), /^attention: q \[1,2,3,4\], k \[1,2,3,5\]/],
    ['attention mask', () => tf.scaledDotProductAttention(tf.zeros([1, 1, 3, 4]), tf.zeros([1, 1, 3, 4]), tf.zeros([1, 1, 3, 4]), { keyPaddingMask: tf.zeros([1, 4], { dtype: 'uint8' }) }), /^attention: key padding mask \[1,4\] must be \[1,3\]/],
    ['gather index', () => tf.gather(tf.zeros([2, 3]), 1, tf.tensor([[3]], { dtype: 'int32' })), /^gather: index 3/],
    ['index_select', () => tf.indexSelect(tf.zeros([2, 3]), 0, tf.tensor([2], { dtype: 'int32' })), /^index_select: index 2/],
    ['axis', () => tf.sum(tf.zeros([2, 3]), 2), /^sum: axis 2 is out of range for rank 2/],
    ['reshape', () => tf.reshape(tf.zeros([2, 3]), [4, 2]), /^reshape: shape \[4,2\] does not hold the 6 elements of \[2,3\]/],
    ['dropout p', () => tf.dropout(tf.zeros([2]), 1.5), /^dropout: p must be in \[0, 1\), got 1.5/],
    ['max of empty', () => tf.max(tf.zeros([0, 3]), 0), /^max: cannot reduce over the empty axis 0 of \[0,3\]/],
    ['exp of int', () => tf.exp(tf.zeros([2], { dtype: 'int32' })), /^exp: needs a float tensor, got int32\[2\]/],
    ['wrong JS type', () => tf.exp(null as unknown as tf.Tensor), /^exp: input must be a Tensor, got null/],
    ['clamp bounds', () => tf.clamp(tf.zeros([2]), 2, 1), /^clamp: min 2.0+ is above max 1/],
  ];
  it.each(cases)('%s', (_n, fn, pattern) => {
    expectError(fn, pattern);
  });
});
