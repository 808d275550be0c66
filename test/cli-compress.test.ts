// `tensorforge compress` and `export` end to end on a small run of the real corpus, and their errors.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/native.js';

const cli = join(packageRoot, 'dist', 'lib', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'tf-compress-'));
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir });
const SMALL = ['--limit', '300', '--epochs', '1', '--d-model', '32', '--n-head', '2', '--dim-feedforward', '64', '--layers', '2', '--max-len', '32', '--vocab-size', '400', '--progress', 'false'];
const FAST = ['--prune-epochs', '1', '--qat-epochs', '1', '--distill-epochs', '1', '--calibration', '16', '--latency-seconds', '0.02', '--quiet'];

describe('tensorforge compress / export', () => {
  const runDir = join(dir, 'run'), out = join(dir, 'compressed');
  it('builds and measures every variant of a run', () => {
    expect(run(['train', ...SMALL, '--out', runDir]).status).toBe(0);
    const r = run(['compress', '--run', runDir, '--out', out, ...FAST]);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const names = s.variants.map((v: { name: string }) => v.name);
    expect(names).toEqual(['float32', 'int8-dynamic', 'int8-static', 'int8-qat', 'pruned-50', 'pruned-ffn-50', 'pruned-heads-50', 'distilled-1l', 'distilled-1l-int8']);
    for (const v of s.variants) {
      expect(Object.keys(v).sort()).toEqual(['bytes', 'latency_ms_batch1', 'latency_ms_batch32', 'name', 'parameters', 'test_accuracy', 'test_f1'].sort());
      expect(v.bytes).toBeGreaterThan(0);
      expect(v.test_accuracy).toBeGreaterThan(0);
      expect(v.latency_ms_batch1).toBeGreaterThan(0);
      expect(existsSync(join(out, v.name, 'model.safetensors'))).toBe(true);
    }
    const by = Object.fromEntries(s.variants.map((v: { name: string }) => [v.name, v]));
    expect(by['int8-dynamic'].bytes).toBeLessThan(0.35 * by.float32.bytes);
    expect(by['pruned-50'].parameters).toBeLessThan(0.8 * by.float32.parameters);
    expect(by['distilled-1l'].parameters).toBeLessThan(by.float32.parameters);
    expect(by['pruned-ffn-50'].bytes).toBeLessThan(by.float32.bytes);
    expect(r.stdout).toMatch(/^variant\s+bytes\s+params\s+accuracy/m);
    expect(r.stdout).toMatch(/^distilled-1l-int8\s+\d+/m);
  });

  it('refuses to overwrite results, unknown options, and a missing run', () => {
    expect(run(['compress', '--run', runDir, '--out', out, ...FAST]).stderr).toMatch(/already holds results/);
    expect(run(['compress', '--run', runDir, '--out', join(dir, 'x'), '--shrink']).stderr).toMatch(/unknown option --shrink/);
    expect(run(['compress', '--out', join(dir, 'y')]).stderr).toMatch(/--run DIR and --out DIR2 are required/);
    expect(run(['compress', '--run', join(dir, 'nope'), '--out', join(dir, 'z')]).stderr).toMatch(/is not a finished run/);
    expect(run(['compress', '--run', runDir, '--out', join(dir, 'w'), '--sparsity', '1']).stderr).toMatch(/--sparsity must be below 1/);
  });

  it('export writes ONNX (float32 and int8) that onnxruntime loads, and safetensors', async () => {
    for (const extra of [[], ['--int8']]) {
      const file = join(dir, `model${extra.length ? '.int8' : ''}.onnx`);
      const r = run(['export', '--run', runDir, '--format', 'onnx', ...extra, '--out', file]);
      expect(r.status, r.stderr).toBe(0);
      const session = await ort.InferenceSession.create(readFileSync(file));
      expect(session.inputNames).toEqual(['tokens', 'key_padding_mask']);
      expect(session.outputNames).toEqual(['logits']);
    }
    expect(run(['export', '--run', runDir, '--format', 'safetensors', '--int8', '--out', join(dir, 'm.safetensors')]).status).toBe(0);
    expect(run(['export', '--run', runDir, '--format', 'tflite', '--out', join(dir, 'm.tflite')]).stderr).toMatch(/--format onnx\|safetensors are required/);
  });
});
