// Every CPU kernel against its plain-loop reference, forward and backward, on awkward shapes
// (1, odd, prime, empty, broadcast, strided views, batch dims), under every ISA level this CPU has.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';
import { native, opListFromSource } from '../lib/native.js';
import { runInto } from '../lib/ops/dispatch.js';
import { normErr } from './helpers/compare.js';

type T = tf.Tensor;
interface Case {
  name: string;
  inputs: (g: tf.Generator) => T[];
  fn: (...xs: T[]) => T | T[];
  /** differentiate w.r.t. float inputs (default true) */
  grad?: boolean;
  tol?: number;
}

const cases: Case[] = [];
const add = (c: Case) => cases.push(c);
const rn = (g: tf.Generator, shape: number[]) => tf.randn(shape, { generator: g });
const pos = (g: tf.Generator, shape: number[]) => tf.rand(shape, { generator: g, low: 0.5, high: 2 });
/** the same values through a non-contiguous (stride 2) view */
const strided = (t: T) => tf.squeeze(tf.slice(tf.stack([t, tf.zerosLike(t)], -1), -1, 0, 1), -1);

const SHAPES = [[1], [3], [17], [37, 3], [129], [0], [2, 0, 3], [2, 3, 17]];
const UNARY = ['neg', 'abs', 'exp', 'relu', 'tanh', 'sigmoid', 'gelu', 'gelu_tanh'] as const;
for (const op of UNARY) {
  for (const s of SHAPES) {
    add({
      name: `${op} ${JSON.stringify(s)}`,
      inputs: (g) => [rn(g, s)],
      fn: (x) => (op === 'gelu_tanh' ? tf.gelu(x!, 'tanh') : (tf[op] as (x: T) => T)(x!)),
    });
  }
  add({ name: `${op} strided`, inputs: (g) => [strided(rn(g, [5, 17]))], fn: (x) => (op === 'gelu_tanh' ? tf.gelu(x!, 'tanh') : (tf[op] as (x: T) => T)(x!)) });
}
for (const op of ['log', 'sqrt', 'rsqrt'] as const) {
  for (const s of [[1], [17], [3, 37]]) add({ name: `${op} ${JSON.stringify(s)}`, inputs: (g) => [pos(g, s)], fn: (x) => tf[op](x!) });
  add({ name: `${op} strided`, inputs: (g) => [strided(pos(g, [4, 9]))], fn: (x) => tf[op](x!) });
}
add({ name: 'sign', inputs: (g) => [rn(g, [37])], fn: (x) => tf.sign(x!), grad: false });
add({ name: 'clamp', inputs: (g) => [rn(g, [3, 17])], fn: (x) => tf.clamp(x!, -0.5, 0.7) });
add({ name: 'clamp one-sided strided', inputs: (g) => [strided(rn(g, [17]))], fn: (x) => tf.clamp(x!, null, 0.1) });

const PAIRS = [
  [[17], [17]],
  [[3, 1], [1, 17]],
  [[2, 3, 17], [17]],
  [[1], [129]],
  [[0, 3], [1, 3]],
  [[37, 1, 3], [5, 1]],
];
const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const;
for (const op of BINARY) {
  for (const [a, b] of PAIRS) {
    add({ name: `${op} ${JSON.stringify(a)} ${JSON.stringify(b)}`, inputs: (g) => [rn(g, a!), op === 'div' ? pos(g, b!) : rn(g, b!)], fn: (x, y) => tf[op](x!, y!) });
  }
  add({ name: `${op} strided`, inputs: (g) => [strided(rn(g, [5, 7])), tf.transpose(op === 'div' ? pos(g, [7, 5]) : rn(g, [7, 5]))], fn: (x, y) => tf[op](x!, y!) });
}
add({ name: 'pow', inputs: (g) => [pos(g, [3, 17]), rn(g, [17])], fn: (x, y) => tf.pow(x!, y!) });
add({ name: 'add int32', inputs: (g) => [tf.randint(-50, 50, [37], { generator: g }), tf.randint(-50, 50, [3, 1], { generator: g })], fn: (x, y) => tf.add(x!, y!), grad: false });
for (const op of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
  add({ name: op, inputs: (g) => [tf.randint(0, 3, [3, 17], { generator: g }).to('float32'), tf.randint(0, 3, [17], { generator: g }).to('float32')], fn: (x, y) => tf[op](x!, y!), grad: false });
}
add({ name: 'where broadcast', inputs: (g) => [rn(g, [3, 1]), rn(g, [1, 17]), tf.gt(rn(g, [17]), 0)], fn: (a, b, m) => tf.where(m!, a!, b!) });
add({ name: 'masked_fill', inputs: (g) => [rn(g, [3, 17]), tf.gt(rn(g, [3, 1]), 0)], fn: (x, m) => tf.maskedFill(x!, m!, -7) });
add({ name: 'cast to bfloat16 and back', inputs: (g) => [rn(g, [129])], fn: (x) => x!.to('bfloat16').to('float32') });
add({ name: 'cast to float16 and back strided', inputs: (g) => [strided(rn(g, [37]))], fn: (x) => x!.to('float16').to('float32') });

for (const [s, axes] of [
  [[17, 37], 0],
  [[17, 37], 1],
  [[17, 37], [0, 1]],
  [[2, 3, 17], [0, 2]],
  [[3, 7, 37], 1], // a middle axis: rows added run by run (37-float runs)
  [[2, 5, 3, 20], [1, 2]],
  [[129], undefined],
  [[0, 3], 0],
  [[1, 1], undefined],
] as [number[], number | number[] | undefined][]) {
  for (const op of ['sum', 'mean', 'max', 'min', 'variance'] as const) {
    if ((op === 'max' || op === 'min') && s.includes(0)) continue;
    if (op === 'variance' && s.every((d) => d === 1)) continue;
    add({ name: `${op} ${JSON.stringify(s)} axes ${JSON.stringify(axes)}`, inputs: (g) => [rn(g, s)], fn: (x) => tf[op](x!, axes, false) });
    add({ name: `${op} keepdim strided ${JSON.stringify(s)} axes ${JSON.stringify(axes)}`, inputs: (g) => [strided(rn(g, s))], fn: (x) => tf[op](x!, axes, true) });
  }
}
add({ name: 'argmax', inputs: (g) => [rn(g, [17, 37])], fn: (x) => tf.argmax(x!, 1), grad: false });
add({ name: 'argmax all', inputs: (g) => [rn(g, [3, 17])], fn: (x) => tf.argmax(x!), grad: false });
for (const s of [[1, 1], [3, 17], [129, 37], [2, 3, 5]]) {
  add({ name: `softmax ${JSON.stringify(s)}`, inputs: (g) => [rn(g, s)], fn: (x) => tf.softmax(x!, -1) });
  add({ name: `log_softmax ${JSON.stringify(s)}`, inputs: (g) => [rn(g, s)], fn: (x) => tf.logSoftmax(x!, -1) });
  add({ name: `softmax axis 0 ${JSON.stringify(s)}`, inputs: (g) => [rn(g, s)], fn: (x) => tf.softmax(x!, 0) });
}

for (const [a, b] of [
  [[1, 1], [1, 1]],
  [[3, 17], [17, 37]],
  [[129, 37], [37, 17]],
  [[37, 129], [129, 33]],
  [[2, 3, 17], [17, 5]],
  [[2, 1, 3, 17], [4, 17, 5]],
  [[5, 0], [0, 3]],
  [[0, 4], [4, 3]],
  [[17], [17, 3]],
  [[3, 17], [17]],
]) {
  add({ name: `matmul ${JSON.stringify(a)} ${JSON.stringify(b)}`, inputs: (g) => [rn(g, a!), rn(g, b!)], fn: (x, y) => tf.matmul(x!, y!) });
}
// a batch sharing one B runs as one GEMM when its rows run on (batch x M rows), else per batch index
add({ name: 'matmul batch sharing B, folded', inputs: (g) => [rn(g, [3, 50, 40]), rn(g, [40, 33])], fn: (x, y) => tf.matmul(x!, y!) });
add({ name: 'matmul batch sharing B, rows not running on', inputs: (g) => [tf.permute(rn(g, [50, 3, 40]), [1, 0, 2]), rn(g, [40, 33])], fn: (x, y) => tf.matmul(x!, y!) });
add({ name: 'matmul batch sharing B, bfloat16 out', inputs: (g) => [rn(g, [2, 70, 24]), rn(g, [24, 19])], fn: (x, y) => tf.matmul(x!.to('bfloat16'), y!.to('bfloat16')).to('float32'), tol: 1e-2 });
add({ name: 'matmul transposed views', inputs: (g) => [tf.transpose(rn(g, [37, 19])), tf.transpose(rn(g, [23, 37]))], fn: (x, y) => tf.matmul(x!, y!) });
add({ name: 'matmul strided rows', inputs: (g) => [strided(rn(g, [19, 37])), rn(g, [37, 40])], fn: (x, y) => tf.matmul(x!, y!) });
add({ name: 'matmul large (several K blocks)', inputs: (g) => [rn(g, [70, 600]), rn(g, [600, 45])], fn: (x, y) => tf.matmul(x!, y!) });
add({ name: 'matmul bfloat16', inputs: (g) => [rn(g, [37, 66]), rn(g, [66, 41])], fn: (x, y) => tf.matmul(x!.to('bfloat16'), y!.to('bfloat16')).to('float32'), tol: 1e-2 });
add({ name: 'matmul float16', inputs: (g) => [rn(g, [17, 30]), rn(g, [30, 9])], fn: (x, y) => tf.matmul(x!.to('float16'), y!.to('float16')).to('float32'), tol: 2e-3 });
for (const [xs, bias] of [
  [[3, 17], true],
  [[2, 5, 17], true],
  [[17], false],
  [[129, 17], false],
] as [number[], boolean][]) {
  add({
    name: `linear ${JSON.stringify(xs)} bias ${bias}`,
    inputs: (g) => [rn(g, xs), rn(g, [37, 17]), ...(bias ? [rn(g, [37])] : [])],
    fn: (x, w, b) => tf.linear(x!, w!, b),
  });
}
add({ name: 'linear strided input', inputs: (g) => [tf.transpose(rn(g, [17, 6])), rn(g, [5, 17]), rn(g, [5])], fn: (x, w, b) => tf.linear(x!, w!, b) });
// a fused residual: every micro-kernel tile (8 x 32), edge tiles, and k slices (K 300 > 256)
add({ name: 'linear residual', inputs: (g) => [rn(g, [2, 21, 300]), rn(g, [70, 300]), rn(g, [70]), rn(g, [2, 21, 70])], fn: (x, w, b, r) => tf.linear(x!, w!, b, r) });
add({ name: 'linear residual, no bias, strided residual', inputs: (g) => [rn(g, [9, 17]), rn(g, [33, 17]), tf.transpose(rn(g, [33, 9]))], fn: (x, w, r) => tf.linear(x!, w!, null, r) });
add({ name: 'linear bfloat16 with a float32 residual (float32 out)', inputs: (g) => [rn(g, [5, 40]), rn(g, [24, 40]), rn(g, [5, 24])], fn: (x, w, r) => tf.linear(x!.to('bfloat16'), w!.to('bfloat16'), null, r), tol: 1e-2 });

// int8: weight quantisation, then the int8 linear (dynamic and static activation scales) on
// shapes that cover partial row tiles, partial column panels and K not a multiple of 4
add({ name: 'quantize_per_channel', inputs: (g) => [rn(g, [37, 19])], fn: (w) => Object.values(tf.quantizePerChannel(w!)), grad: false });
add({ name: 'quantize_per_channel zero row, bfloat16 strided', inputs: (g) => [tf.concat([tf.zeros([1, 33]), strided(rn(g, [5, 33]))], 0).to('bfloat16')], fn: (w) => Object.values(tf.quantizePerChannel(w!)), grad: false });
for (const [xs, n, bias, act] of [
  [[3, 17], 37, true, 0],
  [[2, 9, 66], 41, false, 0],
  [[17], 5, true, 0],
  [[70, 256], 96, true, 0],
  [[13, 30], 33, true, 0.02],
  [[4, 0], 3, true, 0],
] as [number[], number, boolean, number][]) {
  add({
    name: `linear_int8 ${JSON.stringify(xs)} N ${n} bias ${bias} scale ${act}`,
    inputs: (g) => [rn(g, xs), rn(g, [n, xs[xs.length - 1]!]), ...(bias ? [rn(g, [n])] : [])],
    fn: (x, w, b) => tf.linearInt8(x!, tf.quantizePerChannel(w!), b, act),
    grad: false,
    tol: 1e-5,
  });
}
add({ name: 'linear_int8 residual', inputs: (g) => [rn(g, [3, 11, 40]), rn(g, [70, 40]), rn(g, [70]), rn(g, [3, 11, 70])], fn: (x, w, b, r) => tf.linearInt8(x!, tf.quantizePerChannel(w!), b, 0, r), grad: false, tol: 1e-5 });
add({ name: 'linear_int8 residual, no bias, static scale', inputs: (g) => [rn(g, [13, 30]), rn(g, [9, 30]), strided(rn(g, [13, 9]))], fn: (x, w, r) => tf.linearInt8(x!, tf.quantizePerChannel(w!), null, 0.02, r), grad: false, tol: 1e-5 });
add({ name: 'linear_int8 bfloat16 in, bfloat16 out', inputs: (g) => [rn(g, [3, 11, 40]), rn(g, [70, 40]), rn(g, [70])], fn: (x, w, b) => tf.linearInt8(x!.to('bfloat16'), tf.quantizePerChannel(w!), b, 0, null, { outDtype: 'bfloat16' }).to('float32'), grad: false, tol: 1e-2 });
add({ name: 'linear_int8 bfloat16 out, residual, static scale', inputs: (g) => [rn(g, [13, 30]), rn(g, [9, 30]), rn(g, [13, 9])], fn: (x, w, r) => tf.linearInt8(x!, tf.quantizePerChannel(w!), null, 0.02, r, { outDtype: 'bfloat16' }).to('float32'), grad: false, tol: 1e-2 });
add({ name: 'linear_int8 strided bfloat16 input, bfloat16 out', inputs: (g) => [strided(rn(g, [6, 20])).to('bfloat16'), rn(g, [33, 20])], fn: (x, w) => tf.linearInt8(x!, tf.quantizePerChannel(w!), null, 0, null, { outDtype: 'bfloat16' }).to('float32'), grad: false, tol: 1e-2 });
add({ name: 'linear_int8 gelu, bfloat16 out', inputs: (g) => [rn(g, [2, 9, 40]), rn(g, [70, 40]), rn(g, [70])], fn: (x, w, b) => tf.linearInt8(x!, tf.quantizePerChannel(w!), b, 0, null, { activation: 'gelu', outDtype: 'bfloat16' }).to('float32'), grad: false, tol: 1e-2 });
add({ name: 'linear_int8 gelu', inputs: (g) => [rn(g, [13, 40]), rn(g, [37, 40]), rn(g, [37])], fn: (x, w, b) => tf.linearInt8(x!, tf.quantizePerChannel(w!), b, 0, null, { activation: 'gelu' }), grad: false, tol: 1e-5 });
add({ name: 'linear_int8 relu, static scale', inputs: (g) => [rn(g, [13, 40]), rn(g, [37, 40])], fn: (x, w) => tf.linearInt8(x!, tf.quantizePerChannel(w!), null, 0.03, null, { activation: 'relu' }), grad: false, tol: 1e-5 });
add({ name: 'linear_int8 strided bfloat16 input', inputs: (g) => [strided(rn(g, [6, 20])).to('bfloat16'), rn(g, [9, 20])], fn: (x, w) => tf.linearInt8(x!, tf.quantizePerChannel(w!)), grad: false, tol: 1e-5 });

for (const s of [[1, 1], [3, 17], [129, 37], [2, 3, 64]]) {
  const d = s[s.length - 1]!;
  add({ name: `layer_norm ${JSON.stringify(s)}`, inputs: (g) => [rn(g, s), rn(g, [d]), rn(g, [d])], fn: (x, w, b) => tf.layerNorm(x!, w, b) });
}
add({ name: 'layer_norm no affine strided', inputs: (g) => [strided(rn(g, [5, 9]))], fn: (x) => tf.layerNorm(x!) });

add({ name: 'embedding', inputs: (g) => [rn(g, [37, 17]), tf.randint(0, 37, [2, 9], { generator: g })], fn: (w, i) => tf.embedding(w!, i!) });
add({
  name: 'embedding int8 with row scales',
  inputs: (g) => [rn(g, [37, 17]), tf.randint(0, 37, [2, 9], { generator: g })],
  fn: (w, i) => {
    const { q, scale } = tf.quantizePerChannel(w!);
    return tf.embedding(q, i!, scale);
  },
  grad: false,
});
// a transposed int8 table (37 rows of 17, strided) with its own 37 row scales
add({ name: 'embedding int8 with row scales, strided table', inputs: (g) => [rn(g, [17, 37]), pos(g, [37])], fn: (w, s) => {
  const { q } = tf.quantizePerChannel(w!);
  return tf.embedding(tf.transpose(q, 0, 1), tf.tensor([[36, 0], [5, 5]], { dtype: 'int32' }), s!);
}, grad: false });
add({ name: 'embedding repeated rows', inputs: (g) => [rn(g, [5, 3]), tf.tensor([[0, 0, 4], [4, 4, 1]], { dtype: 'int32' })], fn: (w, i) => tf.embedding(w!, i!) });
add({ name: 'gather axis 1', inputs: (g) => [rn(g, [3, 17]), tf.randint(0, 17, [3, 5], { generator: g })], fn: (x, i) => tf.gather(x!, 1, i!) });
add({ name: 'gather axis 0 repeated', inputs: (g) => [rn(g, [4, 6]), tf.randint(0, 4, [9, 6], { generator: g })], fn: (x, i) => tf.gather(x!, 0, i!) });
add({ name: 'index_select', inputs: (g) => [rn(g, [7, 5, 3]), tf.tensor([6, 0, 0, 2], { dtype: 'int32' })], fn: (x, i) => tf.indexSelect(x!, 0, i!) });
add({ name: 'index_select axis 2', inputs: (g) => [rn(g, [2, 5, 3]), tf.tensor([2, 2, 1, 0, 1], { dtype: 'int32' })], fn: (x, i) => tf.indexSelect(x!, -1, i!) });
add({ name: 'dropout', inputs: (g) => [rn(g, [37, 17])], fn: (x) => tf.dropout(x!, 0.3, true, new tf.Generator(5)) });
add({ name: 'dropout strided', inputs: (g) => [strided(rn(g, [17]))], fn: (x) => tf.dropout(x!, 0.5, true, new tf.Generator(9)) });
add({ name: 'dropout large (threads split inside Philox blocks)', inputs: (g) => [rn(g, [301, 257])], fn: (x) => tf.dropout(x!, 0.1, true, new tf.Generator(3)), grad: false });
for (const [opts, n] of [
  [{}, 17],
  [{ labelSmoothing: 0.1 }, 9],
  [{ reduction: 'sum', ignoreIndex: 2 }, 13],
  [{ reduction: 'none' }, 1],
] as [tf.CrossEntropyOptions, number][]) {
  add({
    name: `cross_entropy ${JSON.stringify(opts)}`,
    inputs: (g) => [rn(g, [n, 5]), tf.randint(0, 5, [n], { generator: g })],
    fn: (x, y) => tf.crossEntropy(x!, y!, opts),
  });
}
add({ name: 'concat', inputs: (g) => [rn(g, [3, 5]), rn(g, [3, 1]), rn(g, [3, 0])], fn: (a, b, c) => tf.concat([a!, b!, c!], 1) });
add({ name: 'stack', inputs: (g) => [rn(g, [4]), strided(rn(g, [4]))], fn: (a, b) => tf.stack([a!, b!], 1) });
add({ name: 'split', inputs: (g) => [rn(g, [7, 3])], fn: (a) => tf.concat(tf.split(a!, 3, 0).map((p, i) => tf.mul(p, i + 1)), 0) });

for (const [b, h, sq, sk, d, dv, mask, causal] of [
  [1, 1, 1, 1, 8, 8, false, false],
  [2, 3, 17, 17, 8, 8, true, false],
  [1, 2, 37, 37, 16, 16, false, true],
  [2, 2, 5, 129, 16, 8, true, false],
  [1, 1, 129, 129, 32, 32, true, true],
  [1, 1, 70, 65, 8, 4, false, false],
] as [number, number, number, number, number, number, boolean, boolean][]) {
  add({
    name: `attention B${b} H${h} Sq${sq} Sk${sk} D${d} Dv${dv}${mask ? ' mask' : ''}${causal ? ' causal' : ''}`,
    inputs: (g) => {
      const m = tf.lt(tf.rand([b, sk], { generator: g }), 0.25);
      return [rn(g, [b, h, sq, d]), rn(g, [b, h, sk, d]), rn(g, [b, h, sk, dv]), m];
    },
    fn: (q, k, v, m) => tf.scaledDotProductAttention(q!, k!, v!, { keyPaddingMask: mask ? m : null, causal }),
  });
}
// batch 0: the first key tile (64 keys) all padding, so the online softmax starts from rows with no
// visible key; batch 1: every key padding (output 0, gradients 0)
add({
  name: 'attention with a first key tile and a whole batch element masked',
  inputs: (g) => [rn(g, [2, 2, 5, 8]), rn(g, [2, 2, 70, 8]), rn(g, [2, 2, 70, 8]), tf.tensor([Array.from({ length: 70 }, (_, j) => (j < 64 ? 1 : 0)), Array.from({ length: 70 }, () => 1)], { dtype: 'uint8' })],
  fn: (q, k, v, m) => tf.scaledDotProductAttention(q!, k!, v!, { keyPaddingMask: m! }),
});
add({
  name: 'attention strided heads',
  inputs: (g) => [rn(g, [2, 9, 3, 8]), rn(g, [2, 9, 3, 8]), rn(g, [2, 9, 3, 8])],
  fn: (q, k, v) => tf.scaledDotProductAttention(tf.permute(q!, [0, 2, 1, 3]), tf.permute(k!, [0, 2, 1, 3]), tf.permute(v!, [0, 2, 1, 3])),
});
add({
  name: 'attention on the heads of a packed projection, causal',
  inputs: (g) => [rn(g, [2, 9, 3 * 2 * 8])],
  fn: (x) => {
    const [q, k, v] = tf.split(x!, 16, -1).map((t) => tf.permute(tf.reshape(t, [2, 9, 2, 8]), [0, 2, 1, 3]));
    return tf.scaledDotProductAttention(q!, k!, v!, { causal: true });
  },
});
// bfloat16 q, k, v: with AVX512_BF16 and D even, Dv 16/32/64, the products run as bf16 dot
// products read in place (the last case falls back to float32 staging)
for (const [b, h, sq, sk, d, dv, mask, causal] of [
  [2, 2, 37, 129, 32, 32, true, false],
  [1, 3, 70, 67, 16, 16, false, true],
  [2, 1, 33, 5, 64, 64, true, true],
  [1, 2, 9, 9, 6, 32, false, false],
  [1, 1, 5, 7, 8, 8, false, false],
] as [number, number, number, number, number, number, boolean, boolean][]) {
  add({
    name: `attention bfloat16 B${b} H${h} Sq${sq} Sk${sk} D${d} Dv${dv}${mask ? ' mask' : ''}${causal ? ' causal' : ''}`,
    inputs: (g) => [rn(g, [b, h, sq, d]), rn(g, [b, h, sk, d]), rn(g, [b, h, sk, dv]), tf.lt(tf.rand([b, sk], { generator: g }), 0.25)],
    fn: (q, k, v, m) => tf.scaledDotProductAttention(q!.to('bfloat16'), k!.to('bfloat16'), v!.to('bfloat16'), { keyPaddingMask: mask ? m : null, causal }).to('float32'),
    tol: 1e-2,
  });
}
add({
  name: 'attention bfloat16 with a first key tile and a whole batch element masked',
  inputs: (g) => [rn(g, [2, 2, 5, 16]), rn(g, [2, 2, 70, 16]), rn(g, [2, 2, 70, 16]), tf.tensor([Array.from({ length: 70 }, (_, j) => (j < 64 ? 1 : 0)), Array.from({ length: 70 }, () => 1)], { dtype: 'uint8' })],
  fn: (q, k, v, m) => tf.scaledDotProductAttention(q!.to('bfloat16'), k!.to('bfloat16'), v!.to('bfloat16'), { keyPaddingMask: m! }).to('float32'),
  tol: 1e-2,
});
add({
  name: 'attention bfloat16 on the heads of a packed projection',
  inputs: (g) => [rn(g, [2, 40, 3 * 2 * 32])],
  fn: (x) => {
    const [q, k, v] = tf.split(x!.to('bfloat16'), 64, -1).map((t) => tf.permute(tf.reshape(t, [2, 40, 2, 32]), [0, 2, 1, 3]));
    return tf.scaledDotProductAttention(q!, k!, v!).to('float32');
  },
  tol: 1e-2,
});
add({ name: 'rand_uniform', inputs: () => [], fn: () => tf.rand([37, 3], { generator: new tf.Generator(3), low: -2, high: 5 }), grad: false });
add({ name: 'rand_normal', inputs: () => [], fn: () => tf.randn([129], { generator: new tf.Generator(4) }), grad: false });
add({
  name: 'adamw and sgd steps',
  grad: false,
  inputs: (g) => [rn(g, [17, 3]), rn(g, [17, 3]), rn(g, [5]), rn(g, [5])],
  fn: (p1, g1, p2, g2) => {
    const a = tf.keep(p1!.clone()).requiresGrad_(), b = tf.keep(p2!.clone()).requiresGrad_();
    const adam = new tf.AdamW([a], { lr: 0.1, weightDecay: 0.05 });
    const sgd = new tf.SGD([b], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 });
    for (let i = 0; i < 3; i++) {
      a.grad = tf.keep(tf.mul(g1!, i + 1));
      b.grad = tf.keep(tf.mul(g2!, i - 1));
      adam.step();
      sgd.step();
    }
    return [a.detach(), b.detach()];
  },
});

interface Outcome {
  outs: T[];
  grads: (T | null)[];
}

function runCase(c: Case): Outcome {
  const g = new tf.Generator(1234);
  const inputs = c.inputs(g);
  const wantGrad = c.grad ?? true;
  const leaves = inputs.map((x) => (wantGrad && x.dtype === 'float32' ? tf.keep(x.detach()).requiresGrad_() : x));
  const y = c.fn(...leaves);
  const outs = Array.isArray(y) ? y : [y];
  if (wantGrad && outs[0]!.requiresGrad) {
    const w = tf.randn(outs[0]!.shape, { generator: new tf.Generator(99) });
    tf.backward(tf.sum(tf.mul(outs[0]!.to('float32'), w)));
  }
  return { outs: outs.map((o) => tf.keep(o.detach())), grads: leaves.map((l) => (l.requiresGrad ? l.grad : null)) };
}

function compare(c: Case, got: Outcome, ref: Outcome): void {
  const tol = c.tol ?? 2e-5;
  got.outs.forEach((o, i) => {
    expect(o.shape, `${c.name} out ${i} shape`).toEqual(ref.outs[i]!.shape);
    expect(o.dtype).toBe(ref.outs[i]!.dtype);
    const e = normErr(o, ref.outs[i]!);
    expect(e, `${c.name} out ${i}: error ${e}`).toBeLessThanOrEqual(tol);
  });
  got.grads.forEach((gr, i) => {
    const r = ref.grads[i];
    expect(gr === null, `${c.name} grad ${i} presence`).toBe(r === null || r === undefined);
    if (gr && r) {
      const e = normErr(gr, r);
      expect(e, `${c.name} grad ${i}: error ${e}`).toBeLessThanOrEqual(tol * 5);
    }
  });
}

// Every op the reference ran, to prove the cases cover the whole op list.
const refOps = new Set<string>();
const refResults = new Map<string, Outcome>();
function reference(c: Case): Outcome {
  let r = refResults.get(c.name);
  if (!r) {
    const original = native.run;
    native.run = (op, backend, ...rest) => {
      if (backend === 1) refOps.add(typeof op === 'number' ? native.opNames()[op]! : op);
      return original.call(native, op, backend, ...rest);
    };
    try {
      r = tf.withBackend('ref', () => runCase(c));
    } finally {
      native.run = original;
    }
    refResults.set(c.name, r);
  }
  return r;
}

describe.each(tf.availableIsas())('CPU kernels vs reference, ISA %s', (isa) => {
  beforeAll(() => {
    expect(tf.setIsa(isa)).toBe(isa);
  });
  afterAll(() => {
    tf.setIsa('avx512_bf16');
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    compare(c, runCase(c), reference(c));
  });
});

describe('coverage', () => {
  it('the cases above ran every op of ops.def on the reference backend', () => {
    for (const c of cases) reference(c);
    const missing = opListFromSource().filter((op) => !refOps.has(op));
    expect(missing).toEqual([]);
  });
});

// The GEMM keeps a weight's packed panels from its second use until the weight is written
// (gemm.h): results must never come from an older version.
describe('packed weights kept across calls', () => {
  const same = (a: tf.Tensor, b: tf.Tensor) => expect(a.data()).toEqual(b.data());
  const fresh = (w: tf.Tensor) => tf.tensor(w.data() as Float32Array, { shape: [...w.shape] });
  it('are reused while the weight is unchanged, and dropped after every kind of write', () => {
    tf.noGrad(() => {
      tf.manualSeed(3);
      const x = tf.randn([40, 96]), w = tf.randn([70, 96]), b = tf.randn([70]);
      const first = tf.linear(x, w, b);
      same(tf.linear(x, w, b), first);
      const before = native.info().packCacheBytes;
      same(tf.linear(x, w, b), first);  // the third call reads the kept panels
      expect(native.info().packCacheBytes).toBeGreaterThan(0);
      expect(native.info().packCacheBytes).toBeGreaterThanOrEqual(before);
      // an op writing into the weight
      runInto('copy', [tf.randn([70, 96])], [w]);
      for (let i = 0; i < 3; i++) same(tf.linear(x, w, b), tf.linear(x, fresh(w), b));
      // the JS side writing its bytes
      w.desc('test')[0].write(0, tf.randn([70, 96]).data() as Float32Array);
      for (let i = 0; i < 3; i++) same(tf.linear(x, w, b), tf.linear(x, fresh(w), b));
      // an optimizer step updating it in place
      const p = w.requiresGrad_();
      p.grad = tf.randn([70, 96]);
      new tf.AdamW([p], { lr: 0.1 }).step();
      for (let i = 0; i < 3; i++) same(tf.linear(x, w, b), tf.linear(x, fresh(w), b));
      // views into one buffer are kept apart; matmul's B as well
      const top = w.slice(0, 0, 30), rest = w.slice(0, 30, 70);
      for (let i = 0; i < 3; i++) {
        same(tf.linear(x, top), tf.linear(x, fresh(top)));
        same(tf.linear(x, rest), tf.linear(x, fresh(rest)));
        same(tf.matmul(x, w.transpose()), tf.matmul(x, fresh(w).transpose()));
      }
    });
  });
  it('int8: the packed weights are reused until the weight is written; scales and bias are read on every call', () => {
    tf.noGrad(() => {
      tf.manualSeed(4);
      const x = tf.randn([24, 100]), w = tf.quantizePerChannel(tf.randn([40, 100])), b = tf.randn([40]);
      const freshQ = () => ({ q: tf.tensor(w.q.data() as Int8Array, { shape: [40, 100], dtype: 'int8' }), scale: tf.tensor(w.scale.data() as Float32Array) });
      for (let i = 0; i < 3; i++) same(tf.linearInt8(x, w, b), tf.linearInt8(x, freshQ(), b));
      const q2 = tf.quantizePerChannel(tf.randn([40, 100]));
      runInto('copy', [q2.q], [w.q]);
      for (let i = 0; i < 3; i++) same(tf.linearInt8(x, w, b), tf.linearInt8(x, freshQ(), b));
      runInto('copy', [q2.scale], [w.scale]);
      runInto('copy', [tf.randn([40])], [b]);
      for (let i = 0; i < 3; i++) same(tf.linearInt8(x, w, b), tf.linearInt8(x, freshQ(), tf.tensor(b.data() as Float32Array)));
    });
  });
  it('of a freed weight go with it', () => {
    tf.noGrad(() => {
      const x = tf.randn([16, 64]);
      const w = tf.randn([48, 64]);
      for (let i = 0; i < 3; i++) tf.linear(x, w).dispose();
      const held = native.info().packCacheBytes;
      w.dispose();
      expect(native.info().packCacheBytes).toBeLessThan(held);
    });
  });
});
