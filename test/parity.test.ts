// `tensorforge parity` over every golden file from PyTorch: outputs, gradients and the AdamW step
// within each file's tolerance; and a broken file fails the command.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';
import { packageRoot } from '../lib/native.js';
import { GOLDEN_DIR } from './helpers/fixtures.js';

const cli = join(packageRoot, 'dist', 'lib', 'cli.js');
const inDir = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.safetensors')).map((f) => join(dir, f));
// the shared fixtures, and more of the same format made by test/fixtures/make_golden.py (other
// sizes, odd lengths, masks, a third layer, other AdamW hyper-parameters)
const files = [...inDir(GOLDEN_DIR), ...inDir(join(packageRoot, 'test', 'fixtures', 'golden'))];

describe('golden files', () => {
  it('covers the shared files and the generated ones', () => {
    expect(files.length).toBeGreaterThanOrEqual(11);
  });
  it.each(files)('%s is within tolerance', (f) => {
    const r = tf.runGoldenFile(f);
    const bad = r.checks.filter((c) => !c.ok).map((c) => `${c.name} ratio ${c.worstRatio}`);
    expect(bad).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.checks.length).toBeGreaterThan(3);
  });
  it('npx tensorforge parity passes on all of them and prints the errors', () => {
    const r = spawnSync(process.execPath, [cli, 'parity', ...files], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`${files.length} of ${files.length} files within tolerance`);
    expect(r.stdout).toMatch(/max abs err \d\.\d+e-\d+\s+worst ratio/);
  });
  it('fails (non-zero) on a file it cannot run or that is out of tolerance', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-parity-'));
    // same data, but claim a tolerance of zero: must fail
    const strict = join(dir, 'strict.safetensors');
    const { tensors, metadata } = tf.loadSafetensors(files.find((f) => f.includes('attention'))!);
    tf.saveSafetensors(strict, tensors, { ...metadata, atol: '0', rtol: '0' });
    const missing = join(dir, 'missing.safetensors');
    const r = spawnSync(process.execPath, [cli, 'parity', strict, missing], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAIL');
    expect(r.stdout).toContain('0 of 2 files within tolerance');
    const unknown = join(dir, 'unknown.safetensors');
    copyFileSync(strict, unknown);
    tf.saveSafetensors(unknown, tensors, { ...metadata, module: 'mystery' });
    const u = spawnSync(process.execPath, [cli, 'parity', unknown], { encoding: 'utf8' });
    expect(u.status).toBe(1);
    expect(u.stdout).toMatch(/unknown module "mystery"/);
  });
});
