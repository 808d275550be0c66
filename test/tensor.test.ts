// Tensors: creation, dtypes and rounding, views, memory ownership and scopes, printing.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';
import { native } from '../lib/native.js';

describe('creation', () => {
  it('from nested arrays, typed arrays and scalars', () => {
    expect(tf.tensor([[1, 2, 3], [4, 5, 6]]).toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tf.tensor(new Int32Array([1, -2, 3]), { shape: [3, 1] }).toArray()).toEqual([[1], [-2], [3]]);
    const s = tf.tensor(2.5);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(2.5);
    expect(tf.tensor([[]]).shape).toEqual([1, 0]);
    expect(tf.tensor([1, 2], { dtype: 'uint8' }).dtype).toBe('uint8');
  });
  it('rank 0 to 6', () => {
    for (let r = 0; r <= 6; r++) expect(tf.zeros(new Array(r).fill(2)).size).toBe(2 ** r);
    expect(() => tf.zeros([1, 1, 1, 1, 1, 1, 1])).toThrow(/rank 7/);
  });
  it('zeros, ones, full, arange, eye', () => {
    expect(tf.full([2], 7).toArray()).toEqual([7, 7]);
    expect(tf.ones([2, 1], { dtype: 'int32' }).toArray()).toEqual([[1], [1]]);
    expect(tf.arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(tf.arange(5).dtype).toBe('int32');
    expect(tf.arange(0, 1, 0.25).toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(tf.eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
  });
  it('rejects ragged arrays, bad shapes and sizes', () => {
    expect(() => tf.tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => tf.zeros([2, -1])).toThrow(/non-negative integers/);
    expect(() => tf.zeros([2.5])).toThrow(/non-negative integers/);
    expect(() => tf.zeros([NaN])).toThrow(/non-negative integers/);
    expect(() => tf.tensor([1.5], { dtype: 'int32' })).toThrow(/integers/);
    expect(() => tf.tensor(new Float32Array(5), { shape: [2, 2] })).toThrow(/do not fill/);
    expect(() => tf.zeros([2], { dtype: 'float64' as never })).toThrow(/unknown dtype/);
  });
});

describe('random (Philox 4x32-10)', () => {
  it('same seed, same values; different seeds differ; independent of thread count', () => {
    const a = tf.randn([1000], { generator: new tf.Generator(42) }).data();
    tf.setThreads(1);
    const b = tf.randn([1000], { generator: new tf.Generator(42) }).data();
    tf.setThreads(2);
    expect(b).toEqual(a);
    expect(tf.randn([1000], { generator: new tf.Generator(43) }).data()).not.toEqual(a);
  });
  it('matches the published Philox4x32-10 known-answer vector through rand bits', () => {
    // Random123 KAT: counter 0, key 0 -> 6627e8d5 e169c58d bc57ac4c 9b00dbd8; uniform = (word >> 8) / 2^24
    const u = tf.rand([4], { generator: new tf.Generator(0) }).data();
    const words = [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8];
    words.forEach((w, i) => expect(u[i]).toBe((w >>> 8) / 16777216));
  });
  it('uniform and normal have the right moments; randint stays in range', () => {
    const u = tf.rand([100000]);
    expect(tf.mean(u).item()).toBeCloseTo(0.5, 2);
    const n = tf.randn([100000], { mean: 3, std: 2 });
    expect(tf.mean(n).item()).toBeCloseTo(3, 1);
    expect(Math.sqrt(tf.variance(n).item())).toBeCloseTo(2, 1);
    const r = tf.randint(-3, 4, [5000]).data();
    expect(Math.min(...r)).toBe(-3);
    expect(Math.max(...r)).toBe(3);
  });
  it('the generator state round-trips', () => {
    const g = new tf.Generator(7);
    tf.rand([10], { generator: g });
    const st = g.getState();
    const a = tf.rand([5], { generator: g }).data();
    g.setState(st);
    expect(tf.rand([5], { generator: g }).data()).toEqual(a);
  });
});

describe('dtypes and casts', () => {
  it('float32 -> bfloat16 rounds to nearest even', () => {
    // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even mantissa (1)
    const halfway = 1 + 2 ** -8, above = 1 + 2 ** -8 + 2 ** -20, odd = 1 + 3 * 2 ** -8;
    expect(tf.tensor([halfway, above, odd, -halfway]).to('bfloat16').to('float32').toArray()).toEqual([1, 1 + 2 ** -7, 1 + 4 * 2 ** -8, -1]);
  });
  it('float32 -> bfloat16 keeps NaN, infinities and subnormals; the largest float32 rounds to inf', () => {
    // 70 values: the vector loop and its tail
    const x = Array.from({ length: 7 }, () => [NaN, Infinity, -Infinity, 2 ** -130, -(2 ** -133), 3.4028234663852886e38, -0, 1 + 2 ** -8, 2.5, -1e-3]).flat();
    const y = tf.tensor(x).to('bfloat16').to('float32').toArray() as number[];
    for (let i = 0; i < x.length; i += 10) {
      expect(Number.isNaN(y[i])).toBe(true);
      expect(y.slice(i + 1, i + 9)).toEqual([Infinity, -Infinity, 2 ** -130, -(2 ** -133), Infinity, -0, 1, 2.5]);
      expect(y[i + 9]).toBeCloseTo(-1e-3, 5);
    }
  });
  it('float32 -> float16 rounds to nearest even, overflows to inf, keeps subnormals', () => {
    const x = [1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 65520, 2 ** -24, 2 ** -25, 3 * 2 ** -25, NaN];
    const y = tf.tensor(x).to('float16').to('float32').toArray() as number[];
    expect(y.slice(0, 7)).toEqual([1, 1 + 2 ** -9, 65504, Infinity, 2 ** -24, 0, 2 ** -23]);
    expect(Number.isNaN(y[7])).toBe(true);
  });
  it('float -> int truncates and saturates', () => {
    expect(tf.tensor([1.7, -1.7, 300, -300]).to('int8').toArray()).toEqual([1, -1, 127, -128]);
    expect(tf.tensor([1.7, 300, -5]).to('uint8').toArray()).toEqual([1, 255, 0]);
  });
  it('mixed operands promote: int with float gives float, 16-bit with float32 gives float32', () => {
    expect(tf.add(tf.tensor([1, 2], { dtype: 'int32' }), 0.5).toArray()).toEqual([1.5, 2.5]);
    expect(tf.add(tf.tensor([1], { dtype: 'bfloat16' }), tf.tensor([1])).dtype).toBe('float32');
  });
});

describe('views', () => {
  const x = () => tf.arange(24, undefined, 1, { dtype: 'float32' }).reshape([2, 3, 4]);
  it('reshape, permute, transpose share memory and read right', () => {
    const t = x();
    expect(t.transpose(0, 2).shape).toEqual([4, 3, 2]);
    expect(t.transpose(0, 2).toArray()).toEqual([0, 1, 2, 3].map((k) => [0, 1, 2].map((j) => [0, 1].map((i) => i * 12 + j * 4 + k))));
    expect(t.permute([1, 0, 2]).isContiguous()).toBe(false);
    expect(t.permute([1, 0, 2]).contiguous().isContiguous()).toBe(true);
    expect(t.reshape([6, -1]).shape).toEqual([6, 4]);
    expect(() => t.reshape([5, -1])).toThrow(/cannot infer/);
  });
  it('reshape stays a view where the strides allow it (as torch.view), and copies where they do not', () => {
    const t = x();
    const storage = (v: tf.Tensor) => v.desc('test')[0];
    // split and merge runs of dims that are contiguous in memory, also inside a strided slice
    const heads = t.slice(2, 0, 2).reshape([6, 2]);
    expect(storage(heads)).toBe(storage(t));
    expect(heads.toArray()).toEqual([0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21].reduce<number[][]>((r, v, i) => (i % 2 ? r[r.length - 1]!.push(v) : r.push([v]), r), []));
    const split = t.slice(2, 1, 3).reshape([2, 3, 2, 1]);
    expect(storage(split)).toBe(storage(t));
    expect(split.contiguous().data()).toEqual(t.slice(2, 1, 3).contiguous().data());
    expect(storage(t.permute([0, 2, 1]).reshape([2, 4, 3, 1]))).toBe(storage(t));
    // dims that are not adjacent in memory cannot merge: a copy, with the same values
    const merged = t.permute([0, 2, 1]).reshape([2, 12]);
    expect(storage(merged)).not.toBe(storage(t));
    expect(merged.toArray()).toEqual([0, 1].map((i) => [0, 1, 2, 3].flatMap((k) => [0, 1, 2].map((j) => i * 12 + j * 4 + k))));
    // gradients flow back through a view reshape
    const w = tf.randn([3, 8]).requiresGrad_();
    w.slice(1, 2, 6).reshape([3, 2, 2]).mul(tf.arange(12, undefined, 1, { dtype: 'float32' }).reshape([3, 2, 2])).sum().backward();
    expect(w.grad!.toArray()).toEqual([0, 1, 2].map((i) => [0, 0, 4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3, 0, 0]));
  });
  it('slice with step, negative bounds; expand; squeeze; unsqueeze', () => {
    const t = x();
    expect(t.slice(2, 1, -1, 2).toArray()).toEqual([[[1], [5], [9]], [[13], [17], [21]]]);
    expect(tf.tensor([[1], [2]]).expand([2, 3]).toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(() => tf.tensor([1, 2]).expand([3])).toThrow(/cannot expand/);
    expect(tf.zeros([1, 3, 1]).squeeze().shape).toEqual([3]);
    expect(tf.zeros([3]).unsqueeze(0).unsqueeze(-1).shape).toEqual([1, 3, 1]);
  });
  it('concat, stack, split', () => {
    expect(tf.concat([tf.tensor([[1, 2]]), tf.tensor([[3, 4]])], 0).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tf.stack([tf.tensor([1, 2]), tf.tensor([3, 4])], 1).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(tf.split(tf.arange(5), [2, 3]).map((p) => p.toArray())).toEqual([[0, 1], [2, 3, 4]]);
    expect(() => tf.split(tf.arange(5), [2, 2])).toThrow(/do not add up/);
  });
});

describe('memory', () => {
  it('dispose frees; using a disposed tensor throws naming the op', () => {
    const t = tf.ones([4]);
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expect(() => tf.exp(t)).toThrow(/exp: tensor float32\[4\] was disposed/);
    expect(() => t.data()).toThrow(/disposed/);
    t.dispose(); // idempotent
  });
  it('a view keeps its buffer alive after the base is disposed', () => {
    const base = tf.arange(6, undefined, 1, { dtype: 'float32' });
    const v = base.slice(0, 2);
    base.dispose();
    expect(v.toArray()).toEqual([2, 3, 4, 5]);
  });
  it('using disposes at the end of the block', () => {
    let ref: tf.Tensor;
    {
      using t = tf.ones([2]);
      ref = t;
      expect(ref.isDisposed).toBe(false);
    }
    expect(ref.isDisposed).toBe(true);
  });
  it('tidy frees intermediates and keeps what it returns', () => {
    let inner: tf.Tensor | undefined;
    let kept: tf.Tensor | undefined;
    const out = tf.tidy(() => {
      inner = tf.ones([3]);
      kept = tf.keep(tf.zeros([1]));
      return { y: tf.exp(inner) };
    });
    expect(inner!.isDisposed).toBe(true);
    expect(kept!.isDisposed).toBe(false);
    expect(out.y.isDisposed).toBe(false);
    expect(out.y.toArray()).toEqual([Math.E, Math.E, Math.E].map(Math.fround));
  });
  it('tidy disposes everything when fn throws', () => {
    let t: tf.Tensor | undefined;
    expect(() => tf.tidy(() => {
      t = tf.ones([2]);
      throw new Error('boom');
    })).toThrow('boom');
    expect(t!.isDisposed).toBe(true);
  });
  it('freed buffers go back to the host cache, which can be emptied', () => {
    tf.tidy(() => {
      for (let i = 0; i < 3; i++) tf.zeros([1 << 20]);
    });
    expect(native.hostCache()).toBeGreaterThan(0);
    expect(native.hostCache(true)).toBe(0);
  });
});

describe('garbage collection', () => {
  it('a tensor dropped without dispose() is freed by its finalizer (the safety net)', () => {
    const script = `
      const tf = await import(${JSON.stringify(new URL('../dist/lib/index.js', import.meta.url).href)});
      const { native } = await import(${JSON.stringify(new URL('../dist/lib/native.js', import.meta.url).href)});
      native.hostCache(true);
      (() => { for (let i = 0; i < 8; i++) tf.zeros([1 << 18]); })();
      for (let i = 0; i < 5 && native.hostCache() === 0; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      console.log(native.hostCache());
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // the buffers went back to the host cache without anyone calling dispose()
    expect(Number(r.stdout.trim())).toBeGreaterThanOrEqual(1 << 20);
  });
});

describe('printing', () => {
  it('toString shows shape, dtype, device and a value summary', () => {
    const s = tf.arange(20, undefined, 1, { dtype: 'float32' }).toString();
    expect(s).toContain('shape=[20]');
    expect(s).toContain('dtype=float32');
    expect(s).toContain('device=cpu');
    expect(s).toContain('...');
    expect(tf.tensor([1, 2], { requiresGrad: true }).mul(2).toString()).toContain('grad_fn=mul');
  });
});
