// Neural-network functionals on fused kernels: layer_norm, embedding, dropout, cross_entropy,
// scaled-dot-product attention (flash-style), gather and index_select; each with its backward.
import { empty } from '../tensor/create.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { checkTensor, shapeStr, Tensor } from '../tensor/tensor.js';
import { normAxis } from '../tensor/shape.js';
import { fullPrecision, lowPrecision } from './autocast.js';
import { record, run, run1, runInto } from './dispatch.js';
import { div, mul } from './elementwise.js';
import { sum } from './reduce.js';
import { permute, reshape } from './shape.js';

/** LayerNorm over the last dim, with optional float32 weight and bias of that size. */
export function layerNorm(x: Tensor, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  x = fullPrecision(checkTensor(x, 'layer_norm'));
  if (bias && !weight) throw new TypeError('layer_norm: a bias needs a weight');
  const inputs = [x, ...(weight ? [checkTensor(weight, 'layer_norm', 'weight')] : []), ...(bias ? [checkTensor(bias, 'layer_norm', 'bias')] : [])];
  const [y, meanT, rstd] = run('layer_norm', inputs, [eps]) as [Tensor, Tensor, Tensor];
  return record('layer_norm', inputs, y, (g) => {
    const [dx, dw, db] = run('layer_norm_backward', [g, x, meanT, rstd, ...(weight ? [weight] : [])]);
    return [dx!, weight ? dw! : null, bias ? db! : null];
  });
}

/**
 * Rows of weight (V, D) picked by int32 indices of any shape; with `scale` (float32 [V]), an int8
 * table's rows as float32 times their row's scale (a quantised embedding, no gradient).
 */
export function embedding(weight: Tensor, indices: Tensor, scale?: Tensor): Tensor {
  checkTensor(weight, 'embedding', 'weight');
  checkTensor(indices, 'embedding', 'indices');
  if (scale) return run1('embedding', [weight, indices, checkTensor(scale, 'embedding', 'scale')]);
  const out = run1('embedding', [weight, indices]);
  return record('embedding', [weight], out, (g) => [run1('embedding_backward', [g, indices], [weight.shape[0]!])]);
}

/** Inverted dropout with a Philox mask drawn from `generator` (same seed: same mask on every device). */
export function dropout(x: Tensor, p = 0.5, training = true, generator: Generator = defaultGenerator): Tensor {
  checkTensor(x, 'dropout');
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const [seed, offset] = generator.take(x.size);
  const [y, mask] = run('dropout', [x], [p, seed, offset]) as [Tensor, Tensor];
  return record('dropout', [x], y, (g) => [run1('dropout_backward', [g, mask], [p])]);
}

export interface CrossEntropyOptions {
  reduction?: 'mean' | 'sum' | 'none';
  ignoreIndex?: number;
  labelSmoothing?: number;
}

/** Cross-entropy of logits (N, C) against int32 labels (N), as torch.nn.functional.cross_entropy. */
export function crossEntropy(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  logits = fullPrecision(checkTensor(logits, 'cross_entropy', 'logits'));
  checkTensor(labels, 'cross_entropy', 'labels');
  const reduction = opts.reduction ?? 'mean';
  if (!['mean', 'sum', 'none'].includes(reduction)) throw new TypeError(`cross_entropy: unknown reduction ${reduction}`);
  const ignore = opts.ignoreIndex ?? -100, smoothing = opts.labelSmoothing ?? 0;
  const attrs = [ignore, smoothing];
  const [loss, lse] = run('cross_entropy', [logits, labels], attrs) as [Tensor, Tensor];
  const rows = record('cross_entropy', [logits], loss, (g) => [run1('cross_entropy_backward', [logits, labels, lse, g], attrs)]);
  if (reduction === 'none') return rows;
  if (reduction === 'sum') return sum(rows);
  const counted = (labels.data() as Int32Array).reduce((n, y) => n + (y === ignore ? 0 : 1), 0);
  return div(sum(rows), counted);
}

export interface AttentionOptions {
  /** uint8 (B, Sk): 1 marks a padded key that no query may attend to */
  keyPaddingMask?: Tensor | null;
  causal?: boolean;
  /** defaults to 1/sqrt(head dim) */
  scale?: number;
}

/** softmax(q kᵀ · scale) v on (B, H, S, D) tensors, flash-style: the S×S matrix is never stored. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  [q, k, v] = [lowPrecision(checkTensor(q, 'attention', 'q')), lowPrecision(checkTensor(k, 'attention', 'k')), lowPrecision(checkTensor(v, 'attention', 'v'))];
  const scale = opts.scale ?? 1 / Math.sqrt(q.shape[3] ?? 1);
  const attrs = [scale, opts.causal ? 1 : 0];
  const mask = opts.keyPaddingMask ? [checkTensor(opts.keyPaddingMask, 'attention', 'key padding mask')] : [];
  let out: Tensor, lse: Tensor;
  if (q.ndim === 4 && v.ndim === 4) {
    // the output laid out (B, S, H, Dv) in memory, as flash attention writes it, so that merging the
    // heads afterwards is a view, not a copy
    const [B, H, S] = q.shape as [number, number, number];
    out = permute(empty([B, S, H, v.shape[3]!], q.dtype, q.device), [0, 2, 1, 3]);
    lse = empty([B, H, S], 'float32', q.device);
    runInto('attention', [q, k, v, ...mask], [out, lse], attrs);
  } else {
    [out, lse] = run('attention', [q, k, v, ...mask], attrs) as [Tensor, Tensor];  // the op's own error
  }
  return record('attention', [q, k, v], out, (g) => run('attention_backward', [q, k, v, out, lse, g, ...mask], attrs));
}

/** out[i][j] = x[i][index[i][j]] along `axis` (torch.gather). */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  checkTensor(x, 'gather');
  checkTensor(index, 'gather', 'index');
  const a = normAxis(axis, x.ndim, 'gather');
  const out = run1('gather', [x, index], [a]);
  return record('gather', [x], out, (g) => [run1('scatter_add', [g, index], [a, ...x.shape])]);
}

/** Slices of x at the int32 indices along `axis` (torch.index_select). */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  checkTensor(x, 'index_select');
  checkTensor(index, 'index_select', 'index');
  const a = normAxis(axis, x.ndim, 'index_select');
  const out = run1('index_select', [x, index], [a]);
  return record('index_select', [x], out, (g) => [run1('index_add', [g, index], [a, x.shape[a]!])]);
}

/** Mean of x (B, S, D) over positions where mask (B, S) is 1, as float32 (B, D). */
export function maskedMean(x: Tensor, keep: Tensor): Tensor {
  checkTensor(x, 'masked_mean');
  checkTensor(keep, 'masked_mean', 'mask');
  if (keep.ndim !== 2 || keep.shape[0] !== x.shape[0] || keep.shape[1] !== x.shape[1]) {
    throw new RangeError(`masked_mean: mask ${shapeStr(keep.shape)} must be the first two dims of ${shapeStr(x.shape)}`);
  }
  const w = reshape(keep, [keep.shape[0]!, keep.shape[1]!, 1]);
  return div(sum(mul(x, w), 1), sum(w, 1));
}
