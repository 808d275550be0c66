// Batches of token ids: seeded shuffling per epoch, length bucketing (examples of similar length
// share a batch, so little padding), dynamic padding to the longest in the batch, and a key padding
// mask (uint8, 1 = padding).
import type { DeviceLike } from '../tensor/device.js';
import { tensor } from '../tensor/create.js';
import { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { permutation } from './shuffle.js';

export interface Batch {
  tokens: Tensor;
  keyPaddingMask: Tensor;
  labels: Tensor;
  /** examples in the batch */
  size: number;
  /** non-padding tokens in the batch */
  tokenCount: number;
  /** positions of the examples in the dataset */
  indices: number[];
}

export interface LoaderOptions {
  batchSize: number;
  shuffle?: boolean;
  seed?: number;
  /** group examples of similar length (within windows of 50 batches) */
  bucket?: boolean;
  padId?: number;
}

/** Token ids as windows of at most `len`, each opening with the first id ([CLS]); short ones as they are. */
export function windowIds(ids: readonly number[], len: number): readonly number[][] {
  if (ids.length <= len) return [ids as number[]];
  const rows: number[][] = [];
  for (let i = 1; i < ids.length; i += len - 1) rows.push([ids[0]!, ...ids.slice(i, i + len - 1)]);
  return rows;
}

export class DataLoader {
  readonly batchSize: number;
  constructor(readonly ids: readonly number[][], readonly labels: readonly number[], readonly opts: LoaderOptions) {
    if (ids.length !== labels.length) throw new RangeError(`DataLoader: ${ids.length} token lists but ${labels.length} labels`);
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError(`DataLoader: batchSize must be a positive integer, got ${opts.batchSize}`);
    if (ids.some((x) => x.length === 0)) throw new RangeError('DataLoader: an example has no tokens');
    this.batchSize = opts.batchSize;
  }

  get length(): number {
    return this.ids.length;
  }
  batchesPerEpoch(): number {
    return Math.ceil(this.ids.length / this.batchSize);
  }

  /** The example order of an epoch, as index lists per batch: a pure function of (seed, epoch). */
  plan(epoch: number): number[][] {
    const n = this.ids.length, B = this.batchSize;
    const g = new Generator((this.opts.seed ?? 0) * 1000003 + epoch);
    let order = this.opts.shuffle ? permutation(n, g) : Array.from({ length: n }, (_, i) => i);
    if (this.opts.bucket) {
      const window = 50 * B;
      const sorted: number[] = [];
      for (let i = 0; i < n; i += window) sorted.push(...order.slice(i, i + window).sort((a, b) => this.ids[a]!.length - this.ids[b]!.length || a - b));
      order = sorted;
    }
    const batches: number[][] = [];
    for (let i = 0; i < n; i += B) batches.push(order.slice(i, i + B));
    if (this.opts.bucket && this.opts.shuffle) return permutation(batches.length, g).map((i) => batches[i]!);
    return batches;
  }

  /** Tensors for a list of example indices, on `device` (default: the host). */
  collate(indices: readonly number[], device: DeviceLike = 'cpu'): Batch {
    const S = Math.max(...indices.map((i) => this.ids[i]!.length));
    const B = indices.length, pad = this.opts.padId ?? 0;
    const tok = new Int32Array(B * S).fill(pad);
    const mask = new Uint8Array(B * S).fill(1);
    let count = 0;
    indices.forEach((ex, b) => {
      const row = this.ids[ex]!;
      tok.set(row, b * S);
      mask.fill(0, b * S, b * S + row.length);
      count += row.length;
    });
    return {
      tokens: tensor(tok, { shape: [B, S], device }),
      keyPaddingMask: tensor(mask, { shape: [B, S], device }),
      labels: tensor(Int32Array.from(indices.map((i) => this.labels[i]!)), { device }),
      size: B,
      tokenCount: count,
      indices: [...indices],
    };
  }
}
