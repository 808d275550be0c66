// Multi-head attention modules on the fused flash-style kernel: PyTorch's layout (packed in_proj,
// out_proj) and the founding document's (separate query/key/value projections, no output projection).
import { cast } from '../ops/elementwise.js';
import { scaledDotProductAttention } from '../ops/nn.js';
import { permute, reshape, slice, split, squeeze } from '../ops/shape.js';
import { zeros } from '../tensor/create.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { shapeStr, type Tensor } from '../tensor/tensor.js';
import { fillInPlace, xavierUniform } from './init.js';
import { nativeBf16 } from '../runtime.js';
import { project, int8Buffers, type Quantizable } from './int8.js';
import { Linear } from './layers.js';
import { Module } from './module.js';

export interface AttentionCallOptions {
  /** uint8 (B, S): 1 marks padding, which no query attends to */
  keyPaddingMask?: Tensor | null;
  causal?: boolean;
}

function checkHeads(embedDim: number, numHeads: number, who: string): number {
  if (!Number.isSafeInteger(numHeads) || numHeads <= 0 || embedDim % numHeads !== 0) {
    throw new RangeError(`${who}: embed_dim ${embedDim} must be divisible by num_heads ${numHeads}`);
  }
  return embedDim / numHeads;
}

/** (B, S, E) -> (B, H, S, E/H), a strided view. */
export function splitHeads(x: Tensor, heads: number): Tensor {
  if (x.ndim !== 3) throw new RangeError(`attention: input must be (batch, seq, embed), got ${shapeStr(x.shape)}`);
  const [b, s, e] = x.shape as [number, number, number];
  return permute(reshape(x, [b, s, heads, e / heads]), [0, 2, 1, 3]);
}
/** (B, H, S, Dh) -> (B, S, H*Dh) */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, s, d] = x.shape as [number, number, number, number];
  return reshape(permute(x, [0, 2, 1, 3]), [b, s, h * d]);
}

/**
 * torch.nn.MultiheadAttention(batch_first=True): in_proj_weight (3E, E) rows q, k, v; out_proj.
 * `headDim` (default E / numHeads) lets the heads span less than E, as after head pruning: the
 * projections are then (3 H Dh, E) and out_proj (E, H Dh).
 */
export class MultiheadAttention extends Module implements Quantizable {
  readonly headDim: number;
  readonly outProj: Linear;
  constructor(readonly embedDim: number, readonly numHeads: number, opts: { bias?: boolean; generator?: Generator; headDim?: number } = {}) {
    super();
    if (opts.headDim !== undefined && (!Number.isSafeInteger(opts.headDim) || opts.headDim <= 0 || !Number.isSafeInteger(numHeads) || numHeads <= 0)) {
      throw new RangeError(`MultiheadAttention: head_dim ${opts.headDim} and num_heads ${numHeads} must be positive integers`);
    }
    this.headDim = opts.headDim ?? checkHeads(embedDim, numHeads, 'MultiheadAttention');
    const inner = numHeads * this.headDim;
    const generator = opts.generator ?? defaultGenerator;
    this.registerParameter('in_proj_weight', xavierUniform([3 * inner, embedDim], { generator }));
    this.registerParameter('in_proj_bias', opts.bias === false ? null : zeros([3 * inner]));
    this.outProj = this.registerModule('out_proj', new Linear(inner, embedDim, { bias: opts.bias, generator }));
    if (this.outProj.bias) fillInPlace(this.outProj.bias, 0);  // as PyTorch's _reset_parameters
  }

  inputObserver: ((x: Tensor) => void) | null = null;
  fakeQuant = false;
  get quantized(): boolean {
    return this.param('in_proj_weight')!.dtype === 'int8';
  }
  /** Switches the in-projection to int8 (see Linear.quantize; out_proj is a Linear of its own). */
  quantize(activationScale = 0): void {
    if (this.quantized) throw new Error('MultiheadAttention.quantize: already quantized');
    this.replaceParameter('in_proj_weight', int8Buffers(this.param('in_proj_weight')!, 'in_proj_weight', 'in_proj_input_scale', activationScale));
  }

  /**
   * Self-attention when key/value are omitted. Inputs (B, S, E). `residual` (B, S, E), when given, is
   * added in the output projection's pass: residual + attention(...).
   */
  forward(query: Tensor, key: Tensor = query, value: Tensor = key, opts: AttentionCallOptions = {}, residual: Tensor | null = null): Tensor {
    const w = this.param('in_proj_weight')!, b = this.param('in_proj_bias'), ws = this.param('in_proj_weight_scale');
    const inputScale = this.param('in_proj_input_scale');
    const E = this.numHeads * this.headDim;  // the width of q, k and v
    const h = this.numHeads;
    let q: Tensor, k: Tensor, v: Tensor;
    let bf16 = false;
    if (query === key && key === value) {
      this.inputObserver?.(query);
      // (B, S, 3E) as (B, S, 3, H, Dh): q, k and v are views whose gradients split's one backward
      // writes side by side, with no copy to undo the head split. With int8 weights, q, k and v
      // come out in bfloat16 where its products are native: the attention then multiplies in bf16
      // (softmax and sums in float32) and reads half the bytes; quantisation-aware training rounds
      // them the same way, so it sees what the int8 model will compute.
      bf16 = (w.dtype === 'int8' || this.fakeQuant) && nativeBf16(query.device);
      const qkv = project(query, w, b, ws, inputScale, this.fakeQuant, null, { outDtype: bf16 ? 'bfloat16' : 'float32' });
      const [B, S] = qkv.shape as [number, number];
      [q, k, v] = split(reshape(qkv, [B, S, 3, h, this.headDim]), 1, 2).map((t) => permute(squeeze(t, 2), [0, 2, 1, 3])) as [Tensor, Tensor, Tensor];
    } else {
      const rows = (t: Tensor | null, i: number) => (t ? slice(t, 0, i * E, (i + 1) * E) : null);
      const part = (x: Tensor, i: number) => {
        this.inputObserver?.(x);
        return splitHeads(project(x, rows(w, i)!, rows(b, i), rows(ws, i), inputScale, this.fakeQuant), h);
      };
      [q, k, v] = [part(query, 0), part(key, 1), part(value, 2)];
    }
    const o = scaledDotProductAttention(q, k, v, opts);
    // an int8 out_proj quantises the bf16 rows directly; a float one takes them back in float32
    return this.outProj.forward(bf16 && !this.outProj.quantized ? cast(mergeHeads(o), 'float32') : mergeHeads(o), residual);
  }
}

/** The founding document's attention: query_proj, key_proj, value_proj, and no output projection. */
export class SeedSelfAttention extends Module {
  readonly queryProj: Linear;
  readonly keyProj: Linear;
  readonly valueProj: Linear;
  constructor(readonly embedDim: number, readonly numHeads: number, opts: { generator?: Generator } = {}) {
    super();
    checkHeads(embedDim, numHeads, 'SeedSelfAttention');
    this.queryProj = this.registerModule('query_proj', new Linear(embedDim, embedDim, opts));
    this.keyProj = this.registerModule('key_proj', new Linear(embedDim, embedDim, opts));
    this.valueProj = this.registerModule('value_proj', new Linear(embedDim, embedDim, opts));
  }
  forward(x: Tensor, opts: AttentionCallOptions = {}): Tensor {
    const h = this.numHeads;
    const q = splitHeads(this.queryProj.forward(x), h), k = splitHeads(this.keyProj.forward(x), h);
    const v = splitHeads(this.valueProj.forward(x), h);
    return mergeHeads(scaledDotProductAttention(q, k, v, opts));
  }
}
