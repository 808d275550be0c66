// A trained run as a service that does not block the event loop: the model lives on a worker
// thread, `await predictor.predict(texts)` sends the texts there, and concurrent calls are queued.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../native.js';
import type { Prediction } from './run.js';

export interface PredictorOptions {
  /** texts per forward pass (default 32) */
  batchSize?: number;
  /** OpenMP threads of the worker (default 2) */
  threads?: number;
}

type Reply = { id: number; predictions?: Prediction[]; error?: string };

export class Predictor {
  private next = 0;
  private closed: Error | null = null;
  private readonly pending = new Map<number, { resolve: (p: Prediction[]) => void; reject: (e: Error) => void }>();
  private constructor(private readonly worker: Worker, readonly labels: string[]) {
    worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`predict: ${m.error}`));
      else p.resolve(m.predictions!);
    });
    worker.on('error', (e) => this.failAll(e));
    worker.on('exit', () => this.failAll(new Error('predict: the predictor was closed')));
  }

  /** Loads the run folder on a new worker thread; rejects with the loader's error (bad run, corrupt files). */
  static open(run: string, opts: PredictorOptions = {}): Promise<Predictor> {
    const batchSize = opts.batchSize ?? 32, threads = opts.threads ?? 2;
    for (const [k, v] of [['batchSize', batchSize], ['threads', threads]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`Predictor: ${k} must be a positive integer, got ${v}`);
    }
    // the compiled worker (also when this module runs from source, as under vitest)
    const script = join(packageRoot, 'dist', 'lib', 'train', 'predict_worker.js');
    if (!existsSync(script)) throw new Error(`Predictor: ${script} is missing (run npm run build:ts)`);
    const worker = new Worker(script, { workerData: { run, batchSize, threads } });
    return new Promise((resolve, reject) => {
      worker.once('message', (m: { ready: boolean; labels?: string[]; error?: string }) => {
        if (m.ready) resolve(new Predictor(worker, m.labels!));
        else {
          void worker.terminate();
          reject(new Error(m.error));
        }
      });
      worker.once('error', reject);
    });
  }

  /** Label and class probabilities for each text, in order. */
  predict(texts: readonly string[]): Promise<Prediction[]> {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) return Promise.reject(new TypeError('predict: texts must be an array of strings'));
    if (this.closed) return Promise.reject(this.closed);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, texts: [...texts] });
    });
  }

  /** Stops the worker; calls still pending reject. */
  async close(): Promise<void> {
    this.closed ??= new Error('predict: the predictor was closed');
    await this.worker.terminate();
  }

  private failAll(e: Error): void {
    this.closed ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
