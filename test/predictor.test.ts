// Predictor: a run served from a worker thread. Same answers as in-process prediction, concurrent
// calls, the event loop free while it works, and the errors.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';
import { packageRoot } from '../lib/native.js';

const dir = mkdtempSync(join(tmpdir(), 'tf-predictor-'));
const run = join(dir, 'run');
const TEXTS = ['Meeting notes for tomorrow', 'CLICK HERE to WIN $1000000 FREE!!!', 'the build is broken again', 'cheap meds online now'];

describe('Predictor (worker thread)', () => {
  let predictor: tf.Predictor;
  beforeAll(async () => {
    const r = spawnSync(process.execPath, [join(packageRoot, 'dist', 'lib', 'cli.js'), 'train', '--limit', '200', '--epochs', '1', '--d-model', '32', '--n-head', '2',
      '--dim-feedforward', '64', '--layers', '1', '--max-len', '64', '--vocab-size', '300', '--progress', 'false', '--out', run], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    predictor = await tf.Predictor.open(run, { batchSize: 3, threads: 1 });
  }, 120_000);
  afterAll(async () => predictor?.close());

  it('answers as the in-process classifier does, for concurrent calls in any order', async () => {
    const local = await tf.TrainedClassifier.load(run).predict(TEXTS);
    const [a, b, c] = await Promise.all([predictor.predict(TEXTS), predictor.predict(TEXTS.slice(1)), predictor.predict([])]);
    expect(a).toEqual(local);
    expect(b).toEqual(local.slice(1));
    expect(c).toEqual([]);
    expect(predictor.labels).toEqual(['ham', 'spam']);
  });

  it('leaves the event loop free while the worker computes', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `${TEXTS[i % 4]} ${i}`);
    let ticks = 0, gap = 0, last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gap = Math.max(gap, now - last);
      last = now;
      ticks++;
    }, 1);
    const t0 = performance.now();
    await predictor.predict(many);
    const took = performance.now() - t0;
    clearInterval(timer);
    // the main thread kept running its timers: many ticks, and no stall as long as the work
    expect(ticks).toBeGreaterThan(10);
    expect(gap).toBeLessThan(Math.max(100, took / 2));
  });

  it('errors: a missing run, bad options, bad texts, and calls after close', async () => {
    await expect(tf.Predictor.open(join(dir, 'nope'))).rejects.toThrow(/is not a finished run/);
    expect(() => tf.Predictor.open(run, { threads: 0 })).toThrow(/threads must be a positive integer/);
    await expect(predictor.predict('text' as never)).rejects.toThrow(/texts must be an array of strings/);
    const p = await tf.Predictor.open(run);
    await p.close();
    await expect(p.predict(TEXTS)).rejects.toThrow(/the predictor was closed/);
  });
});
