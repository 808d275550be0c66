// Unstructured magnitude pruning of the weight matrices (not embeddings), per layer or global, with
// masks that are re-applied after every optimizer step while fine-tuning, and the gradual schedule
// of Zhu & Gupta (2017): s(t) = s_f + (s_i - s_f) (1 - (t - t_0) / n)^3 for t in [t_0, t_0 + n].
import { noGrad } from '../autograd/mode.js';
import type { Module } from '../nn/module.js';
import { runInto } from '../ops/dispatch.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

export interface GradualSchedule {
  initialSparsity?: number;
  finalSparsity: number;
  /** first step of the ramp (t_0) */
  beginStep?: number;
  /** steps of the ramp (n); the sparsity stays final after it */
  rampSteps: number;
}

function checkFraction(v: number, what: string): number {
  if (!(v >= 0 && v < 1)) throw new RangeError(`prune: ${what} must be in [0, 1), got ${v}`);
  return v;
}

/** The target sparsity at `step` on Zhu & Gupta's cubic ramp. */
export function gradualSparsity(step: number, s: GradualSchedule): number {
  const si = checkFraction(s.initialSparsity ?? 0, 'initial sparsity'), sf = checkFraction(s.finalSparsity, 'final sparsity');
  if (!(s.rampSteps > 0)) throw new RangeError(`prune: rampSteps must be positive, got ${s.rampSteps}`);
  const t = Math.min(1, Math.max(0, (step - (s.beginStep ?? 0)) / s.rampSteps));
  return sf + (si - sf) * (1 - t) ** 3;
}

/** The weights pruning applies to: every matrix parameter except the embedding tables. */
export function prunableWeights(model: Module): [string, Tensor][] {
  return [...model.namedParameters()].filter(([name, p]) => p.ndim === 2 && !name.startsWith('tok.') && !name.startsWith('pos.'));
}

/** The k-th smallest value (0-based) of `v`. */
function kthSmallest(v: Float32Array, k: number): number {
  return Float32Array.from(v).sort()[k]!;
}

export class MagnitudePruner {
  private readonly weights: [string, Tensor][];
  readonly masks = new Map<string, Tensor>();
  constructor(model: Module, readonly scope: 'global' | 'layer' = 'global') {
    if (scope !== 'global' && scope !== 'layer') throw new TypeError(`prune: scope must be global or layer, got ${JSON.stringify(scope)}`);
    this.weights = prunableWeights(model);
  }

  /** Recomputes the masks so that `sparsity` of the weights (of all together, or of each) are zero. */
  update(sparsity: number): void {
    checkFraction(sparsity, 'sparsity');
    const abs = this.weights.map(([, w]) => Float32Array.from(w.data() as Float32Array, Math.abs));
    const thresholdOf = (v: Float32Array) => (Math.floor(sparsity * v.length) > 0 ? kthSmallest(v, Math.floor(sparsity * v.length) - 1) : -1);
    let global = -1;
    if (this.scope === 'global') {
      const all = new Float32Array(abs.reduce((n, v) => n + v.length, 0));
      abs.reduce((o, v) => (all.set(v, o), o + v.length), 0);
      global = thresholdOf(all);
    }
    this.weights.forEach(([name, w], i) => {
      const t = this.scope === 'global' ? global : thresholdOf(abs[i]!);
      this.masks.get(name)?.dispose();
      this.masks.set(name, tensor(abs[i]!.map((a) => (a > t ? 1 : 0)), { shape: w.shape }));
    });
    this.apply();
  }

  /** Zeroes the pruned weights again (after an optimizer step moved them). */
  apply(): void {
    noGrad(() => {
      for (const [name, w] of this.weights) {
        const m = this.masks.get(name);
        if (m) runInto('mul', [w, m], [w]);
      }
    });
  }

  /** Fraction of the prunable weights that are zero now. */
  sparsity(): number {
    let zeros = 0, n = 0;
    for (const [, w] of this.weights) {
      const d = w.data();
      for (let i = 0; i < d.length; i++) if (d[i] === 0) zeros++;
      n += d.length;
    }
    return n ? zeros / n : 0;
  }
}
