// Basic layers: Linear, LayerNorm, Embedding, Dropout, activations, Sequential.
import { gelu, relu } from '../ops/elementwise.js';
import { dropout, embedding, layerNorm } from '../ops/nn.js';
import { ones, zeros } from '../tensor/create.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import type { LinearInt8Options } from '../ops/quantize.js';
import type { Tensor } from '../tensor/tensor.js';
import { linearUniform, normal } from './init.js';
import { fakeQuantize, int8Buffers, project, type Quantizable } from './int8.js';
import { Module } from './module.js';

function positiveInt(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${what} must be a positive integer, got ${v}`);
  return v;
}

/** y = x Wᵀ + b with W (out, in), initialised as torch.nn.Linear. */
export class Linear extends Module implements Quantizable {
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean; generator?: Generator } = {}) {
    super();
    positiveInt(inFeatures, 'Linear: in_features');
    positiveInt(outFeatures, 'Linear: out_features');
    const generator = opts.generator ?? defaultGenerator;
    this.registerParameter('weight', linearUniform([outFeatures, inFeatures], inFeatures, { generator }));
    this.registerParameter('bias', opts.bias === false ? null : linearUniform([outFeatures], inFeatures, { generator }));
  }
  inputObserver: ((x: Tensor) => void) | null = null;
  fakeQuant = false;
  /** float, or int8 after quantize() (then `weight_scale` holds the per-row scales) */
  get weight(): Tensor {
    return this.param('weight')!;
  }
  get bias(): Tensor | null {
    return this.param('bias');
  }
  get quantized(): boolean {
    return this.weight.dtype === 'int8';
  }
  /** Switches the weight to int8 (per output row); activationScale > 0 makes the input scale static. */
  quantize(activationScale = 0): void {
    if (this.quantized) throw new Error('Linear.quantize: already quantized');
    this.replaceParameter('weight', int8Buffers(this.weight, 'weight', 'input_scale', activationScale));
  }
  /**
   * `residual` (the output's shape), when given, is added in the same pass: residual + linear(x).
   * `opts`: an activation after the bias and a bfloat16 output (in the int8 GEMM's own pass when
   * quantised).
   */
  forward(x: Tensor, residual: Tensor | null = null, opts: LinearInt8Options = {}): Tensor {
    this.inputObserver?.(x);
    return project(x, this.weight, this.bias, this.param('weight_scale'), this.param('input_scale'), this.fakeQuant, residual, opts);
  }
}

/** LayerNorm over the last dim (weight ones, bias zeros). */
export class LayerNorm extends Module {
  constructor(readonly normalizedShape: number, readonly eps = 1e-5, elementwiseAffine = true) {
    super();
    positiveInt(normalizedShape, 'LayerNorm: normalized_shape');
    this.registerParameter('weight', elementwiseAffine ? ones([normalizedShape]) : null);
    this.registerParameter('bias', elementwiseAffine ? zeros([normalizedShape]) : null);
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.param('weight'), this.param('bias'), this.eps);
  }
}

/** A lookup table of `num` rows of size `dim`, initialised N(0, 1). */
export class Embedding extends Module implements Quantizable {
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: { generator?: Generator } = {}) {
    super();
    positiveInt(numEmbeddings, 'Embedding: num_embeddings');
    positiveInt(embeddingDim, 'Embedding: embedding_dim');
    this.registerParameter('weight', normal([numEmbeddings, embeddingDim], 1, { generator: opts.generator ?? defaultGenerator }));
  }
  get weight(): Tensor {
    return this.param('weight')!;
  }
  get quantized(): boolean {
    return this.weight.dtype === 'int8';
  }
  /** Stores the table as int8 rows with one scale each (looked up, then scaled back to float32). */
  quantize(): void {
    if (this.quantized) throw new Error('Embedding.quantize: already quantized');
    this.replaceParameter('weight', int8Buffers(this.weight, 'weight', 'input_scale', 0));
  }
  fakeQuant = false;
  forward(indices: Tensor): Tensor {
    if (!this.quantized) return embedding(this.fakeQuant ? fakeQuantize(this.weight) : this.weight, indices);
    return embedding(this.weight, indices, this.param('weight_scale')!);
  }
}

/** Inverted dropout, active in train mode only. */
export class Dropout extends Module {
  constructor(readonly p = 0.5, readonly generator: Generator = defaultGenerator) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout: p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.generator);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }
}

/** Any module with a one-tensor forward. */
export interface UnaryModule extends Module {
  forward(x: Tensor): Tensor;
}

/** Children named "0", "1", ... applied in order. */
export class Sequential extends Module {
  readonly layers: UnaryModule[];
  constructor(...layers: UnaryModule[]) {
    super();
    this.layers = layers.map((m, i) => this.registerModule(String(i), m));
  }
  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, m) => m.forward(h), x);
  }
}
