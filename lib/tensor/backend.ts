// Which kernel backend ops run on: host tensors on `cpu` by default (tests switch to `ref`, the
// plain-loop oracle, to compare the same TypeScript op against both); device tensors on `cuda`.
import { BACKENDS, type BackendName } from '../native.js';
import { deviceName } from './device.js';

let current: BackendName = 'cpu';

export function currentBackend(): BackendName {
  return current;
}
export function backendId(): number {
  return BACKENDS[current];
}

/** The backend for an op whose tensors live on `device` (-1: host). */
export function backendFor(device: number, op: string): number {
  if (device < 0) return BACKENDS[current];
  if (current !== 'cpu') throw new Error(`${op}: tensors on ${deviceName(device)} cannot run on the ${current} backend (withBackend)`);
  return BACKENDS.cuda;
}

/** Runs fn with every op on the given backend, then restores the previous one. */
export function withBackend<T>(backend: BackendName, fn: () => T): T {
  if (!(backend in BACKENDS)) throw new Error(`withBackend: unknown backend ${JSON.stringify(backend)}`);
  const prev = current;
  current = backend;
  try {
    return fn();
  } finally {
    current = prev;
  }
}
