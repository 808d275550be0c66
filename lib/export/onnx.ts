// ONNX export (opset 17) of an EncoderClassifier: inputs `tokens` (int32, batch x seq) and
// `key_padding_mask` (uint8, 1 = padding), output `logits`. Float weights become MatMul; int8
// weights (a quantised model) become DynamicQuantizeLinear + MatMulInteger with the per-channel
// scales applied after, the form onnxruntime's own dynamic quantisation produces; int8 embedding
// tables are gathered as int8 and scaled per row.
import { readFileSync } from 'node:fs';
import { noGrad } from '../autograd/mode.js';
import { writeFileAtomic } from '../io/atomic.js';
import { headDimOf, sinusoidalTable, type EncoderClassifier } from '../nn/classifier.js';
import { packageRoot } from '../native.js';
import { reshape, slice, transpose } from '../ops/shape.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { GraphBuilder } from './onnx_graph.js';

export const ONNX_OPSET = 17;

class ClassifierGraph {
  readonly g = new GraphBuilder();
  private readonly state: Map<string, Tensor>;
  constructor(private readonly model: EncoderClassifier) {
    this.state = model.stateDict();
  }
  private get(name: string): Tensor {
    const t = this.state.get(name);
    if (!t) throw new Error(`exportOnnx: the model has no ${name}`);
    return t;
  }
  private has(name: string): boolean {
    return this.state.has(name);
  }

  /** x · Wᵀ + b for weight `w` (rows `rows` of it when given) in float or int8. */
  linear(x: string, w: string, b: string | null, rows?: [number, number]): string {
    const g = this.g, weight = this.get(w);
    const part = (t: Tensor) => (rows ? slice(t, 0, rows[0], rows[1]) : t);
    const tag = rows ? `${w}[${rows[0]}:${rows[1]}]` : w;
    const wt = g.tensor(`${tag}.T`, tidy(() => transpose(part(weight))));
    let y: string;
    if (weight.dtype === 'int8') {
      const [xq, xs, xz] = g.op('DynamicQuantizeLinear', [x], {}, 3) as [string, string, string];
      const acc = g.op1('Cast', [g.op1('MatMulInteger', [xq, wt, xz])], { to: 1 });
      const scale = g.op1('Mul', [xs, g.tensor(`${tag}_scale`, part(this.get(`${w}_scale`)))]);
      y = g.op1('Mul', [acc, scale]);
    } else {
      y = g.op1('MatMul', [x, wt]);
    }
    return b && this.has(b) ? g.op1('Add', [y, g.tensor(rows ? `${b}[${rows[0]}:${rows[1]}]` : b, part(this.get(b)))]) : y;
  }

  /** `select` (a gather or a slice) of an embedding table's rows, dequantised when the table is int8. */
  embeddingRows(prefix: string, select: (table: string) => string): string {
    const g = this.g, w = this.get(`${prefix}.weight`);
    if (w.dtype !== 'int8') return select(g.tensor(`${prefix}.weight`, w));
    const scale = this.get(`${prefix}.weight_scale`);
    const rows = g.op1('Cast', [select(g.tensor(`${prefix}.weight`, w))], { to: 1 });
    return g.op1('Mul', [rows, select(g.tensor(`${prefix}.weight_scale`, reshape(scale, [scale.shape[0]!, 1])))]);
  }

  layerNorm(x: string, prefix: string): string {
    const eps = this.model.config.layerNormEps ?? 1e-5;
    return this.g.op1('LayerNormalization', [x, this.g.tensor(`${prefix}.weight`, this.get(`${prefix}.weight`)), this.g.tensor(`${prefix}.bias`, this.get(`${prefix}.bias`))], { axis: -1, epsilon: eps }, ['epsilon']);
  }

  /** softmax(q kᵀ / sqrt(dh) + mask) v over heads; q, k, v (B, S, E). */
  attention(q: string, k: string, v: string, maskBias: string): string {
    const g = this.g, H = this.model.config.nHead, dh = headDimOf(this.model.config), E = H * dh;
    const heads = g.constant([0, 0, H, dh], 'int64');
    const split = (t: string, perm: number[]) => g.op1('Transpose', [g.op1('Reshape', [t, heads])], { perm });
    const scores = g.op1('Mul', [g.op1('MatMul', [split(q, [0, 2, 1, 3]), split(k, [0, 2, 3, 1])]), g.constant([1 / Math.sqrt(dh)], 'float32', [])]);
    const p = g.op1('Softmax', [g.op1('Add', [scores, maskBias])], { axis: -1 });
    const o = g.op1('Transpose', [g.op1('MatMul', [p, split(v, [0, 2, 1, 3])])], { perm: [0, 2, 1, 3] });
    return g.op1('Reshape', [o, g.constant([0, 0, E], 'int64')]);
  }

  gelu(x: string): string {
    const g = this.g;
    const erf = g.op1('Erf', [g.op1('Mul', [x, g.constant([Math.SQRT1_2], 'float32', [])])]);
    return g.op1('Mul', [g.op1('Mul', [x, g.op1('Add', [erf, g.constant([1], 'float32', [])])]), g.constant([0.5], 'float32', [])]);
  }

  torchLayer(h: string, p: string, maskBias: string): string {
    const c = this.model.config, g = this.g, E = c.nHead * headDimOf(c), normFirst = c.normFirst ?? false;
    const sa = (x: string) => {
      const w = `${p}.self_attn.in_proj_weight`, b = `${p}.self_attn.in_proj_bias`;
      const [q, k, v] = [0, 1, 2].map((i) => this.linear(x, w, b, [i * E, (i + 1) * E])) as [string, string, string];
      return this.linear(this.attention(q, k, v, maskBias), `${p}.self_attn.out_proj.weight`, `${p}.self_attn.out_proj.bias`);
    };
    const ff = (x: string) => {
      const a = this.linear(x, `${p}.linear1.weight`, `${p}.linear1.bias`);
      return this.linear(this.model.config.activation === 'gelu' ? this.gelu(a) : g.op1('Relu', [a]), `${p}.linear2.weight`, `${p}.linear2.bias`);
    };
    if (normFirst) {
      const x = g.op1('Add', [h, sa(this.layerNorm(h, `${p}.norm1`))]);
      return g.op1('Add', [x, ff(this.layerNorm(x, `${p}.norm2`))]);
    }
    const x = this.layerNorm(g.op1('Add', [h, sa(h)]), `${p}.norm1`);
    return this.layerNorm(g.op1('Add', [x, ff(x)]), `${p}.norm2`);
  }

  seedLayer(h: string, p: string, maskBias: string): string {
    const g = this.g;
    const proj = (n: string) => this.linear(h, `${p}.self_attn.${n}_proj.weight`, `${p}.self_attn.${n}_proj.bias`);
    const x = this.layerNorm(g.op1('Add', [h, this.attention(proj('query'), proj('key'), proj('value'), maskBias)]), `${p}.norm1`);
    const f = this.linear(g.op1('Relu', [this.linear(x, `${p}.feedforward.0.weight`, `${p}.feedforward.0.bias`)]), `${p}.feedforward.2.weight`, `${p}.feedforward.2.bias`);
    return this.layerNorm(g.op1('Add', [x, f]), `${p}.norm2`);
  }

  build(): void {
    const g = this.g, c = this.model.config;
    const tokens = g.input('tokens', 'int32', ['batch', 'seq']);
    const mask = g.input('key_padding_mask', 'uint8', ['batch', 'seq']);
    const seq = g.op1('Slice', [g.op1('Shape', [tokens]), g.constant([1], 'int64'), g.constant([2], 'int64')]);
    const firstRows = (table: string) => g.op1('Slice', [table, g.constant([0], 'int64'), seq, g.constant([0], 'int64')]);
    const positions = c.positional === 'sinusoidal' ? firstRows(g.tensor('pos.table', sinusoidalTable(c.maxLen, c.dModel))) : this.embeddingRows('pos', firstRows);
    let h = g.op1('Add', [this.embeddingRows('tok', (table) => g.op1('Gather', [table, tokens])), positions]);
    const pad = g.op1('Cast', [mask], { to: 1 });
    // (B, 1, 1, S): -1e9 on padded keys (a large finite value: no NaN from fully masked rows)
    const maskBias = g.op1('Unsqueeze', [g.op1('Mul', [pad, g.constant([-1e9], 'float32', [])]), g.constant([1, 2], 'int64')]);
    for (let i = 0; i < c.numLayers; i++) h = c.layer === 'seed' ? this.seedLayer(h, `layers.${i}`, maskBias) : this.torchLayer(h, `layers.${i}`, maskBias);
    if (this.has('norm.weight')) h = this.layerNorm(h, 'norm');
    let pooled: string;
    if (c.pooling === 'first') {
      pooled = g.op1('Gather', [h, g.constant([0], 'int64', [])], { axis: 1 });
    } else if (c.pooling === 'max') {
      // padded positions pushed to -1e9 (the others unchanged: + -0), so the maximum is over the text
      const padBias = g.op1('Unsqueeze', [g.op1('Mul', [pad, g.constant([-1e9], 'float32', [])]), g.constant([2], 'int64')]);
      pooled = g.op1('ReduceMax', [g.op1('Add', [h, padBias])], { axes: [1], keepdims: 0 });
    } else {
      const keep = g.op1('Sub', [g.constant([1], 'float32', []), pad]);
      const sum = g.op1('ReduceSum', [g.op1('Mul', [h, g.op1('Unsqueeze', [keep, g.constant([2], 'int64')])]), g.constant([1], 'int64')], { keepdims: 0 });
      pooled = g.op1('Div', [sum, g.op1('ReduceSum', [keep, g.constant([1], 'int64')], { keepdims: 1 })]);
    }
    g.output('logits', this.linear(pooled, 'head.weight', 'head.bias'), 'float32', ['batch', c.numClasses]);
  }
}

/** The ONNX bytes of `model` (float32, or int8 where the model's weights are int8). */
export function onnxBytes(model: EncoderClassifier): Uint8Array {
  const graph = new ClassifierGraph(model);
  noGrad(() => graph.build());
  const version = (JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')) as { version: string }).version;
  return graph.g.encode({ name: 'encoder_classifier', opset: ONNX_OPSET, producer: 'tensorforge', version, metadata: { config: JSON.stringify(model.config) } });
}

/** Writes `model` as an ONNX file (to a temporary file, then renamed). */
export function exportOnnx(model: EncoderClassifier, path: string): void {
  writeFileAtomic(path, [onnxBytes(model)]);
}
