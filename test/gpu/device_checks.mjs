// What TypeScript builds on the CUDA kernels, checked on a GPU: device tensors, modules, autograd,
// the allocator, the Trainer. Plain JavaScript over the built package (dist/) and node:assert, so
// the same checks run under vitest (test/cuda.test.ts) and, on a lent GPU machine without npm
// packages, under a carried node binary (bench/gpu/device_checks_main.mjs).
import assert from 'node:assert/strict';
import '../../dist/lib/ops/methods.js';
import * as cuda from '../../dist/lib/cuda.js';
import { DataLoader } from '../../dist/lib/data/loader.js';
import { EncoderClassifier } from '../../dist/lib/nn/classifier.js';
import { add } from '../../dist/lib/ops/elementwise.js';
import { crossEntropy, dropout } from '../../dist/lib/ops/nn.js';
import { AdamW } from '../../dist/lib/optim/adamw.js';
import { arange, empty, ones, rand, randint, randn, tensor, zeros } from '../../dist/lib/tensor/create.js';
import { Generator, manualSeed } from '../../dist/lib/tensor/random.js';
import { Trainer } from '../../dist/lib/train/trainer.js';

const maxDiff = (a, b) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const maxAbs = (a) => maxDiff(a, new Float32Array(a.length));
const below = (value, limit, what) => assert.ok(value < limit, `${what}: ${value} is not below ${limit}`);

const config = { vocabSize: 40, maxLen: 16, dModel: 32, nHead: 4, dimFeedforward: 64, numLayers: 2, numClasses: 2, dropout: 0, normFirst: true, activation: 'gelu' };

function trainToy(device, precision) {
  const g = new Generator(5);
  const u = rand([64 * 12], { generator: g }).data();
  const ids = [], labels = [];
  for (let i = 0; i < 64; i++) {
    const row = [2, ...Array.from({ length: 3 + (i % 9) }, (_, j) => 3 + Math.floor(u[i * 12 + j] * 30))];
    ids.push(row);
    labels.push(row.includes(7) || row.includes(8) ? 1 : 0);
  }
  manualSeed(4);
  const model = new EncoderClassifier(config).to(device);
  const loader = new DataLoader(ids, labels, { batchSize: 8, shuffle: true, seed: 1 });
  const trainer = new Trainer(model, new AdamW(model.parameters(), { lr: 3e-3 }), ['a', 'b'], {
    epochs: 2, accumulation: 2, precision, clipNorm: 1, schedule: { kind: 'constant', lr: 3e-3 },
  });
  return { fit: trainer.fit(loader), eval: trainer.evaluate(loader) };
}

/** [name, check] pairs; each throws on failure. */
export const deviceChecks = [
  ['tensors go to the device and back unchanged, strided views and every dtype included', () => {
    for (const dtype of ['float32', 'bfloat16', 'float16', 'int32', 'int8', 'uint8']) {
      const x = arange(0, 24, 1, { dtype }).reshape([4, 6]);
      const d = x.to('cuda');
      assert.equal(d.device, 'cuda:0');
      assert.deepEqual(d.cpu().data(), x.data());
      assert.deepEqual(x.transpose().to('cuda').cpu().data(), x.transpose().data());
    }
    assert.equal(randn([3, 5], { device: 'cuda' }).device, 'cuda:0');
  }],
  ['random numbers and dropout masks are the same on both devices for the same seed', () => {
    manualSeed(11);
    const a = randn([1000]).data();
    manualSeed(11);
    assert.deepEqual(randn([1000], { device: 'cuda' }).cpu().data(), a);
    manualSeed(12);
    const m1 = dropout(ones([4096]), 0.3, true).data();
    manualSeed(12);
    assert.deepEqual(dropout(ones([4096], { device: 'cuda' }), 0.3, true).cpu().data(), m1);
  }],
  ['an encoder classifier gives the same logits and gradients on the GPU as on the CPU (float32)', () => {
    manualSeed(3);
    const cpu = new EncoderClassifier(config);
    manualSeed(3);
    const dev = new EncoderClassifier(config).to('cuda');
    assert.equal(dev.device, 'cuda:0');
    const tokens = randint(0, 40, [3, 16]);
    const mask = tensor(new Uint8Array(48).map((_, i) => (i % 16 >= 12 + (i >> 4) ? 1 : 0)), { shape: [3, 16] });
    const run = (m, device) => {
      const logits = m.forward(tokens.to(device), mask.to(device));
      crossEntropy(logits, tensor(new Int32Array([0, 1, 1]), { device })).backward();
      return logits.cpu().data();
    };
    const lc = run(cpu, 'cpu'), ld = run(dev, 'cuda');
    below(maxDiff(lc, ld), 1e-4 * Math.max(1, maxAbs(lc)), 'logits');
    const gd = new Map([...dev.namedParameters()].map(([n, p]) => [n, p.grad.cpu().data()]));
    for (const [n, p] of cpu.namedParameters()) {
      const g = p.grad.data();
      below(maxDiff(g, gd.get(n)), 1e-3 * Math.max(1e-3, maxAbs(g)), `gradient of ${n}`);
    }
  }],
  ['float32 matmul runs as TF32 only when allowed, within TF32 rounding of float32', () => {
    manualSeed(21);
    const a = randn([192, 256], { device: 'cuda' }), b = randn([256, 160], { device: 'cuda' });
    const want = a.cpu().matmul(b.cpu()).data();
    const exact = a.matmul(b).cpu().data();
    cuda.setAllowTF32(true);
    let tf32;
    try {
      tf32 = a.matmul(b).cpu().data();
    } finally {
      cuda.setAllowTF32(false);
    }
    const scale = maxAbs(want);
    below(maxDiff(exact, want), 1e-5 * scale, 'float32 (SIMT) error');
    below(maxDiff(tf32, want), 5e-3 * scale, 'TF32 error');
    assert.ok(maxDiff(tf32, want) > 1e-6 * scale, 'TF32 gives exactly the float32 result: the tensor-core path did not run');
  }],
  ['ops refuse tensors on different devices, naming both', () => {
    assert.throws(() => add(ones([2]), ones([2], { device: 'cuda' })), /add: expected all tensors on one device, got cpu and cuda:0/);
    assert.deepEqual(ones([2], { device: 'cuda' }).add(1).cpu().data(), new Float32Array([2, 2]));
  }],
  ['the caching allocator counts tensors, keeps freed blocks, and survives running out of memory', () => {
    cuda.synchronize();
    const before = cuda.memoryStats();
    const t = zeros([1 << 20], { device: 'cuda' });
    const during = cuda.memoryStats();
    assert.ok(during.allocated - before.allocated >= 4 << 20, 'allocated grows by the tensor');
    assert.ok(during.peak >= during.allocated, 'peak');
    t.dispose();
    const after = cuda.memoryStats();
    assert.equal(after.allocated, before.allocated);
    assert.equal(after.reserved, during.reserved);
    assert.throws(() => empty([2 ** 40], 'float32', 'cuda'), /cuda:0 out of memory: asked for \d+ bytes, \d+ of \d+ bytes free/);
    assert.equal(ones([10], { device: 'cuda' }).sum().item(), 10);
    cuda.emptyCache();
    assert.ok(cuda.memoryStats().reserved <= after.reserved, 'emptyCache gives blocks back');
  }],
  ...['fp32', 'bf16', 'fp16'].map((precision) => [`the Trainer runs on the GPU with ${precision} and follows the CPU's losses`, () => {
    const c = trainToy('cpu', precision), d = trainToy('cuda', precision);
    assert.equal(d.fit.steps, c.fit.steps);
    const tol = precision === 'fp32' ? 1e-3 : 5e-2;
    d.fit.losses.forEach((l, i) => below(Math.abs(l - c.fit.losses[i]), tol * Math.max(1, c.fit.losses[i]), `loss of step ${i + 1}`));
    below(Math.abs(d.eval.accuracy - c.eval.accuracy), precision === 'fp32' ? 1e-9 : 2.01 / 64, 'accuracy difference');
  }]),
];
