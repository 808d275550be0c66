// The usual AdamW parameter groups of a Transformer: weight decay on the weight matrices only, none
// on biases, LayerNorm weights and the token and position embeddings.
import type { Tensor } from '../tensor/tensor.js';

export function paramGroups(named: Iterable<[string, Tensor]>, weightDecay: number) {
  const decay: Tensor[] = [], none: Tensor[] = [];
  for (const [name, p] of named) (p.ndim < 2 || name.startsWith('tok.') || name.startsWith('pos.') ? none : decay).push(p);
  return [{ params: decay, weightDecay }, { params: none, weightDecay: 0 }];
}
