// Structured pruning of feed-forward neurons and attention heads: a unit's importance is |dL/dxi|
// for a mask xi on its output (Michel et al. 2019). For a neuron j that is
// sum_o W2[o, j] dL/dW2[o, j]; for a head, the same sum over the out_proj columns of its slice - read
// from weight gradients, no hooks needed - accumulated as |.| over batches. The pruned model is
// physically smaller: fewer rows in the layers that feed the units, fewer columns in the next.
import { noGrad } from '../autograd/mode.js';
import { backward } from '../autograd/engine.js';
import { EncoderClassifier, headDimOf } from '../nn/classifier.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/memory.js';

/** The (first, second) feed-forward linear layers' parameter names of layer i. */
function ffNames(model: EncoderClassifier, i: number): [string, string] {
  return model.config.layer === 'seed' ? [`layers.${i}.feedforward.0`, `layers.${i}.feedforward.2`] : [`layers.${i}.linear1`, `layers.${i}.linear2`];
}

export interface UnitImportance {
  /** per layer, per feed-forward neuron */
  ffn: Float64Array[];
  /** per layer, per attention head ('torch' layers only; empty for the founding document's layer) */
  heads: Float64Array[];
}

/** |sum over batches| of sum_{o, c in columns(u)} W[o, c] dL/dW[o, c] for each unit u: columns of width `w`. */
function accumulate(imp: Float64Array, weight: Tensor, width: number): void {
  const w = weight.data(), g = weight.grad!.data();
  const [rows, cols] = weight.shape as [number, number];
  for (let u = 0; u < imp.length; u++) {
    let s = 0;
    for (let o = 0; o < rows; o++) for (let c = u * width; c < (u + 1) * width; c++) s += w[o * cols + c]! * g[o * cols + c]!;
    imp[u]! += Math.abs(s);
  }
}

/**
 * Importance of every feed-forward neuron and attention head, per layer: `losses` yields one
 * mean loss per batch (computed by the caller); each is differentiated and then forgotten.
 */
export function unitImportance(model: EncoderClassifier, losses: Iterable<() => Tensor>): UnitImportance {
  const params = new Map(model.namedParameters());
  const c = model.config, n = c.numLayers, torch = c.layer !== 'seed';
  const dh = headDimOf(c);
  const out: UnitImportance = { ffn: Array.from({ length: n }, () => new Float64Array(c.dimFeedforward)), heads: torch ? Array.from({ length: n }, () => new Float64Array(c.nHead)) : [] };
  let batches = 0;
  for (const loss of losses) {
    model.zeroGrad();
    tidy(() => backward(loss()));
    for (let i = 0; i < n; i++) {
      accumulate(out.ffn[i]!, params.get(`${ffNames(model, i)[1]}.weight`)!, 1);
      if (torch) accumulate(out.heads[i]!, params.get(`layers.${i}.self_attn.out_proj.weight`)!, dh);
    }
    batches++;
  }
  model.zeroGrad();
  if (batches === 0) throw new Error('unitImportance: no batches');
  return out;
}

/** The `keep` most important of `imp`'s units, in their original order. */
function topUnits(imp: Float64Array, keep: number): number[] {
  return [...imp.keys()].sort((a, b) => imp[b]! - imp[a]! || a - b).slice(0, keep).sort((a, b) => a - b);
}

/** Rows `rows` (each `width` long) of a 2-D weight or 1-D bias, as a new tensor. */
function takeRows(t: Tensor, rows: number[], width: number): Tensor {
  const d = t.data();
  const v = Float32Array.from(rows.flatMap((r) => [...d.subarray(r * width, (r + 1) * width)]));
  return tensor(v, { shape: t.ndim === 2 ? [rows.length, t.shape[1]!] : [rows.length] });
}
/** Columns `cols` of a 2-D weight, as a new tensor. */
function takeCols(t: Tensor, cols: number[]): Tensor {
  const d = t.data(), [R, C] = t.shape as [number, number];
  return tensor(Float32Array.from({ length: R * cols.length }, (_, i) => d[Math.floor(i / cols.length) * C + cols[i % cols.length]!]!), { shape: [R, cols.length] });
}

/** A copy of `model` keeping the `keep` most important attention heads of every layer. */
export function pruneHeads(model: EncoderClassifier, importance: Float64Array[], keep: number): EncoderClassifier {
  const c = model.config;
  if (c.layer === 'seed') throw new Error("pruneHeads: the founding document's layer has no output projection to take the narrower heads");
  if (!Number.isInteger(keep) || keep < 1 || keep > c.nHead) throw new RangeError(`pruneHeads: keep must be an integer in [1, ${c.nHead}], got ${keep}`);
  if (importance.length !== c.numLayers) throw new RangeError(`pruneHeads: ${importance.length} importance vectors for ${c.numLayers} layers`);
  const dh = headDimOf(c), inner = c.nHead * dh;
  const small = new EncoderClassifier({ ...c, nHead: keep, headDim: dh });
  const state = new Map(model.stateDict());
  noGrad(() => {
    importance.forEach((imp, i) => {
      const heads = topUnits(imp, keep);
      // rows of q, k and v (blocks of `inner` rows) and columns of out_proj for the kept heads
      const cols = heads.flatMap((h) => Array.from({ length: dh }, (_, e) => h * dh + e));
      const rows = [0, 1, 2].flatMap((b) => cols.map((col) => b * inner + col));
      const p = `layers.${i}.self_attn`;
      state.set(`${p}.in_proj_weight`, takeRows(state.get(`${p}.in_proj_weight`)!, rows, c.dModel));
      if (state.has(`${p}.in_proj_bias`)) state.set(`${p}.in_proj_bias`, takeRows(state.get(`${p}.in_proj_bias`)!, rows, 1));
      state.set(`${p}.out_proj.weight`, takeCols(state.get(`${p}.out_proj.weight`)!, cols));
    });
  });
  small.loadStateDict(state);
  return small;
}

/** A copy of `model` keeping the `keep` most important feed-forward neurons of every layer. */
export function pruneFfnNeurons(model: EncoderClassifier, importance: Float64Array[], keep: number): EncoderClassifier {
  const ff = model.config.dimFeedforward;
  if (!Number.isInteger(keep) || keep < 1 || keep > ff) throw new RangeError(`pruneFfnNeurons: keep must be an integer in [1, ${ff}], got ${keep}`);
  if (importance.length !== model.config.numLayers) throw new RangeError(`pruneFfnNeurons: ${importance.length} importance vectors for ${model.config.numLayers} layers`);
  const small = new EncoderClassifier({ ...model.config, dimFeedforward: keep });
  const state = new Map(model.stateDict());
  noGrad(() => {
    importance.forEach((imp, i) => {
      const kept = topUnits(imp, keep);
      const [l1, l2] = ffNames(model, i);
      state.set(`${l1}.weight`, takeRows(state.get(`${l1}.weight`)!, kept, model.config.dModel));
      state.set(`${l1}.bias`, takeRows(state.get(`${l1}.bias`)!, kept, 1));
      state.set(`${l2}.weight`, takeCols(state.get(`${l2}.weight`)!, kept));
    });
  });
  small.loadStateDict(state);
  return small;
}
