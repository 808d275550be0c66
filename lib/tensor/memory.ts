// Ownership of native memory: a reference-counted buffer shared by a tensor and its views, and
// scopes that dispose every tensor made inside them except what they return or keep.
import type { NativeStorage } from '../native.js';

export class SharedBuffer {
  private refs = 1;
  /** -1: host memory; N: CUDA device N */
  readonly device: number;
  constructor(readonly storage: NativeStorage) {
    this.device = storage.device;
  }
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) this.storage.dispose();
  }
}

/** Anything that can be disposed and tracked by a scope. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Set<Disposable>[] = [];

/** Registers a new tensor with the innermost scope, if any. */
export function track(t: Disposable): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Takes a tensor out of every scope: it lives until disposed (or garbage collected). */
export function keep<T extends Disposable>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function collect(value: unknown, out: Set<Disposable>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ('dispose' in value && 'isDisposed' in value) {
    out.add(value as Disposable);
    return;
  }
  const items = value instanceof Map ? [...value.values()] : Array.isArray(value) ? value : Object.values(value);
  for (const v of items) collect(v, out, seen);
}

/**
 * Runs fn in a scope: every tensor created inside is disposed when fn returns, except those in its
 * result (a tensor, or arrays/objects/maps holding tensors) and those passed to keep().
 * Returned tensors move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) throw new Error('tidy: fn must be synchronous (it returned a Promise)');
  const survivors = new Set<Disposable>();
  collect(result, survivors, new Set());
  for (const t of scope) {
    if (survivors.has(t)) track(t);
    else t.dispose();
  }
  return result;
}
