// An encoder classifier: token + position embeddings -> encoder layers (key padding mask) ->
// optional final LayerNorm -> masked mean (or masked max, or first-token) pooling -> Linear head.
// Parameter names: tok, pos, layers.N.*, norm, head (those of the golden classifier file).
import { blockScope } from '../autograd/mode.js';
import { add, eq, maskedFill } from '../ops/elementwise.js';
import { maskedMean } from '../ops/nn.js';
import { max, mean } from '../ops/reduce.js';
import { slice, squeeze, unsqueeze } from '../ops/shape.js';
import { arange, tensor } from '../tensor/create.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { shapeStr, type Tensor } from '../tensor/tensor.js';
import { SeedEncoderLayer, TransformerEncoderLayer, LayerList, type EncoderLayer } from './encoder.js';
import { Embedding, LayerNorm, Linear } from './layers.js';
import { Module } from './module.js';
import { profileScope } from '../profile.js';

export interface EncoderClassifierConfig {
  vocabSize: number;
  maxLen: number;
  dModel: number;
  nHead: number;
  dimFeedforward: number;
  numLayers: number;
  numClasses: number;
  dropout?: number;
  activation?: 'relu' | 'gelu';
  normFirst?: boolean;
  layerNormEps?: number;
  /** 'torch': TransformerEncoderLayer; 'seed': the founding document's layer (post-norm, ReLU) */
  layer?: 'torch' | 'seed';
  pooling?: 'mean' | 'first' | 'max';
  positional?: 'learned' | 'sinusoidal';
  /** a final LayerNorm after the layers; defaults to normFirst */
  finalNorm?: boolean;
  /** attention head width of 'torch' layers (default dModel / nHead; smaller after head pruning) */
  headDim?: number;
}

/** The attention head width of a config: headDim when set (after head pruning), else dModel / nHead. */
export function headDimOf(c: EncoderClassifierConfig): number {
  return c.headDim ?? c.dModel / c.nHead;
}

/** sin/cos position table (maxLen, d) of "Attention is all you need". */
export function sinusoidalTable(maxLen: number, d: number): Tensor {
  const v = new Float32Array(maxLen * d);
  for (let p = 0; p < maxLen; p++) {
    for (let i = 0; i < d; i += 2) {
      const angle = p / Math.pow(10000, i / d);
      v[p * d + i] = Math.sin(angle);
      if (i + 1 < d) v[p * d + i + 1] = Math.cos(angle);
    }
  }
  return tensor(v, { shape: [maxLen, d] });
}

export class EncoderClassifier extends Module {
  readonly tok: Embedding;
  readonly pos: Embedding | null;
  readonly layers: EncoderLayer[];
  readonly norm: LayerNorm | null;
  readonly head: Linear;
  constructor(readonly config: EncoderClassifierConfig, generator: Generator = defaultGenerator) {
    super();
    const c = config;
    const g = { generator };
    this.tok = this.registerModule('tok', new Embedding(c.vocabSize, c.dModel, g));
    const learned = (c.positional ?? 'learned') === 'learned';
    this.pos = learned ? this.registerModule('pos', new Embedding(c.maxLen, c.dModel, g)) : null;
    // a fixed table: a buffer (it moves with to()), not part of the state dict
    if (!learned) this.registerBuffer('table', sinusoidalTable(c.maxLen, c.dModel), { persistent: false });
    const list = this.registerModule('layers', new LayerList());
    this.layers = Array.from({ length: c.numLayers }, (_, i) =>
      list.add(
        String(i),
        c.layer === 'seed'
          ? new SeedEncoderLayer(c.dModel, c.nHead, c.dimFeedforward, { dropout: c.dropout, generator })
          : new TransformerEncoderLayer(c.dModel, c.nHead, {
              dimFeedforward: c.dimFeedforward,
              dropout: c.dropout,
              activation: c.activation,
              layerNormEps: c.layerNormEps,
              normFirst: c.normFirst,
              headDim: c.headDim,
              generator,
            }),
      ),
    );
    this.norm = c.finalNorm ?? c.normFirst ?? false ? this.registerModule('norm', new LayerNorm(c.dModel, c.layerNormEps ?? 1e-5)) : null;
    this.head = this.registerModule('head', new Linear(c.dModel, c.numClasses, g));
  }

  /** tokens int32 (B, S); keyPaddingMask uint8 (B, S), 1 = padding. Returns logits (B, classes). */
  forward(tokens: Tensor, keyPaddingMask?: Tensor | null): Tensor {
    const h = this.encode(tokens, keyPaddingMask);
    const pooled =
      this.config.pooling === 'first'
        ? squeeze(slice(h, 1, 0, 1), 1)
        : this.config.pooling === 'max'
          ? max(keyPaddingMask ? maskedFill(h, unsqueeze(keyPaddingMask, 2), -Infinity) : h, 1)
        : keyPaddingMask
          ? maskedMean(h, eq(keyPaddingMask, 0))
          : mean(h, 1);
    return this.head.forward(pooled);
  }

  /** The encoder's output (B, S, D) for tokens (B, S): embeddings, layers and the final norm. */
  encode(tokens: Tensor, keyPaddingMask?: Tensor | null): Tensor {
    if (tokens.ndim !== 2) throw new RangeError(`EncoderClassifier: tokens must be (batch, seq), got ${shapeStr(tokens.shape)}`);
    const S = tokens.shape[1]!;
    if (S > this.config.maxLen) throw new RangeError(`EncoderClassifier: sequence length ${S} is above maxLen ${this.config.maxLen}`);
    const positions = this.pos ? this.pos.forward(arange(S, undefined, 1, { device: tokens.device })) : slice(this.param('table')!, 0, 0, S);
    let h = profileScope('embeddings', () => add(this.tok.forward(tokens), positions));
    this.layers.forEach((layer, i) => (h = profileScope(`layers.${i}`, () => blockScope(() => layer.forward(h, { keyPaddingMask })))));
    if (this.norm) h = profileScope('norm', () => this.norm!.forward(h));
    return h;
  }
}
