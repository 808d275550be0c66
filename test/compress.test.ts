// Pruning (Zhu & Gupta schedule, global and per-layer magnitude masks) and distillation (the loss
// against a hand computation, a student from the teacher's layers).
import { describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';
import { normErr } from './helpers/compare.js';

const CONFIG = { vocabSize: 30, maxLen: 8, dModel: 16, nHead: 2, dimFeedforward: 24, numLayers: 3, numClasses: 2, dropout: 0, normFirst: true, activation: 'gelu' } as const;

describe('pruning', () => {
  it('gradualSparsity follows s_f + (s_i - s_f)(1 - t/n)^3 and stays final after the ramp', () => {
    const s = { initialSparsity: 0.1, finalSparsity: 0.7, beginStep: 10, rampSteps: 100 };
    expect(tf.gradualSparsity(0, s)).toBeCloseTo(0.1, 12);
    expect(tf.gradualSparsity(10, s)).toBeCloseTo(0.1, 12);
    expect(tf.gradualSparsity(60, s)).toBeCloseTo(0.7 + (0.1 - 0.7) * 0.125, 12);
    expect(tf.gradualSparsity(110, s)).toBeCloseTo(0.7, 12);
    expect(tf.gradualSparsity(500, s)).toBeCloseTo(0.7, 12);
    expect(() => tf.gradualSparsity(1, { finalSparsity: 1, rampSteps: 5 })).toThrow(/final sparsity must be in \[0, 1\)/);
  });

  for (const scope of ['global', 'layer'] as const) {
    it(`${scope} magnitude masks zero the smallest weights and stay applied after updates`, () => {
      const m = new tf.EncoderClassifier(CONFIG, new tf.Generator(2));
      const pruner = new tf.MagnitudePruner(m, scope);
      const weights = tf.prunableWeights(m);
      expect(weights.map(([n]) => n)).not.toContain('tok.weight');
      const before = new Map(weights.map(([n, w]) => [n, Float32Array.from(w.data() as Float32Array)]));
      pruner.update(0.5);
      expect(pruner.sparsity()).toBeGreaterThanOrEqual(0.5);
      expect(pruner.sparsity()).toBeLessThan(0.51);
      if (scope === 'layer') for (const [, w] of weights) expect([...w.data()].filter((v) => v === 0).length / w.size).toBeCloseTo(0.5, 1);
      // every kept weight is at least as large as every pruned one (per scope) and unchanged
      const kept: number[] = [], pruned: number[] = [];
      for (const [n, w] of weights) {
        const d = w.data(), b = before.get(n)!;
        d.forEach((v, i) => (v === 0 ? pruned : kept).push(Math.abs(b[i]!)));
        d.forEach((v, i) => v !== 0 && expect(v).toBe(b[i]));
      }
      if (scope === 'global') expect(Math.min(...kept)).toBeGreaterThanOrEqual(Math.max(...pruned));
      // an optimizer step moves pruned weights; apply() zeroes them again
      const opt = new tf.SGD(m.parameters(), { lr: 0.1 });
      for (const p of m.parameters()) p.grad = tf.onesLike(p);
      opt.step();
      expect(pruner.sparsity()).toBeLessThan(0.1);
      pruner.apply();
      expect(pruner.sparsity()).toBeGreaterThanOrEqual(0.5);
    });
  }
});

describe('distillation', () => {
  it('distillationLoss = alpha T^2 KL(p_t || p_s) + (1 - alpha) CE, by hand', () => {
    const zs = [[1, -0.5, 0.25], [0.1, 2, -1]], zt = [[2, 0, -1], [-0.3, 1.5, 0.5]], y = [0, 1];
    const T = 3, alpha = 0.7;
    const soft = (z: number[], t: number) => {
      const e = z.map((v) => Math.exp(v / t)), s = e.reduce((a, b) => a + b);
      return e.map((v) => v / s);
    };
    let kl = 0, ce = 0;
    zs.forEach((z, i) => {
      const ps = soft(z, T), pt = soft(zt[i]!, T);
      kl += pt.reduce((a, p, j) => a + p * Math.log(p / ps[j]!), 0);
      ce -= Math.log(soft(z, 1)[y[i]!]!);
    });
    const expected = alpha * T * T * (kl / 2) + (1 - alpha) * (ce / 2);
    const got = tf.distillationLoss(tf.tensor(zs), tf.tensor(zt), tf.tensor(y, { dtype: 'int32' }), { alpha, temperature: T });
    expect(got.item()).toBeCloseTo(expected, 5);
    expect(() => tf.distillationLoss(tf.tensor(zs), tf.tensor([[1, 2]]), tf.tensor(y, { dtype: 'int32' }))).toThrow(/student logits \[2,3\] and teacher logits \[1,2\] differ/);
  });

  it('a student from layers 0 and 2 of a 3-layer teacher carries those weights', () => {
    const teacher = new tf.EncoderClassifier(CONFIG, new tf.Generator(5));
    const student = tf.studentFromTeacher(teacher, [0, 2]);
    expect(student.config.numLayers).toBe(2);
    const t = teacher.stateDict(), s = student.stateDict();
    expect(normErr(s.get('layers.1.linear1.weight')!, t.get('layers.2.linear1.weight')!)).toBe(0);
    expect(normErr(s.get('layers.0.self_attn.in_proj_weight')!, t.get('layers.0.self_attn.in_proj_weight')!)).toBe(0);
    expect(normErr(s.get('head.weight')!, t.get('head.weight')!)).toBe(0);
    expect(() => tf.studentFromTeacher(teacher, [3])).toThrow(/must be indices below the teacher's 3 layers/);
  });
});

describe('structured pruning (feed-forward neurons, attention heads)', () => {
  const cfg = { ...CONFIG, numLayers: 2, dropout: 0 };
  const data = () => {
    const g = new tf.Generator(21);
    return { tokens: tf.randint(0, cfg.vocabSize, [6, 8], { generator: g }), labels: tf.tensor([0, 1, 1, 0, 1, 0], { dtype: 'int32' }) };
  };
  const lossOf = (m: tf.EncoderClassifier) => {
    const { tokens, labels } = data();
    return tf.crossEntropy(m.forward(tokens), labels);
  };

  it('importance is |dL/d(mask)|: matches a finite difference of scaling the neuron\'s outgoing weights', () => {
    const m = new tf.EncoderClassifier(cfg, new tf.Generator(8)).eval();
    const [imp] = tf.unitImportance(m, [() => lossOf(m)]).ffn;
    const w2 = m.stateDict().get('layers.0.linear2.weight')!;
    const base = Float32Array.from(w2.data() as Float32Array);
    const ff = cfg.dimFeedforward;
    const scaled = (j: number, f: number) => {
      const v = Float32Array.from(base);
      for (let o = 0; o < cfg.dModel; o++) v[o * ff + j] = base[o * ff + j]! * f;
      w2.desc('t')[0].write(w2.offset * 4, v);
      return tf.noGrad(() => lossOf(m).item());
    };
    const order = [...imp!.keys()].sort((a, b) => imp![b]! - imp![a]!);
    for (const j of [order[0]!, order[5]!]) {
      const fd = (scaled(j, 1.05) - scaled(j, 0.95)) / 0.1;
      expect(Math.abs(fd)).toBeCloseTo(imp![j]!, 3);
    }
    w2.desc('t')[0].write(w2.offset * 4, base);
  });

  it('the pruned model is smaller and computes what the original does with those neurons silenced', () => {
    const m = new tf.EncoderClassifier(cfg, new tf.Generator(9)).eval();
    const imp = tf.unitImportance(m, [() => lossOf(m)]).ffn;
    const small = tf.pruneFfnNeurons(m, imp, 10).eval();
    expect(small.config.dimFeedforward).toBe(10);
    expect(small.parameterCount()).toBeLessThan(m.parameterCount());
    expect(small.stateDict().get('layers.1.linear1.weight')!.shape).toEqual([10, cfg.dModel]);
    // silence the dropped neurons in the original: zero their rows of linear1 and columns of linear2
    const ff = cfg.dimFeedforward;
    imp.forEach((v, i) => {
      const kept = new Set([...v.keys()].sort((a, b) => v[b]! - v[a]! || a - b).slice(0, 10));
      const w2 = m.stateDict().get(`layers.${i}.linear2.weight`)!;
      const d = Float32Array.from(w2.data() as Float32Array);
      for (let o = 0; o < cfg.dModel; o++) for (let j = 0; j < ff; j++) if (!kept.has(j)) d[o * ff + j] = 0;
      w2.desc('t')[0].write(w2.offset * 4, d);
    });
    const { tokens } = data();
    expect(normErr(tf.noGrad(() => small.forward(tokens)), tf.noGrad(() => m.forward(tokens)))).toBeLessThan(1e-5);
    expect(() => tf.pruneFfnNeurons(m, imp, 0)).toThrow(/keep must be an integer in \[1, 24\]/);
  });

  it('head pruning: a narrower attention that computes what the original does with those heads silenced, and exports to ONNX', async () => {
    const m = new tf.EncoderClassifier({ ...cfg, nHead: 4 }, new tf.Generator(10)).eval();
    const heads = tf.unitImportance(m, [() => lossOf(m)]).heads;
    expect(heads.map((h) => h.length)).toEqual([4, 4]);
    const small = tf.pruneHeads(m, heads, 2).eval();
    expect(small.config.nHead).toBe(2);
    expect(small.config.headDim).toBe(cfg.dModel / 4);
    expect(small.stateDict().get('layers.0.self_attn.in_proj_weight')!.shape).toEqual([3 * 2 * 4, cfg.dModel]);
    expect(small.stateDict().get('layers.0.self_attn.out_proj.weight')!.shape).toEqual([cfg.dModel, 8]);
    // silence the dropped heads in the original: zero their out_proj columns
    const dh = cfg.dModel / 4;
    heads.forEach((v, i) => {
      const kept = new Set([...v.keys()].sort((a, b) => v[b]! - v[a]! || a - b).slice(0, 2));
      const w = m.stateDict().get(`layers.${i}.self_attn.out_proj.weight`)!;
      const d = Float32Array.from(w.data() as Float32Array);
      for (let o = 0; o < cfg.dModel; o++) for (let c = 0; c < cfg.dModel; c++) if (!kept.has(Math.floor(c / dh))) d[o * cfg.dModel + c] = 0;
      w.desc('t')[0].write(w.offset * 4, d);
    });
    const { tokens } = data();
    const ours = tf.noGrad(() => small.forward(tokens));
    expect(normErr(ours, tf.noGrad(() => m.forward(tokens)))).toBeLessThan(1e-5);
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(tf.onnxBytes(small));
    const out = await session.run({ tokens: new ort.Tensor('int32', tokens.data() as Int32Array, tokens.shape), key_padding_mask: new ort.Tensor('uint8', new Uint8Array(tokens.size), tokens.shape) });
    expect(normErr(out.logits!.data as Float32Array, ours)).toBeLessThan(1e-4);
    expect(() => tf.pruneHeads(m, heads, 5)).toThrow(/keep must be an integer in \[1, 4\]/);
  });
});
