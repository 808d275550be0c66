// ONNX export run in onnxruntime-node against tensorforge's own outputs: float32 models of every
// layer kind, and int8 (dynamically quantised) models.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';
import { normErr } from './helpers/compare.js';

const BASE = { vocabSize: 40, maxLen: 16, dModel: 32, nHead: 4, dimFeedforward: 48, numLayers: 2, numClasses: 3, dropout: 0.1 } as const;
const VARIANTS: [string, tf.EncoderClassifierConfig][] = [
  ['pre-norm gelu, mean pooling, learned positions', { ...BASE, normFirst: true, activation: 'gelu' }],
  ['post-norm relu, first-token pooling, sinusoidal positions', { ...BASE, normFirst: false, activation: 'relu', pooling: 'first', positional: 'sinusoidal' }],
  ['pre-norm relu, max pooling', { ...BASE, normFirst: true, activation: 'relu', pooling: 'max' }],
  ["the founding document's layer", { ...BASE, layer: 'seed' }],
];

function inputs(B: number, S: number) {
  const g = new tf.Generator(11);
  const tokens = tf.randint(0, BASE.vocabSize, [B, S], { generator: g });
  // row b has b % S padded positions at the end (row 0 none)
  const mask = tf.tensor(Array.from({ length: B * S }, (_, i) => (i % S >= S - ((i / S) | 0) % S ? 1 : 0)), { dtype: 'uint8', shape: [B, S] });
  return { tokens, mask };
}

async function runOnnx(bytes: Uint8Array, tokens: tf.Tensor, mask: tf.Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const [B, S] = tokens.shape as [number, number];
  const out = await session.run({
    tokens: new ort.Tensor('int32', tokens.data() as Int32Array, [B, S]),
    key_padding_mask: new ort.Tensor('uint8', mask.data() as Uint8Array, [B, S]),
  });
  return out.logits!.data as Float32Array;
}

describe('ONNX export (onnxruntime-node)', () => {
  for (const [name, config] of VARIANTS) {
    it(`float32, ${name}: logits within 1e-4 at two batch/sequence sizes`, async () => {
      const model = new tf.EncoderClassifier(config, new tf.Generator(3)).eval();
      const bytes = tf.onnxBytes(model);
      for (const [B, S] of [[1, 16], [5, 9]] as const) {
        const { tokens, mask } = inputs(B, S);
        const ours = tf.noGrad(() => model.forward(tokens, mask));
        const theirs = await runOnnx(bytes, tokens, mask);
        expect(normErr(theirs, ours)).toBeLessThan(1e-4);
      }
    });
  }

  it('int8 (dynamic): MatMulInteger graph close to our int8 model, smaller file', async () => {
    const model = new tf.EncoderClassifier({ ...BASE, numLayers: 2, normFirst: true, activation: 'gelu', dModel: 64, dimFeedforward: 128 }, new tf.Generator(4)).eval();
    const f32 = tf.onnxBytes(model);
    tf.quantizeDynamic(model);
    const path = join(mkdtempSync(join(tmpdir(), 'tf-onnx-')), 'm.int8.onnx');
    tf.exportOnnx(model, path);
    const bytes = readFileSync(path);
    const { tokens, mask } = inputs(6, 16);
    const ours = tf.noGrad(() => model.forward(tokens, mask));
    const theirs = await runOnnx(bytes, tokens, mask);
    // activations: per row symmetric here, per tensor asymmetric in onnxruntime's DynamicQuantizeLinear
    expect(normErr(theirs, ours)).toBeLessThan(0.05);
    // int8 tables and matrices, float32 scales, biases and LayerNorms
    expect(bytes.length).toBeLessThan(0.35 * f32.length);
  });
});
