// Which kernel backend ops run on. `cpu` by default; tests switch to `ref` (the plain-loop oracle)
// to compare the same TypeScript op against both.
import { BACKENDS, type BackendName } from '../native.js';

let current: BackendName = 'cpu';

export function currentBackend(): BackendName {
  return current;
}
export function backendId(): number {
  return BACKENDS[current];
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
