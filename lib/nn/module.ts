// Module: parameters, buffers and child modules registered by name, with PyTorch's state-dict
// naming ("layers.0.self_attn.in_proj_weight"), train/eval mode, dtype and device conversion.
import { noGrad } from '../autograd/mode.js';
import { copyInto, toDevice } from '../ops/device.js';
import { cast } from '../ops/elementwise.js';
import { deviceIndex, isDeviceLike, type Device, type DeviceLike } from '../tensor/device.js';
import { isFloatDType, type DType } from '../tensor/dtype.js';
import { keep } from '../tensor/memory.js';
import { shapeStr, Tensor } from '../tensor/tensor.js';

/** A parameter is a leaf tensor that requires gradients and outlives every scope. */
export function parameter(t: Tensor): Tensor {
  const p = keep(t);
  p.requiresGrad = true;
  return p;
}

export interface LoadResult {
  missing: string[];
  unexpected: string[];
}

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly buffers = new Map<string, Tensor | null>();
  /** buffers left out of the state dict (PyTorch's persistent=False), e.g. a fixed position table */
  private readonly transient = new Set<string>();
  private readonly children = new Map<string, Module>();

  protected registerParameter(name: string, t: Tensor | null): Tensor {
    if (this.params.has(name) || this.children.has(name)) throw new Error(`registerParameter: ${name} is already registered`);
    const p = t ? parameter(t) : null;
    this.params.set(name, p);
    return p as Tensor;
  }
  protected registerBuffer(name: string, t: Tensor | null, opts: { persistent?: boolean } = {}): Tensor {
    this.buffers.set(name, t ? keep(t) : null);
    if (opts.persistent === false) this.transient.add(name);
    return t as Tensor;
  }
  protected registerModule<M extends Module>(name: string, m: M): M {
    if (this.params.has(name) || this.children.has(name)) throw new Error(`registerModule: ${name} is already registered`);
    this.children.set(name, m);
    return m;
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, m] of this.children) yield* m.namedModules(prefix ? `${prefix}.${n}` : n);
  }
  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [p, m] of this.namedModules(prefix)) {
      for (const [n, t] of m.params) if (t) yield [p ? `${p}.${n}` : n, t];
    }
  }
  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, t]) => t);
  }
  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const [p, m] of this.namedModules(prefix)) {
      for (const [n, t] of m.buffers) if (t) yield [p ? `${p}.${n}` : n, t];
    }
  }
  /** Number of scalar parameters. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Parameters and persistent buffers by their PyTorch names (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    const out = new Map(this.namedParameters());
    for (const [p, m] of this.namedModules()) {
      for (const [n, t] of m.buffers) if (t && !m.transient.has(n)) out.set(p ? `${p}.${n}` : n, t);
    }
    return out;
  }

  /**
   * Copies values from `state` into this module's parameters and buffers (cast to their dtype).
   * strict (default): missing or unexpected keys throw, listing them all. Shape mismatches always throw.
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, opts: { strict?: boolean } = {}): LoadResult {
    const src = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !src.has(k));
    const unexpected = [...src.keys()].filter((k) => !own.has(k));
    if ((opts.strict ?? true) && (missing.length || unexpected.length)) {
      throw new Error(`loadStateDict: missing keys [${missing.join(', ')}]; unexpected keys [${unexpected.join(', ')}]`);
    }
    for (const [k, t] of own) {
      const v = src.get(k);
      if (!v) continue;
      if (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i])) {
        throw new Error(`loadStateDict: ${k} has shape ${shapeStr(v.shape)} in the checkpoint, ${shapeStr(t.shape)} in the model`);
      }
      noGrad(() => copyInto(t, v));
    }
    return { missing, unexpected };
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /**
   * Converts every float parameter and buffer to `dtype`, or moves every parameter and buffer to
   * `device` ('cpu', 'cuda', 'cuda:N'), in place of the old tensors (their gradients are dropped):
   * as in PyTorch, create the optimizer after this.
   */
  to(target: DType | DeviceLike): this {
    const device = isDeviceLike(target) ? deviceIndex(target, 'Module.to') : null;
    const convert = (t: Tensor): Tensor | null => {
      if (device !== null) return t.deviceIndex === device ? null : toDevice(t, target as DeviceLike);
      return t.dtype === target || !isFloatDType(t.dtype) ? null : cast(t, target as DType);
    };
    for (const [, m] of this.namedModules()) {
      for (const map of [m.params, m.buffers]) {
        for (const [n, t] of map) {
          const c = t && noGrad(() => convert(t));
          if (!c) continue;
          keep(c);
          if (map === m.params) c.requiresGrad = true;
          map.set(n, c);
          t!.grad?.dispose();
          t!.dispose();
        }
      }
    }
    return this;
  }
  /** The device of the first parameter or buffer ('cpu' for a module without any). */
  get device(): Device {
    for (const [, m] of this.namedModules()) for (const map of [m.params, m.buffers]) for (const t of map.values()) if (t) return t.device;
    return 'cpu';
  }
  /**
   * Replaces parameter `name` by buffers (its int8 form, scales): they are state, not trained.
   * A null buffer is declared but absent (e.g. no static input scale).
   */
  protected replaceParameter(name: string, buffers: Map<string, Tensor | null>): void {
    const old = this.params.get(name);
    if (!old) throw new Error(`replaceParameter: ${name} is not a parameter`);
    this.params.delete(name);
    old.dispose();
    for (const [n, t] of buffers) this.registerBuffer(n, t);
  }
  /** The tensor registered under `name` now (modules read their parameters through this, so to() can swap them). */
  protected param(name: string): Tensor | null {
    return this.params.get(name) ?? this.buffers.get(name) ?? null;
  }

  /** Frees and clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }
}
