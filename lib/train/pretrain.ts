// Masked-language-model pretraining of an EncoderClassifier's encoder on unlabelled text, BERT's
// recipe: 15% of the tokens are chosen, 80% of those become [MASK], 10% a random token and 10% stay,
// and the encoder learns to predict the originals through a head (dense, GELU, LayerNorm, scaled by
// 1/sqrt(d), then the token embedding transposed plus a bias: tied weights, so the embeddings learn
// from both ends).
// The head is dropped afterwards; fine-tuning starts from the encoder's weights.
import { backward } from '../autograd/engine.js';
import { DataLoader } from '../data/loader.js';
import { autocast } from '../ops/autocast.js';
import { toDevice } from '../ops/device.js';
import { add, gelu, mul } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { crossEntropy, indexSelect } from '../ops/nn.js';
import { reshape, transpose } from '../ops/shape.js';
import { AdamW } from '../optim/adamw.js';
import { paramGroups } from '../optim/param_groups.js';
import { learningRate } from '../optim/schedule.js';
import { rand, tensor, zeros } from '../tensor/create.js';
import { tidy } from '../tensor/memory.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import type { EncoderClassifier } from '../nn/classifier.js';
import { LayerNorm, Linear } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { GradScaler } from './grad_scaler.js';
import { autocastDtype, type Precision } from './trainer.js';

/** The prediction head of masked-LM pretraining; the output projection is the token embedding. */
export class MaskedLMHead extends Module {
  readonly dense: Linear;
  readonly norm: LayerNorm;
  constructor(dModel: number, vocabSize: number, generator: Generator = defaultGenerator) {
    super();
    this.dense = this.registerModule('dense', new Linear(dModel, dModel, { generator }));
    this.norm = this.registerModule('norm', new LayerNorm(dModel));
    this.registerParameter('bias', zeros([vocabSize]));
  }
  /** rows (N, D) of the encoder's output -> logits (N, vocab) against the embedding table (vocab, D) */
  forward(rows: Tensor, embedding: Tensor): Tensor {
    // scaled by 1/sqrt(D): with PyTorch's N(0, 1) embeddings the logits start at unit scale, not sqrt(D)
    const h = mul(this.norm.forward(gelu(this.dense.forward(rows))), 1 / Math.sqrt(embedding.shape[1]!));
    return add(matmul(h, transpose(embedding)), this.param('bias')!);
  }
}

export interface MaskingOptions {
  maskId: number;
  vocabSize: number;
  /** ids below this are special ([PAD], [UNK], [CLS], [MASK]): never chosen, never drawn */
  firstRegular: number;
  /** share of the tokens chosen (BERT: 0.15) */
  prob?: number;
}

export interface MaskedBatch {
  /** the tokens with the chosen ones replaced, as the batch's (rows * seq) */
  input: Int32Array;
  /** flat positions of the chosen tokens, and their original ids */
  positions: Int32Array;
  targets: Int32Array;
}

/** BERT's masking of a batch of tokens (rows * seq, padding where `padding` is 1), from `generator`. */
export function maskTokens(tokens: Int32Array, padding: Uint8Array, o: MaskingOptions, generator: Generator = defaultGenerator): MaskedBatch {
  const n = tokens.length, p = o.prob ?? 0.15;
  if (padding.length !== n) throw new RangeError(`maskTokens: ${n} tokens but ${padding.length} padding flags`);
  const u = tidy(() => rand([3 * n], { generator }).data() as Float32Array);
  const input = Int32Array.from(tokens);
  const positions: number[] = [], targets: number[] = [];
  for (let i = 0; i < n; i++) {
    if (padding[i] || tokens[i]! < o.firstRegular || u[i]! >= p) continue;
    positions.push(i);
    targets.push(tokens[i]!);
    const r = u[n + i]!;
    if (r < 0.8) input[i] = o.maskId;
    else if (r < 0.9) input[i] = o.firstRegular + Math.min(o.vocabSize - o.firstRegular - 1, Math.floor(u[2 * n + i]! * (o.vocabSize - o.firstRegular)));
  }
  return { input, positions: Int32Array.from(positions), targets: Int32Array.from(targets) };
}

export interface PretrainOptions extends Omit<MaskingOptions, 'vocabSize'> {
  epochs: number;
  batchSize: number;
  lr: number;
  warmupRatio?: number;
  weightDecay?: number;
  clipNorm?: number | null;
  precision?: Precision;
  padId?: number;
  seed?: number;
  /** called after each epoch with its mean loss over the chosen tokens */
  onEpochEnd?: (e: { epoch: number; loss: number; tokensPerSecond: number }) => void;
}

export interface PretrainResult {
  steps: number;
  seconds: number;
  tokensPerSecond: number;
  /** mean loss per epoch */
  losses: number[];
}

/**
 * Pretrains `model`'s embeddings and encoder layers in place on `windows` (token ids, each opening
 * with [CLS], at most the model's maxLen), with AdamW, linear warm-up and cosine decay.
 */
export function pretrainMaskedLM(model: EncoderClassifier, windows: readonly number[][], o: PretrainOptions): PretrainResult {
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new RangeError(`pretrainMaskedLM: epochs must be a positive integer, got ${o.epochs}`);
  const V = model.config.vocabSize;
  if (!(o.maskId >= 0 && o.maskId < V)) throw new RangeError(`pretrainMaskedLM: maskId ${o.maskId} is outside the vocabulary (${V})`);
  const head = new MaskedLMHead(model.config.dModel, V).to(model.device);
  // the classifier's own head has no part in this
  const named = [...model.namedParameters()].filter(([name]) => !name.startsWith('head.')).concat([...head.namedParameters()].map(([n, p]) => [`mlm.${n}`, p]));
  const optimizer = new AdamW(paramGroups(named, o.weightDecay ?? 0.01), { lr: o.lr });
  const params = named.map(([, p]) => p);
  const loader = new DataLoader(windows, windows.map(() => 0), { batchSize: o.batchSize, shuffle: true, bucket: true, seed: o.seed ?? 0, padId: o.padId ?? 0 });
  const total = o.epochs * loader.batchesPerEpoch();
  const schedule = { kind: 'cosine' as const, lr: o.lr, warmupSteps: Math.round(total * (o.warmupRatio ?? 0.06)), totalSteps: total };
  const scaler = new GradScaler({ enabled: o.precision === 'fp16' });
  const dtype = autocastDtype(o.precision ?? 'fp32');
  const losses: number[] = [];
  let step = 0, tokens = 0, seconds = 0;
  model.train();
  head.train();
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    let lossSum = 0, chosen = 0, epochTokens = 0;
    const t0 = process.hrtime.bigint();
    for (const indices of loader.plan(epoch)) {
      step++;
      tidy(() => {
        const b = loader.collate(indices);
        const m = maskTokens(b.tokens.data() as Int32Array, b.keyPaddingMask.data() as Uint8Array, { ...o, vocabSize: V });
        if (m.positions.length === 0) return;
        const [R, S] = b.tokens.shape as [number, number];
        const dev = model.device;
        const loss = autocast(dtype, () => {
          const h = model.encode(tensor(m.input, { shape: [R, S], device: dev }), toDevice(b.keyPaddingMask, dev));
          const rows = indexSelect(reshape(h, [R * S, h.shape[2]!]), 0, tensor(m.positions, { device: dev }));
          return crossEntropy(head.forward(rows, model.tok.weight), tensor(m.targets, { device: dev }));
        });
        backward(scaler.scaleLoss(loss));
        optimizer.setLr(learningRate(schedule, step));
        scaler.finishStep(optimizer, params, o.clipNorm);
        lossSum += loss.item() * m.positions.length;
        chosen += m.positions.length;
        epochTokens += b.tokenCount;
      });
    }
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    tokens += epochTokens;
    seconds += dt;
    losses.push(lossSum / Math.max(1, chosen));
    o.onEpochEnd?.({ epoch: epoch + 1, loss: losses[epoch]!, tokensPerSecond: epochTokens / dt });
  }
  return { steps: step, seconds, tokensPerSecond: tokens / Math.max(1e-9, seconds), losses };
}
