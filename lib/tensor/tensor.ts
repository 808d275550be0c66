// The Tensor: a strided view of a shared native buffer, with autograd metadata. Ops live in
// lib/ops and are attached as methods by lib/ops/methods.ts.
import { native, type NativeStorage, type ViewDesc } from '../native.js';
import { backendFor } from './backend.js';
import { deviceName, type Device } from './device.js';
import { DTYPE_ID, DTYPE_SIZE, hostArray, hostDType, isFloatDType, type DType, type HostArray } from './dtype.js';
import { SharedBuffer, track } from './memory.js';

export const MAX_RANK = 6;

/** One recorded operation of the autograd graph: how to turn the output's gradient into inputs' gradients. */
export interface GradFn {
  readonly name: string;
  readonly inputs: readonly (Tensor | null)[];
  backward(grad: Tensor): (Tensor | null | undefined)[];
  /** the profile scope the op ran in (TENSORFORGE_PROFILE=1), so its backward counts there too */
  readonly scope?: string;
}

export type NestedArray = number | NestedArray[];

export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** x as a live Tensor, or an Error naming the op, the argument and what it got. */
export function checkTensor(x: unknown, op: string, name = 'input'): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: ${name} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  x.assertAlive(op);
  return x;
}

export class Tensor {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
  /** Accumulated gradient (leaf tensors with requiresGrad). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it was recorded for autograd. */
  gradFn: GradFn | null = null;
  private buffer: SharedBuffer;
  private _requiresGrad = false;
  private _disposed = false;
  private _desc: ViewDesc | null = null;

  /** @internal use the creation functions (tensor, zeros, ...) */
  constructor(buffer: SharedBuffer, dtype: DType, shape: readonly number[], strides?: readonly number[], offset = 0) {
    this.buffer = buffer;
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    track(this);
  }

  /** @internal wraps a freshly allocated native output. */
  static fromStorage(storage: NativeStorage, dtype: DType, shape: readonly number[]): Tensor {
    return new Tensor(new SharedBuffer(storage), dtype, shape);
  }

  /** @internal a new view of the same buffer (no autograd: see lib/ops/shape.ts). */
  viewOf(shape: readonly number[], strides: readonly number[], offset: number): Tensor {
    this.assertAlive('view');
    return new Tensor(this.buffer.retain(), this.dtype, shape, strides, offset);
  }

  /** 'cpu' or 'cuda:N' */
  get device(): Device {
    return deviceName(this.buffer.device);
  }
  /** @internal -1 for host memory, N for CUDA device N */
  get deviceIndex(): number {
    return this.buffer.device;
  }

  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    return numelOf(this.shape);
  }
  /** numel(), as in PyTorch. */
  numel(): number {
    return this.size;
  }
  get isDisposed(): boolean {
    return this._disposed;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(v: boolean) {
    if (v && !isFloatDType(this.dtype)) throw new Error(`requiresGrad: only float tensors can require gradients, got ${this.dtype}`);
    if (!v && this.gradFn) throw new Error('requiresGrad: cannot turn off gradients of a non-leaf tensor; use detach()');
    this._requiresGrad = v;
  }
  /** Sets requiresGrad and returns this, for chaining: tf.randn([3]).requiresGrad_() */
  requiresGrad_(v = true): this {
    this.requiresGrad = v;
    return this;
  }

  /** @internal marks a tensor produced by a recorded op */
  setGradFn(fn: GradFn): void {
    this.gradFn = fn;
    this._requiresGrad = true;
  }

  isContiguous(): boolean {
    let s = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== s) return false;
      s *= this.shape[i]!;
    }
    return true;
  }

  assertAlive(op: string): void {
    if (this._disposed) throw new Error(`${op}: tensor ${this.dtype}${shapeStr(this.shape)} was disposed`);
  }

  /** @internal the native view descriptor */
  desc(op: string): ViewDesc {
    this.assertAlive(op);
    this._desc ??= [this.buffer.storage, DTYPE_ID[this.dtype], this.offset, this.shape, this.strides];
    return this._desc;
  }

  /** Frees this tensor's hold on its buffer (freed when its last view goes). Idempotent. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._desc = null;
    this.buffer.release();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** A flat, row-major host copy: Float32Array for float dtypes, else the matching typed array. */
  data(): HostArray {
    this.assertAlive('data');
    const host = hostDType(this.dtype);
    let src: Tensor = this;
    if (!this.isContiguous() || host !== this.dtype) {
      const [[storage]] = native.run('copy', backendFor(this.deviceIndex, 'data'), [this.desc('data')], null, [DTYPE_ID[host]]) as [[NativeStorage, number[], number]];
      src = new Tensor(new SharedBuffer(storage), host, this.shape);
    }
    const es = DTYPE_SIZE[host];
    const out = hostArray(host, src.buffer.storage.read(src.offset * es, this.size * es));
    if (src !== this) src.dispose();
    return out;
  }

  /** Nested arrays of numbers, like torch's tolist(). */
  toArray(): NestedArray {
    const flat = this.data();
    if (this.ndim === 0) return flat[0]!;
    const build = (dim: number, base: number): NestedArray[] => {
      const n = this.shape[dim]!;
      const inner = numelOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(dim === this.ndim - 1 ? flat[base + i]! : build(dim + 1, base + i * inner));
      return out;
    };
    return build(0, 0);
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor ${shapeStr(this.shape)} has ${this.size} elements, not 1`);
    return this.data()[0]!;
  }

  toString(): string {
    if (this._disposed) return `Tensor(disposed, dtype=${this.dtype}, shape=${shapeStr(this.shape)})`;
    const flat = this.data();
    const fmt = (v: number) => (isFloatDType(this.dtype) ? (Number.isInteger(v) ? `${v}.` : v.toPrecision(5)) : String(v));
    const n = flat.length;
    const shown = n <= 12 ? [...flat].map(fmt) : [...[...flat.slice(0, 6)].map(fmt), '...', ...[...flat.slice(n - 6)].map(fmt)];
    const grad = this.gradFn ? `, grad_fn=${this.gradFn.name}` : this._requiresGrad ? ', requires_grad=true' : '';
    return `Tensor(shape=${shapeStr(this.shape)}, dtype=${this.dtype}, device=${this.device}${grad}, values=[${shown.join(', ')}])`;
  }
}
