// `tensorforge train` / `predict` end to end on a slice of the real corpus, and their errors.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/native.js';
import { OPTIONS } from '../lib/cli/options.js';

const cli = join(packageRoot, 'dist', 'lib', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'tf-cli-'));
const run = (args: string[], input?: string) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input, cwd: dir });
const SMALL = ['--limit', '400', '--epochs', '1', '--d-model', '32', '--n-head', '2', '--dim-feedforward', '64', '--layers', '1', '--max-len', '32', '--vocab-size', '500', '--progress', 'false'];

describe('tensorforge train', () => {
  const out = join(dir, 'run');
  it('trains, evaluates on the test split and writes the run folder', () => {
    const r = run(['train', ...SMALL, '--out', out]);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    for (const f of ['model.safetensors', 'tokenizer.json', 'config.json', 'manifest.json', 'metrics.jsonl', 'curves.svg', 'summary.json', 'best/model.safetensors', 'checkpoint/trainer.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(Object.keys(s.test)).toEqual(expect.arrayContaining(['accuracy', 'precision', 'recall', 'f1']));
    expect(s.test.accuracy).toBeGreaterThan(0);
    expect(s.train_seconds).toBeGreaterThan(0);
    expect(s.tokens_per_second).toBeGreaterThan(0);
    expect(s.device).toBe('cpu');
    expect(['fp32', 'bf16']).toContain(s.precision);
    expect(r.stdout).toMatch(/test accuracy\s+\d+\.\d+%/);
    expect(r.stdout).toMatch(/confusion/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.counts.train + manifest.counts.val + manifest.counts.test).toBe(s.examples.train + s.examples.val + s.examples.test);
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(/^<svg/);
  });
  it('same seed, same result: a second run writes the same tokenizer and weights, byte for byte', () => {
    const again = join(dir, 'run-again');
    const r = run(['train', ...SMALL, '--out', again]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(again, 'tokenizer.json'))).toEqual(readFileSync(join(out, 'tokenizer.json')));
    expect(readFileSync(join(again, 'model.safetensors'))).toEqual(readFileSync(join(out, 'model.safetensors')));
    const a = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')), b = JSON.parse(readFileSync(join(again, 'summary.json'), 'utf8'));
    expect(b.test).toEqual(a.test);
  });
  it('--pretrain-epochs runs masked-LM pretraining on the training texts first', () => {
    const pre = join(dir, 'run-pretrained');
    const r = run(['train', ...SMALL, '--pretrain-epochs', '2', '--out', pre]);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/pretraining: \d+ windows of up to 32 tokens, 2 epochs/);
    const lines = readFileSync(join(pre, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const losses = lines.filter((l) => l.type === 'pretrain').map((l) => l.loss as number);
    expect(losses).toHaveLength(2);
    // from about ln(vocabulary) down
    expect(losses[0]).toBeLessThan(Math.log(500) + 1);
    expect(losses[1]).toBeLessThan(losses[0]!);
    expect(readFileSync(join(pre, 'model.safetensors'))).not.toEqual(readFileSync(join(out, 'model.safetensors')));
  });
  it('TENSORFORGE_PROFILE=1 prints time per op kind and per layer, forward and backward', () => {
    const r = spawnSync(process.execPath, [cli, 'train', ...SMALL, '--out', join(dir, 'run-profiled')], { encoding: 'utf8', cwd: dir, env: { ...process.env, TENSORFORGE_PROFILE: '1' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/native time per step: \d+\.\d+ ms over \d+ step/);
    expect(r.stdout).toMatch(/^linear\s+\d+\.\d+/m);
    expect(r.stdout).toMatch(/^layers\.0 \(backward\)\s+\d+\.\d+/m);
    expect(r.stdout).toMatch(/^layers\.0\s+\d+\.\d+/m);
  });
  it('predict classifies texts from arguments and from stdin', () => {
    const a = run(['predict', '--run', out, 'Meeting notes for tomorrow', 'CLICK HERE to WIN $1000000 FREE!!!']);
    expect(a.status, a.stderr).toBe(0);
    const lines = a.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^(ham|spam)\t[01]\.\d{4}\t/);
    const b = run(['predict', '--run', out, '-'], 'first text\nsecond text\n');
    expect(b.stdout.trim().split('\n')).toHaveLength(2);
  });
  it('never overwrites a finished run, and rejects a tokenizer that does not match', () => {
    const before = readFileSync(join(out, 'model.safetensors'));
    const again = run(['train', ...SMALL, '--out', out]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already holds a finished run/);
    expect(readFileSync(join(out, 'model.safetensors'))).toEqual(before);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    cfg.tokenizer.fingerprint = 'deadbeef';
    writeFileSync(join(out, 'config.json'), JSON.stringify(cfg));
    const p = run(['predict', '--run', out, 'hello']);
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/tokenizer .* does not match the model/);
  });
  it('reports unknown options, wrong types and bad config files', () => {
    expect(run(['train', '--epochz', '2']).stderr).toMatch(/unknown option --epochz/);
    expect(run(['train', '--epochs', 'two']).stderr).toMatch(/epochs must be a number/);
    expect(run(['train', '--epochs', '1.5']).stderr).toMatch(/epochs must be an integer/);
    expect(run(['train', '--precision', 'fp8']).stderr).toMatch(/precision must be one of auto, fp32, bf16, fp16/);
    expect(run(['train', '--ema', '1']).stderr).toMatch(/ema must be below 1, got 1/);
    expect(run(['train', '--dropout', '1.2']).stderr).toMatch(/dropout must be below 1, got 1.2/);
    expect(run(['train', '--device', 'tpu']).stderr).toMatch(/device must be one of auto, cpu, cuda/);
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ epochs: 1, learningRate: 3 }));
    expect(run(['train', '--config', cfg]).stderr).toMatch(/unknown option learningRate/);
    writeFileSync(cfg, JSON.stringify({ dModel: '128' }));
    expect(run(['train', '--config', cfg]).stderr).toMatch(/dModel must be a number/);
    writeFileSync(cfg, '{ not json');
    expect(run(['train', '--config', cfg]).stderr).toMatch(/cannot read config/);
  });
  it('--max-steps stops a run that --resume then finishes, to the same bytes as an uninterrupted run', () => {
    const args = [...SMALL, '--epochs', '2'];
    const whole = join(dir, 'run-whole'), parts = join(dir, 'run-parts');
    expect(run(['train', ...args, '--out', whole]).status).toBe(0);
    const first = run(['train', ...args, '--max-steps', '3', '--out', parts]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/stopped after step 3 of \d+; continue with: tensorforge train --resume/);
    expect(existsSync(join(parts, 'summary.json'))).toBe(false);
    // a fresh run cannot take the unfinished folder; a resume may stop again and go on
    expect(run(['train', ...args, '--out', parts]).stderr).toMatch(/holds an unfinished run; continue it with --resume/);
    expect(run(['train', '--resume', parts, '--max-steps', '5']).stdout).toMatch(/resumed at step 3 .*\n(.|\n)*stopped after step 5/);
    expect(run(['train', '--resume', parts, '--epochs', '3']).stderr).toMatch(/with --resume only --max-steps, --threads and --progress apply/);
    const last = run(['train', '--resume', parts]);
    expect(last.status, last.stderr).toBe(0);
    expect(last.stdout).toMatch(/resumed at step 5/);
    expect(readFileSync(join(parts, 'model.safetensors'))).toEqual(readFileSync(join(whole, 'model.safetensors')));
    const a = JSON.parse(readFileSync(join(whole, 'summary.json'), 'utf8')), b = JSON.parse(readFileSync(join(parts, 'summary.json'), 'utf8'));
    expect(b.test).toEqual(a.test);
    expect(run(['train', '--resume', parts]).stderr).toMatch(/already holds a finished run/);
    expect(run(['train', '--resume', join(dir, 'nothing')]).stderr).toMatch(/is not a run folder/);
  });
  it('--help lists every option', () => {
    const h = run(['train', '--help']);
    expect(h.status).toBe(0);
    for (const k of Object.keys(OPTIONS)) expect(h.stdout).toContain(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  });
});
