// Seeded permutations from tensorforge's Philox generator, so data order is reproducible and part
// of the saved random state.
import { rand } from '../tensor/create.js';
import { Generator } from '../tensor/random.js';

/** A permutation of 0..n-1 drawn from `generator` (Fisher-Yates on Philox uniforms). */
export function permutation(n: number, generator: Generator): number[] {
  const perm = Array.from({ length: n }, (_, i) => i);
  if (n < 2) return perm;
  const u = rand([n], { generator });
  const v = u.data();
  u.dispose();
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(v[i]! * (i + 1)));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return perm;
}

export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  return permutation(xs.length, new Generator(seed)).map((i) => xs[i]!);
}
