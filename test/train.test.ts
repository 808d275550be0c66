// The Trainer: gradient accumulation equals the big batch, fp16 loss scaling skips an overflowing
// step and halves the scale, checkpoints resume bit for bit, bf16 trains like fp32, schedules,
// clipping, metrics, and checkpoints that are never half-written.
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';
import { DataLoader } from '../lib/data/loader.js';
import { learningRate } from '../lib/optim/schedule.js';
import { clipGradNorm } from '../lib/optim/clip.js';
import { GradScaler } from '../lib/train/grad_scaler.js';
import { classificationMetrics } from '../lib/train/metrics.js';
import { loadCheckpoint, writeFolderAtomic } from '../lib/train/checkpoint.js';
import { evaluateClassifier, Trainer, type TrainerOptions } from '../lib/train/trainer.js';

const dir = mkdtempSync(join(tmpdir(), 'tf-train-'));

/** A toy task: label 1 when token 7 occurs. Lengths vary from 2 to 9. */
function toyData(n: number, seed: number): { ids: number[][]; labels: number[] } {
  const g = new tf.Generator(seed);
  const u = tf.rand([n * 10], { generator: g }).data();
  const ids: number[][] = [], labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const len = 2 + Math.floor(u[i * 10]! * 8);
    const row = [2];
    for (let j = 1; j < len; j++) row.push(3 + Math.floor(u[i * 10 + j]! * 12));
    ids.push(row);
    labels.push(row.includes(7) ? 1 : 0);
  }
  return { ids, labels };
}

function setup(opts: Partial<TrainerOptions> & { batchSize: number; dropout?: number; seed?: number; shuffle?: boolean; sgd?: boolean }) {
  tf.manualSeed(opts.seed ?? 1);
  const model = new tf.EncoderClassifier({ vocabSize: 16, maxLen: 10, dModel: 16, nHead: 2, dimFeedforward: 32, numLayers: 1, numClasses: 2, dropout: opts.dropout ?? 0, normFirst: true, activation: 'gelu' });
  const optimizer = opts.sgd ? new tf.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }) : new tf.AdamW(model.parameters(), { lr: 5e-3 });
  const { ids, labels } = toyData(opts.seed === 2 ? 200 : 22, 5);
  const loader = new DataLoader(ids, labels, { batchSize: opts.batchSize, shuffle: opts.shuffle ?? false, seed: 9, bucket: false });
  const trainer = new Trainer(model, optimizer, ['no', 'yes'], { epochs: 3, schedule: { kind: 'constant', lr: 5e-3 }, ...opts });
  return { model, trainer, loader };
}

const params = (m: tf.Module) => [...m.namedParameters()].map(([n, p]) => [n, p.data()] as const);

describe('gradient accumulation', () => {
  it('k micro-batches of b give the update of one batch of k*b, with an uneven last micro-batch', () => {
    // 22 examples: steps of 12 and 10 examples; the second step's micro-batches are 4, 4, 2.
    // SGD, since the update is linear in the gradient: AdamW's first steps divide by |g| and
    // magnify the rounding noise of gradients that are zero in exact arithmetic (the key bias).
    const big = setup({ batchSize: 12, accumulation: 1, sgd: true });
    const small = setup({ batchSize: 4, accumulation: 3, sgd: true });
    const a = big.trainer.fit(big.loader), b = small.trainer.fit(small.loader);
    expect(a.steps).toBe(6);
    expect(b.steps).toBe(6);
    const pa = params(big.model), pb = params(small.model);
    pa.forEach(([name, va], i) => {
      const vb = pb[i]![1];
      let worst = 0;
      va.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - vb[j]!))));
      expect(worst, name).toBeLessThan(2e-5);
    });
    a.losses.forEach((l, i) => expect(b.losses[i]).toBeCloseTo(l, 5));
  });
});

describe('mixed precision', () => {
  it('fp16: an overflowing step is skipped exactly and the scale halves; later steps go on', () => {
    const { model, trainer, loader } = setup({ batchSize: 11, precision: 'fp16' });
    // a float32 master weight that float16 cannot hold: its cast for the matmul is inf
    const w1 = model.stateDict().get('layers.0.linear1.weight')!;
    const saved = w1.data().slice();
    const scales: number[] = [], skipped: boolean[] = [];
    const head: Record<number, tf.HostArray> = {};
    trainer.hooks.onStepEnd = (info) => {
      scales.push(trainer.scaler.scale);
      skipped.push(info.skipped);
      head[info.step] = model.head.weight.data();
      if (info.step === 2) {
        // poison a weight so the next forward overflows float16 (master weights stay float32)
        const v = w1.data();
        v.fill(1e30);
        w1.desc('test')[0].write(w1.offset * 4, v);
      }
      if (info.step === 3) w1.desc('test')[0].write(w1.offset * 4, saved);
    };
    trainer.fit(loader);
    expect(skipped).toEqual([false, false, true, false, false, false]);
    expect(scales[1]).toBe(2 ** 16);
    expect(scales[2]).toBe(2 ** 15);
    expect(scales[5]).toBe(2 ** 15);
    // the skipped step left the weights as they were; the steps after it moved them again
    expect(head[3]).toEqual(head[2]);
    expect(head[4]).not.toEqual(head[3]);
  });
  it('GradScaler: inf gradient skips the step and halves; 2000 clean steps double', () => {
    const p = tf.ones([2]).requiresGrad_();
    const opt = new tf.SGD([p], { lr: 1 });
    const s = new GradScaler({ growthInterval: 3 });
    p.grad = tf.keep(tf.tensor([Infinity, 1]));
    expect(s.step(opt, [p])).toBe(false);
    s.update();
    expect(s.scale).toBe(2 ** 15);
    expect(p.data()).toEqual(new Float32Array([1, 1]));
    for (let i = 0; i < 3; i++) {
      p.grad = tf.keep(tf.tensor([2 ** 15, 0]));
      expect(s.step(opt, [p])).toBe(true);
      s.update();
    }
    expect(s.scale).toBe(2 ** 16);
    expect(p.data()[0]).toBeCloseTo(1 - 3, 5);
  });
  it('bf16 and fp32 training reach the same accuracy on a learnable task', () => {
    const acc: number[] = [];
    for (const precision of ['fp32', 'bf16'] as const) {
      const { trainer, loader } = setup({ batchSize: 16, precision, seed: 2, shuffle: true, epochs: 8 });
      trainer.fit(loader);
      acc.push(trainer.evaluate(loader).accuracy);
    }
    expect(acc[0]).toBeGreaterThan(0.9);
    expect(Math.abs(acc[0]! - acc[1]!)).toBeLessThanOrEqual(0.03);
  });
});

describe('weight average (ema)', () => {
  it('follows avg = d avg + (1 - d) w after each step, d warmed up as min(decay, (1 + n) / (10 + n))', () => {
    const snapshots: Float32Array[][] = [];
    const { model, trainer, loader } = setup({ batchSize: 4, sgd: true, ema: 0.8, epochs: 1 });
    const initial = model.parameters().map((p) => p.data() as Float32Array);
    const t = new Trainer(model, trainer.optimizer, ['no', 'yes'], { ...trainer.opts, ema: 0.8 }, { onStepEnd: () => void snapshots.push(model.parameters().map((p) => p.data() as Float32Array)) });
    t.fit(loader);
    expect(snapshots).toHaveLength(6);
    // the same recurrence in float64
    const want = initial.map((a) => Float64Array.from(a));
    snapshots.forEach((w, n) => {
      const d = Math.min(0.8, (2 + n) / (11 + n));
      want.forEach((a, i) => a.forEach((v, j) => (a[j] = d * v + (1 - d) * w[i]![j]!)));
    });
    t.ema!.averaged.forEach((a, i) => {
      const got = a.data();
      let worst = 0;
      got.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - want[i]![j]!))));
      expect(worst).toBeLessThan(1e-6);
    });
  });
  it('validation and best/ema.safetensors use the averaged weights; the parameters stay the trained ones', () => {
    const runDir = join(dir, 'ema-run');
    const { model, trainer, loader } = setup({ batchSize: 8, ema: 0.9, runDir });
    const seen: number[] = [];
    const t = new Trainer(model, trainer.optimizer, ['no', 'yes'], { ...trainer.opts, ema: 0.9, runDir }, {
      onEvalEnd: ({ metrics }) => {
        // a second model holding the averaged weights scores the same
        const twin = new tf.EncoderClassifier(model.config);
        twin.loadStateDict(t.averagedByName());
        expect(evaluateClassifier(twin, loader, ['no', 'yes']).loss).toBeCloseTo(metrics.loss, 6);
        expect(t.evaluate(loader).loss).not.toBeCloseTo(metrics.loss, 6);
        seen.push(metrics.loss);
      },
    });
    t.fit(loader, loader);
    expect(seen).toHaveLength(3);
    const best = loadCheckpoint(join(runDir, 'best'));
    expect(best.ema).not.toBeNull();
    expect([...best.ema!.keys()].sort()).toEqual([...model.namedParameters()].map(([n]) => n).sort());
    expect(() => new Trainer(model, trainer.optimizer, ['no', 'yes'], { ...trainer.opts, ema: 1 })).toThrow(/ema: decay must be in \(0, 1\)/);
  });
});

describe('checkpoints', () => {
  for (const ema of [null, 0.9]) {
    it(`2N steps in one go equal N + resume + N, bit for bit (dropout, shuffling, fp32${ema ? ', weight average' : ''})`, () => {
      const opts = { batchSize: 4, accumulation: 2, dropout: 0.2, shuffle: true, ema };
      const whole = setup(opts);
      const all = whole.trainer.fit(whole.loader).losses;
      expect(all).toHaveLength(9);

      const first = setup({ ...opts, maxSteps: 4 });
      const head = first.trainer.fit(first.loader).losses;
      const ckpt = join(dir, `resume-${ema}`);
      first.trainer.saveState(ckpt);
      // a fresh process would start from other random state: disturb it
      tf.manualSeed(12345);
      const second = setup({ ...opts, seed: 99 });
      second.trainer.resume(ckpt);
      const tail = second.trainer.fit(second.loader).losses;
      expect([...head, ...tail]).toEqual(all);
      expect(params(second.model)).toEqual(params(whole.model));
      if (ema) {
        const avg = (t: Trainer) => [...t.averagedByName()].map(([n, a]) => [n, a.data()] as const);
        expect(avg(second.trainer)).toEqual(avg(whole.trainer));
        expect(second.trainer.ema!.updates).toBe(9);
      }
    });
  }
  it('writes the run folder: metrics.jsonl, checkpoint/ and best/', () => {
    const runDir = join(dir, 'run');
    const { trainer, loader } = setup({ batchSize: 8, runDir });
    trainer.fit(loader, loader);
    for (const f of ['metrics.jsonl', 'checkpoint/model.safetensors', 'checkpoint/trainer.json', 'best/optimizer.safetensors']) expect(existsSync(join(runDir, f)), f).toBe(true);
    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines.filter((l) => l.type === 'step')).toHaveLength(9);
    expect(lines.filter((l) => l.type === 'eval')).toHaveLength(3);
    expect(loadCheckpoint<{ step: number; epoch: number }>(join(runDir, 'checkpoint')).trainer).toMatchObject({ step: 9, epoch: 3 });
  });
  it('a failed write leaves the previous checkpoint whole; a truncated one is refused', () => {
    const ck = join(dir, 'ck');
    writeFolderAtomic(ck, (tmp) => writeFileSync(join(tmp, 'a.txt'), 'old'));
    expect(() => writeFolderAtomic(ck, (tmp) => {
      writeFileSync(join(tmp, 'a.txt'), 'new');
      throw new Error('disk full');
    })).toThrow('disk full');
    expect(readFileSync(join(ck, 'a.txt'), 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);

    const { trainer } = setup({ batchSize: 8 });
    const good = join(dir, 'good');
    trainer.saveState(good);
    const bytes = readFileSync(join(good, 'model.safetensors'));
    writeFileSync(join(good, 'model.safetensors'), bytes.subarray(0, bytes.length - 10));
    expect(() => trainer.resume(good)).toThrow(/runs past the data section/);
    expect(() => trainer.resume(join(dir, 'nothing'))).toThrow(/is incomplete/);
  });
});

describe('schedules, clipping, metrics', () => {
  it('linear warm-up then linear or cosine decay', () => {
    const o = { lr: 1, warmupSteps: 10, totalSteps: 110 };
    expect(learningRate({ kind: 'linear', ...o }, 5)).toBeCloseTo(0.5);
    expect(learningRate({ kind: 'linear', ...o }, 60)).toBeCloseTo(0.5);
    expect(learningRate({ kind: 'cosine', ...o }, 60)).toBeCloseTo(0.5);
    expect(learningRate({ kind: 'cosine', ...o }, 35)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 4)));
    expect(learningRate({ kind: 'cosine', ...o }, 110)).toBeCloseTo(0);
    expect(learningRate({ kind: 'constant', lr: 0.3 }, 1000)).toBe(0.3);
  });
  it('clips by the global norm', () => {
    const a = tf.zeros([2]).requiresGrad_(), b = tf.zeros([1]).requiresGrad_();
    a.grad = tf.keep(tf.tensor([3, 0]));
    b.grad = tf.keep(tf.tensor([4]));
    expect(clipGradNorm([a, b], 1)).toBeCloseTo(5);
    expect(a.grad.data()[0]).toBeCloseTo(0.6, 5);
    expect(b.grad.data()[0]).toBeCloseTo(0.8, 5);
  });
  it('accuracy, per-class precision/recall/F1, confusion matrix', () => {
    const m = classificationMetrics(['ham', 'spam'], [0, 0, 0, 1, 1], [0, 1, 0, 1, 0], 0.5);
    expect(m.accuracy).toBeCloseTo(0.6);
    expect(m.confusion).toEqual([[2, 1], [1, 1]]);
    expect(m.perClass[1]).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
  });
});

describe('masked-LM pretraining', () => {
  it("maskTokens chooses 15% of the regular tokens, never padding or specials; 80% [MASK], 10% random, 10% kept", () => {
    const n = 40000, V = 500, o = { maskId: 3, vocabSize: V, firstRegular: 4 };
    const tokens = Int32Array.from({ length: n }, (_, i) => (i % 100 === 0 ? 2 : 4 + ((i * 7919) % (V - 4))));
    const padding = Uint8Array.from({ length: n }, (_, i) => (i % 100 >= 90 ? 1 : 0));
    const m = tf.maskTokens(tokens, padding, o, new tf.Generator(11));
    const eligible = tokens.filter((t, i) => t >= 4 && !padding[i]).length;
    expect(m.positions.length / eligible).toBeGreaterThan(0.14);
    expect(m.positions.length / eligible).toBeLessThan(0.16);
    let masked = 0, kept = 0;
    m.positions.forEach((p, j) => {
      expect(padding[p]).toBe(0);
      expect(tokens[p]).toBeGreaterThanOrEqual(4);
      expect(m.targets[j]).toBe(tokens[p]);
      const x = m.input[p]!;
      expect(x === 3 || (x >= 4 && x < V)).toBe(true);
      if (x === 3) masked++;
      else if (x === tokens[p]) kept++;
    });
    expect(masked / m.positions.length).toBeCloseTo(0.8, 1);
    expect(kept / m.positions.length).toBeGreaterThan(0.08);
    expect(kept / m.positions.length).toBeLessThan(0.13);
    // untouched elsewhere, and the same generator state gives the same masking
    const chosen = new Set(m.positions);
    expect(tokens.every((t, i) => chosen.has(i) || m.input[i] === t)).toBe(true);
    expect([...tf.maskTokens(tokens, padding, o, new tf.Generator(11)).positions]).toEqual([...m.positions]);
  });
  it('pretrainMaskedLM learns a predictable corpus and leaves the classifier head alone', () => {
    tf.manualSeed(3);
    const V = 24;
    const model = new tf.EncoderClassifier({ vocabSize: V, maxLen: 16, dModel: 32, nHead: 2, dimFeedforward: 64, numLayers: 1, numClasses: 2, dropout: 0 });
    // each window counts up from a random start: every token is predictable from its neighbours
    const windows = Array.from({ length: 96 }, (_, i) => [2, ...Array.from({ length: 12 }, (_, j) => 4 + ((i * 5 + j) % (V - 4)))]);
    const head = model.head.weight.toArray(), tok = model.tok.weight.toArray();
    const r = tf.pretrainMaskedLM(model, windows, { epochs: 25, batchSize: 16, lr: 5e-3, maskId: 3, firstRegular: 4 });
    expect(r.losses).toHaveLength(25);
    expect(r.steps).toBe(25 * 6);
    expect(r.losses[0]).toBeGreaterThan(2.5);
    expect(r.losses[24]).toBeLessThan(0.4 * r.losses[0]!);
    expect(model.head.weight.toArray()).toEqual(head);
    expect(model.tok.weight.toArray()).not.toEqual(tok);
    expect(() => tf.pretrainMaskedLM(model, windows, { epochs: 1, batchSize: 16, lr: 1e-3, maskId: V, firstRegular: 4 })).toThrow(/maskId/);
  });
});
