// Creating tensors: from data, filled, ranges, identity, and random (through the Philox generator),
// on the host or a CUDA device (`device` option: data is staged on the host and copied over).
import { native } from '../native.js';
import { runInto } from '../ops/dispatch.js';
import { deviceIndex, type DeviceLike } from './device.js';
import { allocHost, checkDType, DTYPE_SIZE, hostDType, isFloatDType, type DType, type HostArray } from './dtype.js';
import { defaultGenerator, type Generator } from './random.js';
import { checkShape } from './shape.js';
import { numelOf, shapeStr, Tensor, type NestedArray } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  /** 'cpu' (default), 'cuda' or 'cuda:N' */
  device?: DeviceLike;
  requiresGrad?: boolean;
}
export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

/** An uninitialised (zero-filled) tensor. */
export function empty(shape: readonly number[], dtype: DType = 'float32', device: DeviceLike = 'cpu'): Tensor {
  const s = checkShape(shape, 'empty');
  checkDType(dtype, 'empty');
  return Tensor.fromStorage(new native.Storage(numelOf(s) * DTYPE_SIZE[dtype], true, deviceIndex(device, 'empty')), dtype, s);
}

/** @internal A copy of contiguous `t` in new memory on device `dev` (-1: the host), without autograd. */
export function copyToDevice(t: Tensor, dev: number): Tensor {
  const es = DTYPE_SIZE[t.dtype], bytes = t.size * es;
  const out = Tensor.fromStorage(new native.Storage(bytes, false, dev), t.dtype, t.shape);
  out.desc('to')[0].copyFrom(t.desc('to')[0], t.offset * es, 0, bytes);
  return out;
}

function finish(t: Tensor, opts: CreateOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** A tensor of `dtype` on `device` holding `host` (float32/int32/int8/uint8 host values, cast natively when needed). */
function fromHost(host: HostArray, hostType: DType, shape: number[], dtype: DType, device: DeviceLike = 'cpu'): Tensor {
  const dev = deviceIndex(device, 'tensor');
  const h = empty(shape, hostType);
  h.desc('tensor')[0].write(0, host);
  let out = h;
  if (hostType !== dtype) {
    out = empty(shape, dtype);
    runInto('copy', [h], [out]);
    h.dispose();
  }
  if (dev < 0) return out;
  const d = copyToDevice(out, dev);
  out.dispose();
  return d;
}

function inferShape(data: NestedArray, op: string): number[] {
  const shape: number[] = [];
  let v: NestedArray = data;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0] as NestedArray;
    if (v === undefined) break;
  }
  return checkShape(shape, op);
}

function flatten(data: NestedArray, shape: number[], out: number[], dim: number, op: string): void {
  if (dim === shape.length) {
    if (typeof data !== 'number' && typeof data !== 'boolean') throw new TypeError(`${op}: expected a number, got ${JSON.stringify(data)}`);
    out.push(Number(data));
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new TypeError(`${op}: ragged nested array: expected ${shape[dim]} items at depth ${dim} for shape ${shapeStr(shape)}`);
  }
  for (const x of data) flatten(x, shape, out, dim + 1, op);
}

function typedDType(a: ArrayBufferView): DType {
  if (a instanceof Float32Array || a instanceof Float64Array) return 'float32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  throw new TypeError(`tensor: unsupported typed array ${a.constructor.name}`);
}

/**
 * A tensor from nested arrays, a number, or a typed array (1-D unless `shape` is given).
 * The dtype defaults to float32 for numbers and to the typed array's own type.
 */
export function tensor(data: NestedArray | ArrayBufferView, opts: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const src = data as unknown as ArrayLike<number>;
    const shape = checkShape(opts.shape ?? [src.length], 'tensor');
    if (numelOf(shape) !== src.length) throw new RangeError(`tensor: ${src.length} values do not fill shape ${shapeStr(shape)}`);
    const dtype = checkDType(opts.dtype ?? typedDType(data), 'tensor');
    const hostType = data instanceof Float64Array ? 'float32' : typedDType(data);
    const host = data instanceof Float64Array ? Float32Array.from(data) : (data as unknown as HostArray);
    return finish(fromHost(host, hostType, shape, dtype, opts.device), opts);
  }
  const dtype = checkDType(opts.dtype ?? 'float32', 'tensor');
  const shape = opts.shape ? checkShape(opts.shape, 'tensor') : inferShape(data, 'tensor');
  const flat: number[] = [];
  if (opts.shape && Array.isArray(data)) flatten(data, inferShape(data, 'tensor'), flat, 0, 'tensor');
  else flatten(data, shape, flat, 0, 'tensor');
  if (flat.length !== numelOf(shape)) throw new RangeError(`tensor: ${flat.length} values do not fill shape ${shapeStr(shape)}`);
  const hostType = hostDType(dtype);
  const host = allocHost(hostType, flat.length);
  if (!isFloatDType(dtype)) {
    for (const v of flat) {
      if (!Number.isInteger(v)) throw new TypeError(`tensor: ${dtype} values must be integers, got ${v}`);
    }
  }
  host.set(flat);
  return finish(fromHost(host, hostType, shape, dtype, opts.device), opts);
}

export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  if (typeof value !== 'number') throw new TypeError(`full: value must be a number, got ${typeof value}`);
  const t = empty(shape, checkDType(opts.dtype ?? 'float32', 'full'), opts.device);
  if (value !== 0) runInto('fill', [], [t], [value]);
  return finish(t, opts);
}
export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}
export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}
/** Zeros of t's shape, dtype and device. */
export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, device: t.device, ...opts });
}
export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, device: t.device, ...opts });
}

/** Values start, start+step, ... below end (like torch.arange); int32 when all arguments are integers. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (![start, end, step].every(Number.isFinite) || step === 0) throw new RangeError(`arange: bad range (${start}, ${end}, ${step})`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const ints = [start, end, step].every(Number.isInteger);
  const dtype = opts.dtype ?? (ints ? 'int32' : 'float32');
  const host = allocHost(hostDType(dtype), n);
  for (let i = 0; i < n; i++) host[i] = start + i * step;
  return finish(fromHost(host, hostDType(dtype), [n], dtype, opts.device), opts);
}

export function eye(n: number, m: number = n, opts: CreateOptions = {}): Tensor {
  const shape = checkShape([n, m], 'eye');
  const dtype = opts.dtype ?? 'float32';
  const host = allocHost(hostDType(dtype), n * m);
  for (let i = 0; i < Math.min(n, m); i++) host[i * m + i] = 1;
  return finish(fromHost(host, hostDType(dtype), shape, dtype, opts.device), opts);
}

function randomFill(op: 'rand_uniform' | 'rand_normal', shape: readonly number[], a: number, b: number, opts: RandomOptions): Tensor {
  const dtype = checkDType(opts.dtype ?? 'float32', op);
  if (!isFloatDType(dtype)) throw new TypeError(`${op}: dtype must be a float type, got ${dtype}`);
  const t = empty(shape, dtype, opts.device);
  const [seed, offset] = (opts.generator ?? defaultGenerator).take(op === 'rand_normal' ? 2 * t.size : t.size);
  // the same Philox stream on every backend: same seed, same values on the host and the device
  runInto(op, [], [t], [seed, offset, a, b]);
  return finish(t, opts);
}

/** Uniform in [low, high). */
export function rand(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  return randomFill('rand_uniform', shape, opts.low ?? 0, opts.high ?? 1, opts);
}
/** Normal with the given mean and std. */
export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  return randomFill('rand_normal', shape, opts.mean ?? 0, opts.std ?? 1, opts);
}
/** Integers uniform in [low, high), int32. */
export function randint(low: number, high: number, shape: readonly number[], opts: { generator?: Generator; device?: DeviceLike } = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) throw new RangeError(`randint: need integers low < high, got ${low}, ${high}`);
  const u = rand(shape, { generator: opts.generator });
  const f = u.data() as Float32Array;
  u.dispose();
  const host = new Int32Array(f.length);
  for (let i = 0; i < f.length; i++) host[i] = Math.min(high - 1, low + Math.floor(f[i]! * (high - low)));
  return fromHost(host, 'int32', [...shape], 'int32', opts.device);
}

