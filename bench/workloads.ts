// W2-W4 of ../shared/peers/README.md: the encoder training step (float32 and bf16 autocast),
// attention forward and forward+backward, and float32 and int8 (dynamic) inference at batch 1 and 32.
import { autocast, backward, crossEntropy, EncoderClassifier, AdamW, manualSeed, randint, randn, scaledDotProductAttention, sum, tidy, noGrad, quantizeDynamic } from '../lib/index.js';
import { emit, timeit } from './timing.js';
import { profileReport, profileStep, profiling } from '../lib/profile.js';

/** The W2 model: 4 pre-norm GELU layers, d 256, 8 heads, ff 1024, vocab 8192, 128 positions. */
function encoder(): EncoderClassifier {
  manualSeed(0);
  return new EncoderClassifier({ vocabSize: 8192, maxLen: 128, dModel: 256, nHead: 8, dimFeedforward: 1024, numLayers: 4, numClasses: 2, dropout: 0.1, activation: 'gelu', normFirst: true });
}

export function benchTrainStep(threads: number, minTime: number): void {
  const B = 16, S = 128;
  for (const dtype of ['f32', 'bf16'] as const) {
    const m = encoder();
    const opt = new AdamW(m.parameters(), { lr: 1e-4 });
    const tokens = randint(0, 8192, [B, S]), labels = randint(0, 2, [B]);
    const step = () =>
      tidy(() => {
        profileStep();
        const logits = autocast(dtype === 'bf16' ? 'bfloat16' : null, () => m.forward(tokens));
        backward(crossEntropy(logits, labels));
        opt.step();
        opt.zeroGrad();
      });
    const t = timeit(step, Math.max(minTime, 4 * Math.min(1, minTime)));
    emit({ w: 'train_step', dtype, ms: t * 1e3, tokens_per_s: (B * S) / t }, threads);
    if (profiling()) console.error(`train_step ${dtype}\n${profileReport()}\n`);
  }
}

export function benchAttention(threads: number, minTime: number): void {
  for (const [B, H, S, Dh] of [[16, 8, 128, 32], [4, 8, 512, 64]] as const) {
    tidy(() => {
      const [q, k, v] = [0, 1, 2].map(() => randn([B, H, S, Dh]).requiresGrad_()) as [ReturnType<typeof randn>, ReturnType<typeof randn>, ReturnType<typeof randn>];
      const flops = 4 * B * H * S * S * Dh;
      let t = timeit(() => tidy(() => void noGrad(() => scaledDotProductAttention(q, k, v))), minTime);
      emit({ w: 'attn_fwd', shape: [B, H, S, Dh], gflops: flops / t / 1e9, ms: t * 1e3 }, threads);
      t = timeit(() => tidy(() => backward(sum(scaledDotProductAttention(q, k, v)))), minTime);
      emit({ w: 'attn_fwdbwd', shape: [B, H, S, Dh], gflops: (3.5 * flops) / t / 1e9, ms: t * 1e3 }, threads);
    });
  }
}

export function benchInference(threads: number, minTime: number): void {
  const f32 = encoder().eval(), int8 = encoder().eval();
  quantizeDynamic(int8);
  for (const [dtype, m] of [['f32', f32], ['int8_dynamic', int8]] as const) {
    for (const B of [1, 32]) {
      const tokens = randint(0, 8192, [B, 128]);
      const t = timeit(() => tidy(() => void noGrad(() => m.forward(tokens))), minTime);
      emit({ w: 'infer', dtype, batch: B, seq: 128, ms: t * 1e3 }, threads);
      if (profiling()) console.error(`infer ${dtype} batch ${B}\n${profileReport()}\n`);
    }
  }
}
