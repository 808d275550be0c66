// Optimizer base: parameter groups with their own hyper-parameters (e.g. no weight decay on biases
// and LayerNorm), per-parameter state, zeroGrad, and a state dict for checkpoints.
import { copyInto } from '../ops/device.js';
import { zerosLike } from '../tensor/create.js';
import { keep } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

export interface ParamGroup<H> {
  params: Tensor[];
  hyper: H;
}

export type GroupSpec<H> = { params: Tensor[] } & Partial<H>;

export abstract class Optimizer<H extends { lr: number }> {
  readonly groups: ParamGroup<H>[];
  /** per-parameter state tensors (moments, momentum buffers) and step counts */
  protected readonly state = new Map<Tensor, { step: number; buffers: Tensor[] }>();

  constructor(params: Tensor[] | GroupSpec<H>[], defaults: H, name: string) {
    const specs: GroupSpec<H>[] = params.length && !('params' in (params[0] as object)) ? [{ params: params as Tensor[] } as GroupSpec<H>] : (params as GroupSpec<H>[]);
    const seen = new Set<Tensor>();
    this.groups = specs.map((s) => {
      for (const p of s.params) {
        if (!p.requiresGrad) throw new Error(`${name}: a parameter does not require grad`);
        if (seen.has(p)) throw new Error(`${name}: a parameter appears in more than one group`);
        seen.add(p);
      }
      const { params: ps, ...rest } = s;
      const hyper = { ...defaults, ...(rest as unknown as Partial<H>) };
      this.validate(hyper);
      return { params: [...ps], hyper };
    });
  }

  protected abstract validate(h: H): void;
  abstract step(): void;
  /** Names of the per-parameter state buffers, in the order they are kept (as PyTorch names them). */
  abstract readonly bufferNames: readonly string[];

  /** State for a checkpoint: buffers as `<buffer>.<param name>` tensors, and step counts by name. */
  exportState(names: ReadonlyMap<Tensor, string>): { tensors: Map<string, Tensor>; steps: Record<string, number> } {
    const tensors = new Map<string, Tensor>(), steps: Record<string, number> = {};
    for (const [p, s] of this.state) {
      const name = names.get(p);
      if (name === undefined) continue;
      steps[name] = s.step;
      s.buffers.forEach((b, i) => tensors.set(`${this.bufferNames[i]}.${name}`, b));
    }
    return { tensors, steps };
  }

  /** Restores what exportState wrote (values are copied into fresh buffers). */
  importState(byName: ReadonlyMap<string, Tensor>, state: { tensors: ReadonlyMap<string, Tensor>; steps: Record<string, number> }): void {
    this.state.clear();
    for (const [name, step] of Object.entries(state.steps)) {
      const p = byName.get(name);
      if (!p) throw new Error(`optimizer state: no parameter named ${name}`);
      const s = this.stateOf(p, this.bufferNames.length);
      s.step = step;
      this.bufferNames.forEach((b, i) => {
        const t = state.tensors.get(`${b}.${name}`);
        if (!t) throw new Error(`optimizer state: ${b}.${name} is missing`);
        copyInto(s.buffers[i]!, t);
      });
    }
  }

  /** State of p, created with `count` zero buffers on first use. */
  protected stateOf(p: Tensor, count: number): { step: number; buffers: Tensor[] } {
    let s = this.state.get(p);
    if (!s) {
      s = { step: 0, buffers: Array.from({ length: count }, () => keep(zerosLike(p))) };
      this.state.set(p, s);
    }
    return s;
  }

  zeroGrad(): void {
    for (const g of this.groups) {
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** Sets the learning rate of every group (schedules call this). */
  setLr(lr: number): void {
    for (const g of this.groups) g.hyper.lr = lr;
  }

  /** Parameter groups grouped by the step count they will take, as (params, grads) lists. */
  protected withGrads(g: ParamGroup<H>, buffers: number): Map<number, { params: Tensor[]; grads: Tensor[]; buffers: Tensor[][] }> {
    const byStep = new Map<number, { params: Tensor[]; grads: Tensor[]; buffers: Tensor[][] }>();
    for (const p of g.params) {
      if (!p.grad) continue;
      const s = this.stateOf(p, buffers);
      s.step += 1;
      let e = byStep.get(s.step);
      if (!e) byStep.set(s.step, (e = { params: [], grads: [], buffers: Array.from({ length: buffers }, () => []) }));
      e.params.push(p);
      e.grads.push(p.grad);
      s.buffers.forEach((b, i) => e!.buffers[i]!.push(b));
    }
    return byStep;
  }
}
