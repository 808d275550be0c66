// The tensorforge command: info and bench output; unknown commands fail.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/native.js';

const cli = join(packageRoot, 'dist', 'lib', 'cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env } });

describe('tensorforge CLI', () => {
  it('info prints version, addon variant, CPU features, threads and CUDA status', () => {
    const r = run('info');
    expect(r.status).toBe(0);
    for (const k of ['version', 'addon', 'cpu isa', 'threads', 'cuda']) expect(r.stdout).toMatch(new RegExp(`^${k}\\s`, 'm'));
    expect(r.stdout).toMatch(/addon\s+cpu \(/);
  });
  it('TENSORFORGE_ISA lowers the ISA; a bad value is refused', () => {
    const r = spawnSync(process.execPath, [cli, 'info'], { encoding: 'utf8', env: { ...process.env, TENSORFORGE_ISA: 'scalar' } });
    expect(r.stdout).toMatch(/cpu isa\s+scalar in use/);
    const bad = spawnSync(process.execPath, [cli, 'info'], { encoding: 'utf8', env: { ...process.env, TENSORFORGE_ISA: 'mmx' } });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/TENSORFORGE_ISA must be one of/);
  });
  it('bench gemm prints one JSON line per size and dtype with GFLOP/s', () => {
    const r = run('bench', 'gemm', '--min-time', '0.01', '--threads', '1');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(10);
    for (const l of lines) {
      expect(['gemm_f32', 'gemm_bf16']).toContain(l.w);
      expect(l.gflops as number).toBeGreaterThan(0);
      expect(l.threads).toBe(1);
    }
    expect(lines.filter((l) => l.n === 2048)).toHaveLength(2);
    expect(lines.filter((l) => l.shape === '2048x256x1024')).toHaveLength(2);
  });
  it('unknown commands and workloads fail with usage', () => {
    expect(run('frobnicate').status).toBe(2);
    expect(run('bench', 'nope').stderr).toMatch(/unknown workload nope/);
  });
});
