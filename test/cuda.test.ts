// CUDA: these run where a GPU and the CUDA variant are present, and are reported as skipped (with
// the reason in the test name) everywhere else. The kernels are checked by the native parity
// runner, which runs every op on the cuda backend against the CPU reference; test/gpu/device_checks
// checks what TypeScript builds on them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';
import { packageRoot } from '../lib/native.js';
import { deviceChecks } from './gpu/device_checks.mjs';

const info = tf.runtimeInfo();
const reason = !info.cuda.built ? 'built without CUDA support' : !tf.cuda.isAvailable() ? `no CUDA device: ${info.cuda.reason}` : '';
const gpu = reason ? it.skip : it;

describe(`CUDA backend${reason ? ` (skipped: ${reason})` : ''}`, () => {
  gpu('every op on the cuda backend matches the CPU reference (native parity runner)', () => {
    const r = spawnSync(join(packageRoot, 'build', 'tools', 'tf_parity_cuda'), ['--backend', 'cuda', '--quiet'], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/"failed":0/);
    expect(r.status).toBe(0);
  });
  // device tensors, modules, autograd, allocator and Trainer (over dist/, shared with bench/gpu)
  for (const [name, check] of deviceChecks) gpu(name, check);
});
