// The native parity runner (native/tools/parity_runner.cpp): every op of ops.def on the CPU backend
// against the reference, in a process without Node. On a machine with a GPU the same runner covers
// the cuda backend (test/cuda.test.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot, opListFromSource } from '../lib/native.js';

const tools = join(packageRoot, 'build', 'tools');

describe('native parity runner', () => {
  it('passes every op on the cpu backend, and covers every op', () => {
    const exe = join(tools, 'tf_parity_cpu');
    expect(existsSync(exe), `${exe} (built with the addon; TENSORFORGE_TOOLS=ON)`).toBe(true);
    const r = spawnSync(exe, ['--backend', 'cpu'], { encoding: 'utf8', timeout: 120_000 });
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const failures = lines.filter((l) => l.pass === false);
    expect(failures, JSON.stringify(failures.slice(0, 5))).toEqual([]);
    const summary = lines.at(-1)!;
    expect(summary.summary).toBe(true);
    expect(summary.failed).toBe(0);
    const ops = new Set(lines.filter((l) => l.backend === 'cpu' && l.pass === true).map((l) => l.op));
    for (const op of opListFromSource()) expect(ops.has(op), op).toBe(true);
    expect(r.status).toBe(0);
  });
  it('can fail: outputs shifted by 1 + 5% of their largest magnitude (--perturb) fail every non-empty case', () => {
    const r = spawnSync(join(tools, 'tf_parity_cpu'), ['--backend', 'cpu', '--perturb'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { pass?: boolean; case?: string; summary?: boolean; passed?: number });
    const passed = lines.filter((l) => l.pass === true).map((l) => l.case);
    // only cases whose outputs are all empty can survive a shift
    for (const c of passed) expect(c).toMatch(/\b0,|,0\]|\[0\]/);
    expect(lines.at(-1)!.passed).toBe(passed.length);
  });
  it('reports a missing backend as an error', () => {
    const r = spawnSync(join(tools, 'tf_parity_cpu'), ['--backend', 'cuda'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/cuda backend unavailable/);
  });
  it('the kernel benchmark prints JSON lines with rates', () => {
    const r = spawnSync(join(tools, 'tf_bench_cpu'), ['--quick'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { bench: string; tflops?: number; gbps?: number });
    const names = new Set(rows.map((x) => x.bench));
    for (const b of ['matmul', 'linear', 'attention_fwd', 'attention_bwd', 'layer_norm', 'softmax', 'adamw', 'copy_ceiling'])
      expect(names.has(b), b).toBe(true);
    for (const x of rows) expect((x.tflops ?? x.gbps)!).toBeGreaterThan(0);
  });
});
