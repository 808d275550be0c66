// `tensorforge compress`: from a finished training run, the compressed variants (dynamic and static
// int8, int8 after quantisation-aware fine-tuning, gradual magnitude pruning and feed-forward
// neuron pruning with fine-tuning, a distilled student with half the layers and its
// int8 form), each measured on the run's own test split: file size, parameters, accuracy, spam F1,
// and latency at batch 1 and 32 (128 tokens). Writes DIR2/<variant>/model.safetensors and summary.json.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../autograd/mode.js';
import type { Batch } from '../data/loader.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { EncoderClassifier } from '../nn/classifier.js';
import { autocast } from '../ops/autocast.js';
import { crossEntropy } from '../ops/nn.js';
import { AdamW } from '../optim/adamw.js';
import { setThreads } from '../runtime.js';
import { randint } from '../tensor/create.js';
import { tidy } from '../tensor/memory.js';
import { manualSeed } from '../tensor/random.js';
import { jobLoaders, loadJobData } from '../train/job.js';
import { paramGroups } from '../optim/param_groups.js';
import { TrainedClassifier } from '../train/run.js';
import { autocastDtype, evaluateClassifier, Trainer, type Precision } from '../train/trainer.js';
import { distillationLoss, studentFromTeacher } from './distill.js';
import { gradualSparsity, MagnitudePruner } from './prune.js';
import { pruneFfnNeurons, pruneHeads, unitImportance } from './structured.js';
import { prepareQat, quantizeDynamic, quantizeStatic } from './quantize.js';

export interface CompressOptions {
  run: string;
  out: string;
  prune: boolean;
  quantize: boolean;
  distill: boolean;
  /** final sparsity of gradual magnitude pruning */
  sparsity: number;
  /** fine-tuning epochs while pruning (4: with 2 or 3, 50% sparsity cost 0.51 points on one of
   * two seeds' runs, with 4 0.34 and 0.00) */
  pruneEpochs: number;
  /** quantisation-aware fine-tuning epochs before int8 (0: no int8-qat variant) */
  qatEpochs: number;
  /** student layers (default: half the teacher's, at least 1) */
  studentLayers: number | null;
  /** distillation epochs (default: the run's epochs) */
  distillEpochs: number | null;
  /** weight of the teacher term (0.7: the 1-layer student of two seeds' runs scored -0.17 / +0.52
   * points against its teacher, with 0.5 -0.51 / +0.35) */
  alpha: number;
  temperature: number;
  /** training examples for static int8 calibration */
  calibration: number;
  threads: number;
  /** time spent measuring each latency figure */
  latencySeconds: number;
  progress: boolean;
}

export const DEFAULT_COMPRESS: Omit<CompressOptions, 'run' | 'out'> = {
  prune: true, quantize: true, distill: true, sparsity: 0.5, pruneEpochs: 4, qatEpochs: 1, studentLayers: null, distillEpochs: null,
  alpha: 0.7, temperature: 2, calibration: 256, threads: 2, latencySeconds: 1, progress: true,
};

export interface VariantRow {
  name: string;
  bytes: number;
  /** weights and biases held (int8 or float); for pruned models the non-zero ones */
  parameters: number;
  test_accuracy: number;
  test_f1: number;
  latency_ms_batch1: number;
  latency_ms_batch32: number;
}

/** Median wall time of `fn` over repeats filling about `seconds`, after warming up. */
function medianMs(fn: () => void, seconds: number): number {
  // warm up for a third of the time: caches, the buffer pool, the threads
  const warm = performance.now() + (seconds * 1000) / 3;
  do fn();
  while (performance.now() < warm);
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (times.length < 3 || (performance.now() < end && times.length < 200)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[times.length >> 1]!;
}

function latencyMs(model: EncoderClassifier, batch: number, seconds: number): number {
  const tokens = randint(1, model.config.vocabSize, [batch, Math.min(128, model.config.maxLen)]);
  return medianMs(() => tidy(() => void noGrad(() => model.forward(tokens))), seconds);
}

function storedValues(model: EncoderClassifier, nonZero: boolean): number {
  let n = 0;
  for (const [name, t] of model.stateDict()) {
    if (name.endsWith('_scale')) continue;
    if (!nonZero) n += t.size;
    else for (const v of t.data()) n += v !== 0 ? 1 : 0;
  }
  return n;
}

export async function runCompress(o: CompressOptions, log: (s: string) => void = console.log): Promise<{ variants: VariantRow[] }> {
  if (!o.prune && !o.quantize && !o.distill) throw new Error('compress: nothing to do (--prune, --quantize and --distill are all off)');
  if (existsSync(join(o.out, 'summary.json'))) throw new Error(`compress: ${o.out} already holds results; choose another --out`);
  setThreads(o.threads);
  const load = () => TrainedClassifier.load(o.run);
  const base = load();
  const job = base.config.job, labels = base.labels;
  const precision = (base.config as { precision?: Precision }).precision ?? 'fp32';
  const { split } = await loadJobData(job, log);
  const manifest = JSON.parse(readFileSync(join(o.run, 'manifest.json'), 'utf8')) as { test: { id: string }[] };
  if (manifest.test.length !== split.test.length || manifest.test.some((e, i) => e.id !== split.test[i]!.id)) {
    throw new Error(`compress: the data no longer gives the test split recorded in ${o.run}/manifest.json`);
  }
  const loaders = await jobLoaders(job, split, base.tokenizer);
  // the first `calibration` training examples of epoch 0's order, in micro-batches: for static
  // int8 scales and for structured-pruning importance
  const calibIds = loaders.train.plan(0).flat().slice(0, o.calibration);
  const calibration = Array.from({ length: Math.ceil(calibIds.length / job.batchSize) }, (_, i) => calibIds.slice(i * job.batchSize, (i + 1) * job.batchSize));
  const stepsFor = (epochs: number) => Math.ceil(loaders.train.batchesPerEpoch() / job.accumulation) * epochs;
  const pos = labels.length === 2 ? 1 : 0;
  mkdirSync(o.out, { recursive: true });
  const rows: VariantRow[] = [];

  const measure = (name: string, model: EncoderClassifier, sparse = false) => {
    model.eval();
    const m = evaluateClassifier(model, loaders.test, labels);
    const file = join(o.out, name, 'model.safetensors');
    mkdirSync(join(o.out, name), { recursive: true });
    saveSafetensors(file, model.stateDict(), { format: 'tensorforge', variant: name, fingerprint: base.tokenizer.fingerprint });
    const row: VariantRow = {
      name,
      bytes: statSync(file).size,
      parameters: storedValues(model, sparse),
      test_accuracy: m.accuracy,
      test_f1: m.perClass[pos]!.f1,
      latency_ms_batch1: latencyMs(model, 1, o.latencySeconds),
      latency_ms_batch32: latencyMs(model, 32, o.latencySeconds),
    };
    rows.push(row);
    log(`${name}: accuracy ${(100 * row.test_accuracy).toFixed(2)}%, F1 ${row.test_f1.toFixed(4)}, ${row.bytes} bytes, ${row.latency_ms_batch1.toFixed(2)} / ${row.latency_ms_batch32.toFixed(1)} ms`);
  };

  measure('float32', base.model);
  if (o.quantize) {
    const dyn = load().model;
    quantizeDynamic(dyn);
    measure('int8-dynamic', dyn);
    const stat = load().model.eval();
    quantizeStatic(stat, () => {
      for (const ids of calibration) tidy(() => {
        const b = loaders.train.collate(ids);
        stat.forward(b.tokens, b.keyPaddingMask);
      });
    }, { observer: 'percentile', percentile: 99.99 });
    measure('int8-static', stat);
  }
  const fineTune = (model: EncoderClassifier, epochs: number, lr: number, extra: Partial<ConstructorParameters<typeof Trainer>[3]>, hooks: ConstructorParameters<typeof Trainer>[4] = {}) => {
    manualSeed(job.seed);
    const totalSteps = stepsFor(epochs);
    const trainer = new Trainer(model, new AdamW(paramGroups(model.namedParameters(), job.weightDecay), { lr }), labels, {
      epochs, accumulation: job.accumulation, precision, clipNorm: job.clipNorm,
      schedule: { kind: 'cosine', lr, warmupSteps: Math.round(totalSteps * job.warmupRatio), totalSteps },
      bestMetric: job.bestMetric, progress: o.progress, ...extra,
    }, hooks);
    trainer.fit(loaders.train, loaders.val);
  };
  if (o.quantize && o.qatEpochs > 0) {
    const model = load().model;
    prepareQat(model);
    fineTune(model, o.qatEpochs, job.lr / 10, {});
    quantizeDynamic(model);
    measure('int8-qat', model);
  }
  if (o.prune) {
    const model = load().model;
    const pruner = new MagnitudePruner(model, 'global');
    // the ramp takes the first 60% of the steps; the rest fine-tunes at the final sparsity
    const ramp = { finalSparsity: o.sparsity, rampSteps: Math.max(1, Math.round(0.6 * stepsFor(o.pruneEpochs))) };
    fineTune(model, o.pruneEpochs, job.lr / 4, {}, {
      onStepEnd: ({ step }) => (step % 10 === 0 || step === ramp.rampSteps ? pruner.update(gradualSparsity(step, ramp)) : pruner.apply()),
    });
    pruner.update(o.sparsity);
    log(`pruned: ${(100 * pruner.sparsity()).toFixed(1)}% of the weight matrices are zero`);
    measure(`pruned-${Math.round(100 * o.sparsity)}`, model, true);

    // structured: feed-forward neurons and attention heads of every layer, by mask-gradient importance
    const full = load().model.eval();
    const importance = unitImportance(full, calibration.map((ids) => () => {
      const b = loaders.train.collate(ids);
      return crossEntropy(full.forward(b.tokens, b.keyPaddingMask), b.labels);
    }));
    const small = pruneFfnNeurons(full, importance.ffn, Math.max(1, Math.round(full.config.dimFeedforward * (1 - o.sparsity))));
    fineTune(small, o.pruneEpochs, job.lr / 4, {});
    measure(`pruned-ffn-${Math.round(100 * o.sparsity)}`, small);
    if (importance.heads.length) {
      const fewer = pruneHeads(full, importance.heads, Math.max(1, Math.round(full.config.nHead * (1 - o.sparsity))));
      fineTune(fewer, o.pruneEpochs, job.lr / 4, {});
      measure(`pruned-heads-${Math.round(100 * o.sparsity)}`, fewer);
    }
  }
  if (o.distill) {
    const teacher = base.model.eval();
    const n = o.studentLayers ?? Math.max(1, Math.floor(teacher.config.numLayers / 2));
    // every other layer of the teacher, from the first (as DistilBERT)
    const pick = Array.from({ length: n }, (_, i) => Math.min(teacher.config.numLayers - 1, Math.round((i * teacher.config.numLayers) / n)));
    const student = studentFromTeacher(teacher, pick);
    const teacherLogits = (b: Batch) => noGrad(() => autocast(autocastDtype(precision), () => teacher.forward(b.tokens, b.keyPaddingMask)));
    const dir = join(o.out, `distilled-${n}l`, 'training');
    fineTune(student, o.distillEpochs ?? job.epochs, job.lr, {
      runDir: dir,
      loss: (logits, b) => distillationLoss(logits, teacherLogits(b), b.labels, { alpha: o.alpha, temperature: o.temperature }),
    });
    // the student of the best validation score
    const best = join(dir, 'best', 'model.safetensors');
    if (existsSync(best)) student.loadStateDict(loadSafetensors(best).tensors);
    measure(`distilled-${n}l`, student);
    if (o.quantize) {
      quantizeDynamic(student);
      measure(`distilled-${n}l-int8`, student);
    }
  }
  const summary = { run: o.run, threads: o.threads, seq: 128, variants: rows };
  writeFileAtomic(join(o.out, 'summary.json'), [new TextEncoder().encode(JSON.stringify(summary, null, 1))]);
  log(formatVariants(rows));
  return summary;
}

/** The variants as a table: name, size, parameters, accuracy, F1, latency. */
export function formatVariants(rows: readonly VariantRow[]): string {
  const head = ['variant', 'bytes', 'params', 'accuracy', 'spam F1', 'ms b1', 'ms b32'];
  const body = rows.map((r) => [r.name, String(r.bytes), String(r.parameters), `${(100 * r.test_accuracy).toFixed(2)}%`, r.test_f1.toFixed(4), r.latency_ms_batch1.toFixed(2), r.latency_ms_batch32.toFixed(1)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return ['', ...[head, ...body].map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  '))].join('\n');
}
