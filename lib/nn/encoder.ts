// Encoder layers: the founding document's SeedEncoderLayer and PyTorch's TransformerEncoderLayer,
// plus TransformerEncoder (a stack of layers, named layers.0, layers.1, ...).
import { blockScope } from '../autograd/mode.js';
import { add, cast } from '../ops/elementwise.js';
import { nativeBf16 } from '../runtime.js';
import type { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { MultiheadAttention, SeedSelfAttention, type AttentionCallOptions } from './attention.js';
import { Dropout, GELU, LayerNorm, Linear, ReLU, Sequential } from './layers.js';
import { Module } from './module.js';

/**
 * The founding document's layer, exactly: separate q/k/v projections without an output projection,
 * post-norm, ReLU feed-forward (feedforward.0 → ReLU → feedforward.2), dropout (0.1) on both
 * residual branches in train mode.
 */
export class SeedEncoderLayer extends Module {
  readonly selfAttn: SeedSelfAttention;
  readonly feedforward: Sequential;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  constructor(embedDim: number, numHeads: number, feedforwardDim: number, opts: { dropout?: number; generator?: Generator } = {}) {
    super();
    const g = { generator: opts.generator };
    this.selfAttn = this.registerModule('self_attn', new SeedSelfAttention(embedDim, numHeads, g));
    this.feedforward = this.registerModule(
      'feedforward',
      new Sequential(new Linear(embedDim, feedforwardDim, g), new ReLU(), new Linear(feedforwardDim, embedDim, g)),
    );
    this.norm1 = this.registerModule('norm1', new LayerNorm(embedDim));
    this.norm2 = this.registerModule('norm2', new LayerNorm(embedDim));
    this.dropout1 = this.registerModule('dropout1', new Dropout(opts.dropout ?? 0.1, opts.generator));
    this.dropout2 = this.registerModule('dropout2', new Dropout(opts.dropout ?? 0.1, opts.generator));
  }
  forward(src: Tensor, opts: AttentionCallOptions = {}): Tensor {
    const x = this.norm1.forward(add(src, this.dropout1.forward(this.selfAttn.forward(src, opts))));
    if (this.training) return this.norm2.forward(add(x, this.dropout2.forward(this.feedforward.forward(x))));
    // eval: no dropout, so the residual is added in the last linear's pass (the same sums)
    const [up, act, down] = this.feedforward.layers as [Linear, ReLU, Linear];
    return this.norm2.forward(down.forward(act.forward(up.forward(x)), x));
  }
}

export interface TransformerEncoderLayerOptions {
  dimFeedforward?: number;
  dropout?: number;
  activation?: 'relu' | 'gelu';
  layerNormEps?: number;
  normFirst?: boolean;
  /** width of each attention head (default dModel / nHead; smaller after head pruning) */
  headDim?: number;
  generator?: Generator;
}

/** torch.nn.TransformerEncoderLayer(batch_first=True). */
export class TransformerEncoderLayer extends Module {
  readonly selfAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout: Dropout;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly activation: ReLU | GELU;
  readonly normFirst: boolean;
  constructor(dModel: number, nHead: number, opts: TransformerEncoderLayerOptions = {}) {
    super();
    const ff = opts.dimFeedforward ?? 2048, p = opts.dropout ?? 0.1, eps = opts.layerNormEps ?? 1e-5;
    const g = { generator: opts.generator };
    if (opts.activation !== undefined && opts.activation !== 'relu' && opts.activation !== 'gelu') {
      throw new TypeError(`TransformerEncoderLayer: activation must be relu or gelu, got ${opts.activation}`);
    }
    this.selfAttn = this.registerModule('self_attn', new MultiheadAttention(dModel, nHead, { ...g, headDim: opts.headDim }));
    this.linear1 = this.registerModule('linear1', new Linear(dModel, ff, g));
    this.linear2 = this.registerModule('linear2', new Linear(ff, dModel, g));
    this.norm1 = this.registerModule('norm1', new LayerNorm(dModel, eps));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dModel, eps));
    this.dropout = this.registerModule('dropout', new Dropout(p, opts.generator));
    this.dropout1 = this.registerModule('dropout1', new Dropout(p, opts.generator));
    this.dropout2 = this.registerModule('dropout2', new Dropout(p, opts.generator));
    this.activation = opts.activation === 'gelu' ? new GELU() : new ReLU();
    this.normFirst = opts.normFirst ?? false;
  }
  // residual + block(x): in train mode dropout sits between the two; in eval mode the residual is
  // added in the block's last linear pass (the same sums, one pass over memory fewer)
  private sa(x: Tensor, opts: AttentionCallOptions, residual: Tensor): Tensor {
    if (!this.training) return this.selfAttn.forward(x, x, x, opts, residual);
    return add(residual, this.dropout1.forward(this.selfAttn.forward(x, x, x, opts)));
  }
  private ff(x: Tensor, residual: Tensor): Tensor {
    if (!this.training) {
      const fused = this.int8Activation(x);
      if (!fused) return this.linear2.forward(this.activation.forward(this.linear1.forward(x)), residual);
      const hidden = this.linear1.forward(x, null, { activation: fused, outDtype: 'bfloat16' });
      return this.linear2.forward(this.linear2.quantized ? hidden : cast(hidden, 'float32'), residual);
    }
    const hidden = this.dropout.forward(this.activation.forward(this.linear1.forward(x)));
    return add(residual, this.dropout2.forward(this.linear2.forward(hidden)));
  }
  // An int8 feed-forward (or its fake-quantised form) in eval mode applies its activation in
  // linear1's pass and keeps the hidden layer in bf16 where bf16 is native: half the bytes between
  // the two GEMMs, with a rounding far finer than the int8 quantisation linear2 applies anyway.
  // The activation to fuse, or null when the block runs op by op.
  private int8Activation(x: Tensor): 'relu' | 'gelu' | null {
    const int8 = (l: Linear) => l.quantized || l.fakeQuant;
    if (!int8(this.linear1) || !int8(this.linear2) || !nativeBf16(x.device)) return null;
    if (this.activation instanceof ReLU) return 'relu';
    return this.activation.approximate === 'none' ? 'gelu' : null;  // the epilogue has the erf form only
  }
  forward(src: Tensor, opts: AttentionCallOptions = {}): Tensor {
    if (this.normFirst) {
      const x = blockScope(() => this.sa(this.norm1.forward(src), opts, src));
      return blockScope(() => this.ff(this.norm2.forward(x), x));
    }
    const x = blockScope(() => this.norm1.forward(this.sa(src, opts, src)));
    return blockScope(() => this.norm2.forward(this.ff(x, x)));
  }
}

/** Any encoder layer: (B, S, E) -> (B, S, E) with optional masks. */
export interface EncoderLayer extends Module {
  forward(src: Tensor, opts?: AttentionCallOptions): Tensor;
}

/** A stack of encoder layers registered as layers.0 ... layers.N-1, with an optional final norm. */
export class TransformerEncoder extends Module {
  readonly layers: EncoderLayer[];
  constructor(makeLayer: (i: number) => EncoderLayer, numLayers: number, readonly norm: LayerNorm | null = null) {
    super();
    const holder = this.registerModule('layers', new LayerList());
    this.layers = Array.from({ length: numLayers }, (_, i) => holder.add(String(i), makeLayer(i)));
    if (norm) this.registerModule('norm', norm);
  }
  forward(src: Tensor, opts: AttentionCallOptions = {}): Tensor {
    const h = this.layers.reduce((x, l) => l.forward(x, opts), src);
    return this.norm ? this.norm.forward(h) : h;
  }
}

/** A named list of modules (torch.nn.ModuleList). */
export class LayerList extends Module {
  add<M extends Module>(name: string, m: M): M {
    return this.registerModule(name, m);
  }
}
