// Structured pruning of feed-forward neurons: each hidden unit's importance is |dL/dxi| for a mask
// xi on its activation (Michel et al. 2019), which equals sum_o W2[o, j] dL/dW2[o, j] - read from
// the second linear layer's weight gradient, no hooks needed - accumulated as |.| over batches. The
// pruned model is physically smaller: fewer rows in the first linear layer, fewer columns in the second.
import { noGrad } from '../autograd/mode.js';
import { backward } from '../autograd/engine.js';
import { EncoderClassifier } from '../nn/classifier.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/memory.js';

/** The (first, second) feed-forward linear layers' parameter names of layer i. */
function ffNames(model: EncoderClassifier, i: number): [string, string] {
  return model.config.layer === 'seed' ? [`layers.${i}.feedforward.0`, `layers.${i}.feedforward.2`] : [`layers.${i}.linear1`, `layers.${i}.linear2`];
}

/**
 * Importance of every feed-forward neuron, per layer: `losses` yields one mean loss per batch
 * (computed by the caller in train or eval mode); each is differentiated and then forgotten.
 */
export function ffnImportance(model: EncoderClassifier, losses: Iterable<() => Tensor>): Float64Array[] {
  const params = new Map(model.namedParameters());
  const n = model.config.numLayers, ff = model.config.dimFeedforward, d = model.config.dModel;
  const importance = Array.from({ length: n }, () => new Float64Array(ff));
  let batches = 0;
  for (const loss of losses) {
    model.zeroGrad();
    tidy(() => backward(loss()));
    for (let i = 0; i < n; i++) {
      const w2 = params.get(`${ffNames(model, i)[1]}.weight`)!;
      const w = w2.data(), g = w2.grad!.data();
      const imp = importance[i]!;
      for (let j = 0; j < ff; j++) {
        let s = 0;
        for (let o = 0; o < d; o++) s += w[o * ff + j]! * g[o * ff + j]!;
        imp[j]! += Math.abs(s);
      }
    }
    batches++;
  }
  model.zeroGrad();
  if (batches === 0) throw new Error('ffnImportance: no batches');
  return importance;
}

/** A copy of `model` keeping the `keep` most important feed-forward neurons of every layer. */
export function pruneFfnNeurons(model: EncoderClassifier, importance: Float64Array[], keep: number): EncoderClassifier {
  const ff = model.config.dimFeedforward;
  if (!Number.isInteger(keep) || keep < 1 || keep > ff) throw new RangeError(`pruneFfnNeurons: keep must be an integer in [1, ${ff}], got ${keep}`);
  if (importance.length !== model.config.numLayers) throw new RangeError(`pruneFfnNeurons: ${importance.length} importance vectors for ${model.config.numLayers} layers`);
  const small = new EncoderClassifier({ ...model.config, dimFeedforward: keep });
  const state = new Map(model.stateDict());
  const d = model.config.dModel;
  noGrad(() => {
    importance.forEach((imp, i) => {
      // the kept neurons in their original order
      const kept = [...imp.keys()].sort((a, b) => imp[b]! - imp[a]! || a - b).slice(0, keep).sort((a, b) => a - b);
      const [l1, l2] = ffNames(model, i);
      const w1 = state.get(`${l1}.weight`)!.data(), b1 = state.get(`${l1}.bias`)!.data(), w2 = state.get(`${l2}.weight`)!.data();
      state.set(`${l1}.weight`, tensor(Float32Array.from(kept.flatMap((j) => [...w1.subarray(j * d, (j + 1) * d)])), { shape: [keep, d] }));
      state.set(`${l1}.bias`, tensor(Float32Array.from(kept.map((j) => b1[j]!)), { shape: [keep] }));
      state.set(`${l2}.weight`, tensor(Float32Array.from({ length: d * keep }, (_, t) => w2[Math.floor(t / keep) * ff + kept[t % keep]!]!), { shape: [d, keep] }));
    });
  });
  small.loadStateDict(state);
  return small;
}
