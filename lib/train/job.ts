// The main job: data -> tokenizer -> encoder classifier -> Trainer -> test evaluation, writing a
// run folder (weights, tokenizer, config, split manifest, metrics.jsonl, curves, summary.json).
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { dedupe, loadSpamAssassin, loadUserData, splitManifest, stratifiedSplit, type Corpus, type Example, type Split } from '../data/corpus.js';
import { DataLoader, windowIds } from '../data/loader.js';
import { SubwordTokenizer, type Truncation } from '../data/tokenizer.js';
import { saveSafetensors, loadSafetensors } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { EncoderClassifier, type EncoderClassifierConfig } from '../nn/classifier.js';
import { AdamW } from '../optim/adamw.js';
import { paramGroups } from '../optim/param_groups.js';
import * as cuda from '../cuda.js';
import { loaded, native } from '../native.js';
import { crossEntropy } from '../ops/nn.js';
import { setThreads } from '../runtime.js';
import { manualSeed } from '../tensor/random.js';
import { writeCurves } from './plot.js';
import { pretrainMaskedLM } from './pretrain.js';
import { Trainer, type BestMetric, type Precision } from './trainer.js';
import type { Metrics } from './metrics.js';
import type { ScheduleKind } from '../optim/schedule.js';

export interface JobConfig {
  /** 'spamassassin', or a .csv / .jsonl file or a folder of class folders */
  data: string;
  out: string;
  seed: number;
  limit: number | null;
  stopwords: boolean;
  stem: boolean;
  vocabSize: number;
  maxLen: number;
  truncation: Truncation;
  dModel: number;
  nHead: number;
  dimFeedforward: number;
  layers: number;
  /** epochs of masked-LM pretraining on the training texts before fine-tuning (0: none) */
  pretrainEpochs: number;
  pretrainLr: number;
  dropout: number;
  activation: 'relu' | 'gelu';
  normFirst: boolean;
  layer: 'torch' | 'seed';
  pooling: 'mean' | 'first' | 'max';
  positional: 'learned' | 'sinusoidal';
  batchSize: number;
  accumulation: number;
  epochs: number;
  lr: number;
  weightDecay: number;
  schedule: ScheduleKind;
  warmupRatio: number;
  clipNorm: number | null;
  /** cross-entropy label smoothing, as PyTorch's label_smoothing */
  labelSmoothing: number;
  /** decay of the moving average of the weights that validation uses and the run keeps (null: off) */
  ema: number | null;
  precision: Precision | 'auto';
  /** 'auto': cuda where the CUDA variant found a device, else cpu */
  device: 'auto' | 'cpu' | 'cuda';
  evalEvery: number;
  bestMetric: BestMetric;
  patience: number | null;
  threads: number;
  progress: boolean;
  /** stop after this many optimizer steps in all (the run folder stays resumable); null: to the end */
  maxSteps: number | null;
}

export const DEFAULT_CONFIG: JobConfig = {
  data: 'spamassassin',
  out: '',
  seed: 0,
  limit: null,
  stopwords: false,
  stem: false,
  vocabSize: 8000,
  maxLen: 128,
  truncation: 'head+tail',
  dModel: 128,
  nHead: 4,
  dimFeedforward: 256,
  layers: 2,
  pretrainEpochs: 0,
  pretrainLr: 1e-3,
  dropout: 0.1,
  activation: 'gelu',
  normFirst: true,
  layer: 'torch',
  pooling: 'mean',
  positional: 'learned',
  batchSize: 8,
  accumulation: 4,
  epochs: 6,
  lr: 2e-3,
  weightDecay: 0.01,
  schedule: 'cosine',
  warmupRatio: 0.06,
  clipNorm: 1.0,
  labelSmoothing: 0,
  ema: 0.99,
  precision: 'auto',
  device: 'auto',
  evalEvery: 0,
  bestMetric: 'f1',
  patience: null,
  threads: 2,
  progress: true,
  maxSteps: null,
};

export interface JobSummary {
  test: { accuracy: number; precision: number; recall: number; f1: number; loss: number; confusion: number[][] };
  labels: string[];
  positive_label: string;
  train_seconds: number;
  total_seconds: number;
  tokens_per_second: number;
  precision: Precision;
  device: 'cpu' | 'cuda';
  steps: number;
  examples: { train: number; val: number; test: number; duplicates_removed: number; skipped: number };
  parameters: number;
  config: JobConfig;
}

export function resolveDevice(d: JobConfig['device']): 'cpu' | 'cuda' {
  if (d === 'cuda' && !cuda.isAvailable()) throw new Error(`train: --device cuda, but ${loaded.reason}`);
  return d === 'auto' ? (cuda.isAvailable() ? 'cuda' : 'cpu') : d;
}

/** 'auto': bf16 on a GPU or where the CPU has AVX512-BF16, else fp32. */
export function resolvePrecision(p: JobConfig['precision'], device: 'cpu' | 'cuda' = 'cpu'): Precision {
  if (p !== 'auto') return p;
  return device === 'cuda' || native.info().isaDetected === 'avx512_bf16' ? 'bf16' : 'fp32';
}

export function modelConfig(c: JobConfig, vocab: number, classes: number): EncoderClassifierConfig {
  return {
    vocabSize: vocab, maxLen: c.maxLen, dModel: c.dModel, nHead: c.nHead, dimFeedforward: c.dimFeedforward, numLayers: c.layers,
    numClasses: classes, dropout: c.dropout, activation: c.activation, normFirst: c.normFirst, layer: c.layer, pooling: c.pooling,
    positional: c.positional,
  };
}

export interface JobData {
  corpus: Corpus;
  duplicates: number;
  split: Split;
}

/** The job's examples: loaded, deduplicated and split as the config says (the same split every time). */
export async function loadJobData(c: JobConfig, log: (s: string) => void = () => {}): Promise<JobData> {
  log(`data: ${c.data}`);
  const corpus: Corpus = c.data === 'spamassassin'
    ? await loadSpamAssassin({ limit: c.limit ?? undefined, stopwords: c.stopwords, stem: c.stem })
    : await loadUserData(c.data, { limit: c.limit ?? undefined, stopwords: c.stopwords, stem: c.stem });
  const duplicates = dedupe(corpus);
  const split = stratifiedSplit(corpus.examples, c.seed);
  log(`examples: ${corpus.examples.length} (${duplicates} duplicates removed, ${corpus.skipped.length} skipped); train ${split.train.length}, val ${split.val.length}, test ${split.test.length}`);
  for (const s of corpus.skipped.slice(0, 5)) log(`  skipped ${s.id}: ${s.reason}`);
  return { corpus, duplicates, split };
}

/** Train (shuffled), validation and test loaders of a split, tokenised. */
export async function jobLoaders(c: JobConfig, split: Split, tokenizer: SubwordTokenizer): Promise<Record<'train' | 'val' | 'test', DataLoader>> {
  const loader = async (xs: Example[], shuffle: boolean) =>
    new DataLoader(await tokenizer.encode(xs.map((e) => e.text), c.maxLen, c.truncation), xs.map((e) => e.label), { batchSize: c.batchSize, shuffle, bucket: true, seed: c.seed, padId: tokenizer.padId });
  return { train: await loader(split.train, true), val: await loader(split.val, false), test: await loader(split.test, false) };
}

/** Pretraining reads at most this many windows of maxLen tokens of a text (its head and tail). */
const PRETRAIN_WINDOWS_PER_TEXT = 8;

/** Masked-LM pretraining of the model's encoder on the training split's texts (whole, in windows). */
async function pretrain(c: JobConfig, model: EncoderClassifier, tokenizer: SubwordTokenizer, train: Example[], precision: Precision, log: (s: string) => void) {
  const ids = await tokenizer.encode(train.map((e) => e.text), PRETRAIN_WINDOWS_PER_TEXT * (c.maxLen - 1) + 1, c.truncation);
  const windows = ids.flatMap((x) => windowIds(x, c.maxLen));
  log(`pretraining: ${windows.length} windows of up to ${c.maxLen} tokens, ${c.pretrainEpochs} epochs (masked LM)`);
  pretrainMaskedLM(model, windows, {
    epochs: c.pretrainEpochs, batchSize: c.batchSize * c.accumulation, lr: c.pretrainLr, warmupRatio: c.warmupRatio, weightDecay: c.weightDecay,
    clipNorm: c.clipNorm, precision, padId: tokenizer.padId, maskId: tokenizer.maskId, firstRegular: tokenizer.firstRegularId, seed: c.seed,
    onEpochEnd: (e) => {
      appendFileSync(join(c.out, 'metrics.jsonl'), `${JSON.stringify({ type: 'pretrain', ...e })}\n`);
      log(`pretrain epoch ${e.epoch}: masked-LM loss ${e.loss.toFixed(4)}, ${Math.round(e.tokensPerSecond)} tokens/s`);
    },
  });
}

/**
 * Runs the job into config.out. `resume`: continue the unfinished run in that folder from its
 * checkpoint (its own config, tokenizer and split). Returns null when maxSteps stopped it early.
 */
export async function runJob(config: JobConfig, log: (s: string) => void = console.log, resume = false): Promise<JobSummary | null> {
  const t0 = Date.now();
  const c = config;
  setThreads(c.threads);
  manualSeed(c.seed);
  const device = resolveDevice(c.device ?? 'auto');  // runs from before the option have none
  const precision = resolvePrecision(c.precision, device);
  if (!c.out) throw new Error('train: an output folder (--out) is required');
  if (existsSync(join(c.out, 'summary.json'))) throw new Error(`train: ${c.out} already holds a finished run; choose another --out`);
  if (resume && !existsSync(join(c.out, 'checkpoint', 'trainer.json'))) throw new Error(`train: ${c.out} has no checkpoint to resume from`);
  if (!resume && existsSync(join(c.out, 'config.json'))) throw new Error(`train: ${c.out} holds an unfinished run; continue it with --resume ${c.out} or choose another --out`);
  mkdirSync(c.out, { recursive: true });

  const { corpus, duplicates, split } = await loadJobData(c, log);
  let tokenizer: SubwordTokenizer;
  if (resume) {
    tokenizer = SubwordTokenizer.load(join(c.out, 'tokenizer.json'));
  } else {
    writeFileAtomic(join(c.out, 'manifest.json'), [new TextEncoder().encode(JSON.stringify({ ...splitManifest(split, corpus.labels, c.seed), skipped: corpus.skipped, duplicates_removed: duplicates }))]);
    tokenizer = await SubwordTokenizer.train(split.train.map((e) => e.text), c.vocabSize, { mask: (c.pretrainEpochs ?? 0) > 0 });
    tokenizer.save(join(c.out, 'tokenizer.json'));
  }
  const { train: trainLoader, val: valLoader, test: testLoader } = await jobLoaders(c, split, tokenizer);

  const mcfg = modelConfig(c, tokenizer.vocabSize, corpus.labels.length);
  const model = new EncoderClassifier(mcfg).to(device);
  const runConfig = { job: c, model: mcfg, labels: corpus.labels, tokenizer: { fingerprint: tokenizer.fingerprint, vocabSize: tokenizer.vocabSize }, precision };
  if (!resume) writeFileAtomic(join(c.out, 'config.json'), [new TextEncoder().encode(JSON.stringify(runConfig, null, 1))]);
  log(`model: ${model.parameterCount()} parameters, ${c.layers} layers, d ${c.dModel}, ${c.nHead} heads, precision ${precision}, device ${model.device}`);

  if (!resume && (c.pretrainEpochs ?? 0) > 0) await pretrain(c, model, tokenizer, split.train, precision, log);

  const stepsPerEpoch = Math.ceil(trainLoader.batchesPerEpoch() / c.accumulation);
  const totalSteps = stepsPerEpoch * c.epochs;
  const optimizer = new AdamW(paramGroups(model.namedParameters(), c.weightDecay), { lr: c.lr });
  const trainer = new Trainer(model, optimizer, corpus.labels, {
    epochs: c.epochs, accumulation: c.accumulation, precision, clipNorm: c.clipNorm,
    schedule: { kind: c.schedule, lr: c.lr, warmupSteps: Math.round(totalSteps * c.warmupRatio), totalSteps },
    evalEvery: c.evalEvery, bestMetric: c.bestMetric, patience: c.patience, runDir: c.out, progress: c.progress,
    maxSteps: c.maxSteps ?? undefined,
    loss: c.labelSmoothing ? (logits, b) => crossEntropy(logits, b.labels, { labelSmoothing: c.labelSmoothing }) : undefined,
    ema: c.ema,
  }, {
    onEvalEnd: ({ epoch, step, metrics, improved }) =>
      log(`eval epoch ${epoch} step ${step}: val loss ${metrics.loss.toFixed(4)} accuracy ${(100 * metrics.accuracy).toFixed(2)}% ${improved ? '(best)' : ''}`),
  });
  if (resume) {
    trainer.resume(join(c.out, 'checkpoint'));
    log(`resumed at step ${trainer.state.step} of ${totalSteps}`);
  }
  const tFit = Date.now();
  const fit = trainer.fit(trainLoader, valLoader);
  const trainSeconds = (Date.now() - tFit) / 1000;
  if (fit.stoppedAtMaxSteps) {
    log(`stopped after step ${fit.steps} of ${totalSteps}; continue with: tensorforge train --resume ${c.out}`);
    return null;
  }

  // the best checkpoint's weights (their moving average, when kept) are the run's model
  const best = join(c.out, 'best', c.ema ? 'ema.safetensors' : 'model.safetensors');
  if (existsSync(best)) model.loadStateDict(loadSafetensors(best).tensors);
  saveSafetensors(join(c.out, 'model.safetensors'), model.stateDict(), { format: 'tensorforge', fingerprint: tokenizer.fingerprint });
  const test = trainer.evaluate(testLoader);
  const pos = corpus.labels.length === 2 ? 1 : 0;
  const summary: JobSummary = {
    test: { accuracy: test.accuracy, precision: test.perClass[pos]!.precision, recall: test.perClass[pos]!.recall, f1: test.perClass[pos]!.f1, loss: test.loss, confusion: test.confusion },
    labels: corpus.labels,
    positive_label: corpus.labels[pos]!,
    train_seconds: trainSeconds,
    total_seconds: (Date.now() - t0) / 1000,
    tokens_per_second: fit.tokensPerSecond,
    precision,
    device,
    steps: fit.steps,
    examples: { train: split.train.length, val: split.val.length, test: split.test.length, duplicates_removed: duplicates, skipped: corpus.skipped.length },
    parameters: model.parameterCount(),
    config: c,
  };
  writeCurves(join(c.out, 'curves.svg'), join(c.out, 'metrics.jsonl'));
  writeFileAtomic(join(c.out, 'summary.json'), [new TextEncoder().encode(JSON.stringify(summary, null, 1))]);
  log(formatTable(summary, test));
  return summary;
}

export function formatTable(s: JobSummary, m: Metrics): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const rows = [
    ['test accuracy', pct(s.test.accuracy)],
    [`${s.positive_label} precision`, pct(s.test.precision)],
    [`${s.positive_label} recall`, pct(s.test.recall)],
    [`${s.positive_label} F1`, s.test.f1.toFixed(4)],
    ['training time', `${s.train_seconds.toFixed(1)} s (${s.steps} steps, ${s.precision})`],
    ['throughput', `${Math.round(s.tokens_per_second)} tokens/s`],
    ['total time', `${s.total_seconds.toFixed(1)} s`],
  ];
  const w = Math.max(...rows.map((r) => r[0]!.length));
  const confusion = [`confusion (rows: true, columns: predicted)`, `${''.padEnd(w)}  ${s.labels.map((l) => l.padStart(8)).join('')}`,
    ...m.confusion.map((row, i) => `${s.labels[i]!.padEnd(w)}  ${row.map((v) => String(v).padStart(8)).join('')}`)];
  return ['', ...rows.map(([k, v]) => `${k!.padEnd(w)}  ${v}`), '', ...confusion].join('\n');
}

