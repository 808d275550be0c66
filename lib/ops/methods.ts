// Tensor methods, PyTorch style (x.add(y), x.sum(1), x.T ...), delegating to the op functions.
import { backward } from '../autograd/engine.js';
import { isDeviceLike, type DeviceLike } from '../tensor/device.js';
import { DTYPES, type DType } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { toDevice } from './device.js';
import { run1 } from './dispatch.js';
import * as E from './elementwise.js';
import * as M from './matmul.js';
import * as N from './nn.js';
import * as R from './reduce.js';
import * as S from './shape.js';

type TL = E.TensorLike;

declare module '../tensor/tensor.js' {
  interface Tensor {
    add(o: TL): Tensor;
    sub(o: TL): Tensor;
    mul(o: TL): Tensor;
    div(o: TL): Tensor;
    pow(o: TL): Tensor;
    maximum(o: TL): Tensor;
    minimum(o: TL): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    relu(): Tensor;
    gelu(approximate?: 'none' | 'tanh'): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    sign(): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    eq(o: TL): Tensor;
    ne(o: TL): Tensor;
    lt(o: TL): Tensor;
    le(o: TL): Tensor;
    gt(o: TL): Tensor;
    ge(o: TL): Tensor;
    maskedFill(mask: Tensor, value: number): Tensor;
    sum(axes?: R.Axes, keepdim?: boolean): Tensor;
    mean(axes?: R.Axes, keepdim?: boolean): Tensor;
    max(axes?: R.Axes, keepdim?: boolean): Tensor;
    min(axes?: R.Axes, keepdim?: boolean): Tensor;
    var(axes?: R.Axes, keepdim?: boolean, correction?: number): Tensor;
    argmax(axis?: number, keepdim?: boolean): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    matmul(o: Tensor): Tensor;
    reshape(shape: readonly number[]): Tensor;
    view(shape: readonly number[]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    permute(dims: readonly number[]): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    slice(axis: number, start?: number, end?: number, step?: number): Tensor;
    expand(shape: readonly number[]): Tensor;
    squeeze(axis?: number): Tensor;
    unsqueeze(axis: number): Tensor;
    contiguous(): Tensor;
    split(sizes: number | readonly number[], axis?: number): Tensor[];
    gather(axis: number, index: Tensor): Tensor;
    indexSelect(axis: number, index: Tensor): Tensor;
    /** A cast to `dtype`, or a copy on `device` ('cpu', 'cuda', 'cuda:N'); this tensor when nothing changes. */
    to(target: DType | DeviceLike): Tensor;
    /** to('cuda:N') */
    cuda(index?: number): Tensor;
    /** to('cpu') */
    cpu(): Tensor;
    /** A copy that owns its memory (differentiable). */
    clone(): Tensor;
    /** The same data, cut from the autograd graph. */
    detach(): Tensor;
    backward(grad?: Tensor): void;
    /** Sets .grad to null. */
    zeroGrad(): void;
    readonly T: Tensor;
  }
}

const P = Tensor.prototype;
P.add = function (o) { return E.add(this, o); };
P.sub = function (o) { return E.sub(this, o); };
P.mul = function (o) { return E.mul(this, o); };
P.div = function (o) { return E.div(this, o); };
P.pow = function (o) { return E.pow(this, o); };
P.maximum = function (o) { return E.maximum(this, o); };
P.minimum = function (o) { return E.minimum(this, o); };
P.neg = function () { return E.neg(this); };
P.abs = function () { return E.abs(this); };
P.exp = function () { return E.exp(this); };
P.log = function () { return E.log(this); };
P.sqrt = function () { return E.sqrt(this); };
P.rsqrt = function () { return E.rsqrt(this); };
P.relu = function () { return E.relu(this); };
P.gelu = function (a) { return E.gelu(this, a); };
P.tanh = function () { return E.tanh(this); };
P.sigmoid = function () { return E.sigmoid(this); };
P.sign = function () { return E.sign(this); };
P.clamp = function (lo, hi) { return E.clamp(this, lo, hi); };
P.eq = function (o) { return E.eq(this, o); };
P.ne = function (o) { return E.ne(this, o); };
P.lt = function (o) { return E.lt(this, o); };
P.le = function (o) { return E.le(this, o); };
P.gt = function (o) { return E.gt(this, o); };
P.ge = function (o) { return E.ge(this, o); };
P.maskedFill = function (m, v) { return E.maskedFill(this, m, v); };
P.sum = function (a, k) { return R.sum(this, a, k); };
P.mean = function (a, k) { return R.mean(this, a, k); };
P.max = function (a, k) { return R.max(this, a, k); };
P.min = function (a, k) { return R.min(this, a, k); };
P.var = function (a, k, c) { return R.variance(this, a, k, c); };
P.argmax = function (a, k) { return R.argmax(this, a, k); };
P.softmax = function (a) { return R.softmax(this, a); };
P.logSoftmax = function (a) { return R.logSoftmax(this, a); };
P.matmul = function (o) { return M.matmul(this, o); };
P.reshape = function (s) { return S.reshape(this, s); };
P.view = function (s) { return S.reshape(this, s); };
P.flatten = function (a, b) { return S.flatten(this, a, b); };
P.permute = function (d) { return S.permute(this, d); };
P.transpose = function (a, b) { return S.transpose(this, a, b); };
P.slice = function (a, s, e, st) { return S.slice(this, a, s, e, st); };
P.expand = function (s) { return S.expand(this, s); };
P.squeeze = function (a) { return S.squeeze(this, a); };
P.unsqueeze = function (a) { return S.unsqueeze(this, a); };
P.contiguous = function () { return S.contiguous(this); };
P.split = function (s, a) { return S.split(this, s, a); };
P.gather = function (a, i) { return N.gather(this, a, i); };
P.indexSelect = function (a, i) { return N.indexSelect(this, a, i); };
P.to = function (d) {
  if (isDeviceLike(d)) return toDevice(this, d);
  if (!(DTYPES as readonly unknown[]).includes(d)) throw new TypeError(`to: expected a dtype (${DTYPES.join(', ')}) or a device ('cpu', 'cuda', 'cuda:N'), got ${JSON.stringify(d)}`);
  return E.cast(this, d);
};
P.cuda = function (i = 0) { return toDevice(this, `cuda:${i}`); };
P.cpu = function () { return toDevice(this, 'cpu'); };
P.clone = function () {
  const out = run1('copy', [this]);
  return this.requiresGrad ? E.add(out, 0) : out;
};
P.detach = function () { return this.viewOf(this.shape, this.strides, this.offset); };
P.backward = function (g) { backward(this, g); };
P.zeroGrad = function () { this.grad = null; };
Object.defineProperty(P, 'T', {
  get(this: Tensor) {
    return this.ndim < 2 ? this : S.transpose(this, -2, -1);
  },
});
