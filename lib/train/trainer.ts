// The Trainer: gradient accumulation weighted by examples, bf16/fp16 mixed precision (fp16 with
// dynamic loss scaling), gradient clipping, a learning-rate schedule, evaluation with the best
// checkpoint kept and early stopping, checkpoints that resume bit for bit, progress and metrics.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { backward } from '../autograd/engine.js';
import { noGrad } from '../autograd/mode.js';
import type { Batch, DataLoader } from '../data/loader.js';
import type { EncoderClassifier } from '../nn/classifier.js';
import { autocast } from '../ops/autocast.js';
import { copyInto } from '../ops/device.js';
import { mul } from '../ops/elementwise.js';
import { crossEntropy } from '../ops/nn.js';
import { argmax } from '../ops/reduce.js';
import type { Optimizer } from '../optim/optimizer.js';
import { checkSchedule, learningRate, type ScheduleOptions } from '../optim/schedule.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { defaultGenerator, type GeneratorState } from '../tensor/random.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { WeightAverage } from './ema.js';
import { profileReport, profileStep, profiling } from '../profile.js';
import { GradScaler, type GradScalerState } from './grad_scaler.js';
import { classificationMetrics, type Metrics } from './metrics.js';

export type Precision = 'fp32' | 'bf16' | 'fp16';
export type BestMetric = 'accuracy' | 'f1' | 'loss';

/** The dtype autocast runs matmuls in for a training precision (null: float32 throughout). */
export function autocastDtype(p: Precision): 'bfloat16' | 'float16' | null {
  return p === 'bf16' ? 'bfloat16' : p === 'fp16' ? 'float16' : null;
}

export interface TrainerOptions {
  epochs: number;
  /** micro-batches per optimizer step */
  accumulation?: number;
  precision?: Precision;
  clipNorm?: number | null;
  schedule: ScheduleOptions;
  /** evaluate on the validation loader every n optimizer steps (default: at the end of each epoch) */
  evalEvery?: number;
  /** the validation metric that picks the best checkpoint: accuracy, f1 (last class; macro when more than two) or loss */
  bestMetric?: BestMetric;
  /** stop after this many evaluations without improvement */
  patience?: number | null;
  /** stop after this many optimizer steps in total (e.g. to test resuming) */
  maxSteps?: number;
  /** folder for metrics.jsonl, checkpoint/ and best/; nothing is written without it */
  runDir?: string | null;
  /** progress bar on a terminal, plain lines otherwise; false: silent */
  progress?: boolean;
  logEvery?: number;
  /** fp16 loss scaler settings (GradScaler) */
  scaler?: ConstructorParameters<typeof GradScaler>[0];
  /**
   * decay of an exponential moving average of the weights (e.g. 0.99; null: none). Validation,
   * the choice of the best checkpoint and ema.safetensors in checkpoints use the averaged weights.
   */
  ema?: number | null;
  /** the training loss of a micro-batch, a mean over its examples (default: cross-entropy); evaluation always reports cross-entropy */
  loss?: (logits: Tensor, batch: Batch) => Tensor;
}

export interface StepInfo {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  skipped: boolean;
  gradNorm: number | null;
  tokensPerSecond: number;
}

export interface TrainerHooks {
  onStepEnd?: (info: StepInfo) => void;
  onEvalEnd?: (info: { step: number; epoch: number; metrics: Metrics; improved: boolean }) => void;
}

export interface TrainerState {
  step: number;
  epoch: number;
  /** index of the next micro-batch in the epoch's plan */
  nextBatch: number;
  generator: GeneratorState;
  scaler: GradScalerState;
  best: number | null;
  badEvals: number;
  tokens: number;
  seconds: number;
  /** updates of the weight average so far */
  emaUpdates?: number;
}

export interface FitResult {
  steps: number;
  epochs: number;
  seconds: number;
  tokensPerSecond: number;
  best: number | null;
  stoppedEarly: boolean;
  /** stopped by maxSteps before the last epoch's end (the checkpoint then holds that position) */
  stoppedAtMaxSteps: boolean;
  losses: number[];
}

export class Trainer {
  readonly opts: Required<Omit<TrainerOptions, 'runDir' | 'clipNorm' | 'patience' | 'maxSteps' | 'scaler' | 'loss' | 'ema'>> & TrainerOptions;
  readonly scaler: GradScaler;
  /** the moving average of the weights, when opts.ema is set */
  readonly ema: WeightAverage | null;
  state: TrainerState;

  constructor(
    readonly model: EncoderClassifier,
    readonly optimizer: Optimizer<{ lr: number }>,
    readonly labels: readonly string[],
    opts: TrainerOptions,
    readonly hooks: TrainerHooks = {},
  ) {
    this.opts = { accumulation: 1, precision: 'fp32', evalEvery: 0, bestMetric: 'accuracy', progress: false, logEvery: 10, ...opts };
    if (!Number.isInteger(this.opts.epochs) || this.opts.epochs < 1) throw new RangeError(`Trainer: epochs must be a positive integer, got ${this.opts.epochs}`);
    if (!Number.isInteger(this.opts.accumulation) || this.opts.accumulation < 1) throw new RangeError(`Trainer: accumulation must be a positive integer, got ${this.opts.accumulation}`);
    if (!['fp32', 'bf16', 'fp16'].includes(this.opts.precision)) throw new TypeError(`Trainer: precision must be fp32, bf16 or fp16, got ${this.opts.precision}`);
    checkSchedule(this.opts.schedule);
    // training runs where the model is; its parameters must be the optimizer's (Module.to replaces them)
    const own = new Set(model.parameters());
    if (optimizer.groups.some((g) => g.params.some((p) => !own.has(p)))) {
      throw new Error('Trainer: the optimizer holds tensors that are not the model\'s parameters (move the model with model.to(device) before creating the optimizer)');
    }
    this.scaler = new GradScaler({ ...opts.scaler, enabled: this.opts.precision === 'fp16' });
    this.ema = opts.ema ? new WeightAverage(model.parameters(), opts.ema) : null;
    this.state = { step: 0, epoch: 0, nextBatch: 0, generator: defaultGenerator.getState(), scaler: this.scaler.getState(), best: null, badEvals: 0, tokens: 0, seconds: 0 };
    if (this.opts.runDir) mkdirSync(this.opts.runDir, { recursive: true });
  }

  /** logits for a batch, under the trainer's precision */
  forward(b: Batch): ReturnType<EncoderClassifier['forward']> {
    return autocast(autocastDtype(this.opts.precision), () => this.model.forward(b.tokens, b.keyPaddingMask));
  }

  private log(record: object): void {
    if (this.opts.runDir) appendFileSync(join(this.opts.runDir, 'metrics.jsonl'), `${JSON.stringify(record)}\n`);
  }

  /** One optimizer step over a group of micro-batches; each micro-batch's mean loss is weighted by its share of the examples. */
  private step(group: number[][], loader: DataLoader): { loss: number; lr: number; skipped: boolean; gradNorm: number | null; tokens: number } {
    const total = group.reduce((s, g) => s + g.length, 0);
    let lossSum = 0, tokens = 0;
    const params = this.model.parameters();
    for (const indices of group) {
      tidy(() => {
        const b = loader.collate(indices, this.model.device);
        const loss = this.opts.loss ? this.opts.loss(this.forward(b), b) : crossEntropy(this.forward(b), b.labels);
        backward(this.scaler.scaleLoss(mul(loss, b.size / total)));
        lossSum += loss.item() * b.size;
        tokens += b.tokenCount;
      });
    }
    const lr = learningRate(this.opts.schedule, this.state.step + 1);
    this.optimizer.setLr(lr);
    const { stepped, gradNorm } = this.scaler.finishStep(this.optimizer, params, this.opts.clipNorm);
    if (stepped) this.ema?.update();
    return { loss: lossSum / total, lr, skipped: !stepped, gradNorm, tokens };
  }

  /** Loss and metrics of the model's current weights over a loader, in eval mode, without gradients. */
  evaluate(loader: DataLoader): Metrics {
    return evaluateClassifier(this.model, loader, this.labels, (b) => this.forward(b));
  }

  /** The number the best checkpoint is chosen by; higher is better. */
  score(m: Metrics): number {
    if (this.opts.bestMetric === 'loss') return -m.loss;
    if (this.opts.bestMetric === 'f1') return this.labels.length === 2 ? m.perClass[1]!.f1 : m.macroF1;
    return m.accuracy;
  }

  /** Trains from the current state (fresh, or resumed) to the end of the last epoch or maxSteps. */
  fit(train: DataLoader, val?: DataLoader): FitResult {
    const k = this.opts.accumulation;
    const perEpoch = Math.ceil(train.batchesPerEpoch() / k);
    const plannedSteps = perEpoch * this.opts.epochs;
    const totalSteps = Math.min(plannedSteps, this.opts.maxSteps ?? Infinity);
    const bar = this.opts.progress && process.stderr.isTTY
      ? new SingleBar({ format: 'epoch {epoch} |{bar}| {value}/{total} steps | loss {loss} | {tps} tok/s | ETA {eta_formatted}', hideCursor: true }, undefined)
      : null;
    bar?.start(totalSteps, this.state.step, { epoch: this.state.epoch + 1, loss: '-', tps: '-' });
    const losses: number[] = [];
    let stoppedEarly = false;
    this.model.train();
    outer: for (; this.state.epoch < this.opts.epochs; this.state.epoch++, this.state.nextBatch = 0) {
      const plan = train.plan(this.state.epoch);
      while (this.state.nextBatch < plan.length) {
        if (this.state.step >= totalSteps) break outer;
        const group = plan.slice(this.state.nextBatch, this.state.nextBatch + k);
        const t0 = process.hrtime.bigint();
        const r = this.step(group, train);
        profileStep();
        const dt = Number(process.hrtime.bigint() - t0) / 1e9;
        this.state.nextBatch += group.length;
        this.state.step++;
        this.state.tokens += r.tokens;
        this.state.seconds += dt;
        losses.push(r.loss);
        const info: StepInfo = { step: this.state.step, epoch: this.state.epoch + 1, loss: r.loss, lr: r.lr, skipped: r.skipped, gradNorm: r.gradNorm, tokensPerSecond: r.tokens / dt };
        this.log({ type: 'step', ...info, scale: this.opts.precision === 'fp16' ? this.scaler.scale : undefined });
        this.hooks.onStepEnd?.(info);
        bar?.update(this.state.step, { epoch: info.epoch, loss: r.loss.toFixed(4), tps: Math.round(info.tokensPerSecond) });
        if (!bar && this.opts.progress && this.state.step % this.opts.logEvery === 0) {
          console.log(`step ${this.state.step}/${totalSteps} epoch ${info.epoch} loss ${r.loss.toFixed(4)} lr ${info.lr.toExponential(2)} ${Math.round(info.tokensPerSecond)} tok/s`);
        }
        // where training continues after this step (the next epoch when this one is done)
        const endOfEpoch = this.state.nextBatch >= plan.length;
        const next = endOfEpoch ? { epoch: this.state.epoch + 1, nextBatch: 0 } : undefined;
        const due = this.opts.evalEvery > 0 ? this.state.step % this.opts.evalEvery === 0 : endOfEpoch;
        if (val && due && this.evalAndKeepBest(val, next)) {
          stoppedEarly = true;
          break outer;
        }
      }
      if (this.opts.runDir) this.saveState(join(this.opts.runDir, 'checkpoint'), { epoch: this.state.epoch + 1, nextBatch: 0 });
    }
    bar?.stop();
    const stoppedAtMaxSteps = !stoppedEarly && this.state.step >= totalSteps && totalSteps < plannedSteps;
    if (stoppedAtMaxSteps && this.opts.runDir) this.saveState(join(this.opts.runDir, 'checkpoint'));
    if (profiling()) console.log(profileReport());
    return {
      steps: this.state.step,
      epochs: this.state.epoch,
      seconds: this.state.seconds,
      tokensPerSecond: this.state.tokens / Math.max(1e-9, this.state.seconds),
      best: this.state.best,
      stoppedEarly,
      stoppedAtMaxSteps,
      losses,
    };
  }

  /** Evaluates, saves best/ when the score improved; returns true when patience ran out. */
  private evalAndKeepBest(val: DataLoader, position?: Pick<TrainerState, 'epoch' | 'nextBatch'>): boolean {
    const m = this.ema ? this.ema.withAveraged(() => this.evaluate(val)) : this.evaluate(val);
    const s = this.score(m);
    const improved = this.state.best === null || s > this.state.best;
    if (improved) {
      this.state.best = s;
      this.state.badEvals = 0;
    } else {
      this.state.badEvals++;
    }
    this.log({ type: 'eval', split: 'val', step: this.state.step, epoch: this.state.epoch + 1, loss: m.loss, accuracy: m.accuracy, macroF1: m.macroF1, perClass: m.perClass, improved });
    if (improved && this.opts.runDir) this.saveState(join(this.opts.runDir, 'best'), position);
    this.hooks.onEvalEnd?.({ step: this.state.step, epoch: this.state.epoch + 1, metrics: m, improved });
    return this.opts.patience != null && this.state.badEvals >= this.opts.patience;
  }

  /** Saves weights, optimizer and trainer state; `position` overrides where training would continue. */
  saveState(dir: string, position?: Pick<TrainerState, 'epoch' | 'nextBatch'>): void {
    this.state.generator = defaultGenerator.getState();
    this.state.scaler = this.scaler.getState();
    this.state.emaUpdates = this.ema?.updates;
    saveCheckpoint(dir, this.model, this.optimizer, { ...this.state, ...position }, this.ema ? this.averagedByName() : undefined);
  }

  /** The weight average by parameter name. */
  averagedByName(): Map<string, Tensor> {
    if (!this.ema) throw new Error('Trainer: no weight average (set the ema option)');
    const avg = this.ema.averaged;
    return new Map([...this.model.namedParameters()].map(([n], i) => [n, avg[i]!] as [string, Tensor]));
  }

  /** Restores weights, optimizer moments, random state and position from a checkpoint folder. */
  resume(dir: string): void {
    const c = loadCheckpoint<TrainerState>(dir);
    this.model.loadStateDict(c.model);
    this.optimizer.importState(new Map(this.model.namedParameters()), c.optimizer);
    this.state = c.trainer;
    if (this.ema) {
      if (!c.ema) throw new Error(`Trainer: ${dir} has no ema.safetensors, but this Trainer keeps a weight average`);
      const byName = this.averagedByName();
      noGrad(() => {
        for (const [n, t] of byName) {
          const saved = c.ema!.get(n);
          if (!saved) throw new Error(`Trainer: ${dir}/ema.safetensors lacks ${n}`);
          copyInto(t, saved);
        }
      });
      this.ema.updates = c.trainer.emaUpdates ?? 0;
    }
    defaultGenerator.setState(c.trainer.generator);
    this.scaler.setState(c.trainer.scaler);
  }
}

/** Cross-entropy loss and classification metrics of `model` over a loader (eval mode, no gradients). */
export function evaluateClassifier(
  model: EncoderClassifier,
  loader: DataLoader,
  labels: readonly string[],
  forward: (b: Batch) => Tensor = (b) => model.forward(b.tokens, b.keyPaddingMask),
): Metrics {
  const wasTraining = model.training;
  model.eval();
  const truth: number[] = [], predicted: number[] = [];
  let lossSum = 0;
  noGrad(() => {
    for (const indices of loader.plan(0)) {
      tidy(() => {
        const b = loader.collate(indices, model.device);
        const logits = forward(b);
        lossSum += crossEntropy(logits, b.labels, { reduction: 'sum' }).item();
        predicted.push(...(argmax(logits, 1).data() as Int32Array));
        truth.push(...(b.labels.data() as Int32Array));
      });
    }
  });
  model.train(wasTraining);
  return classificationMetrics(labels, truth, predicted, lossSum / Math.max(1, truth.length));
}
