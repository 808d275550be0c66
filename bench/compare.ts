// Runs tensorforge's benchmark and PyTorch's (../shared/peers/torch_bench.py) one after the other on
// this machine and prints the ratio table. PyTorch comes from .peers/bin/python (see
// ../shared/peers/README.md) or $TENSORFORGE_PEERS_PYTHON.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../lib/native.js';

type Row = Record<string, unknown> & { w: string };

function lines(out: string): Row[] {
  return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Row);
}
const key = (r: Row) => [r.w, JSON.stringify(r.n ?? r.shape ?? ''), r.dtype ?? '', r.batch ?? ''].join(' ').trim();
// higher is better: GFLOP/s, tokens/s, or runs per second from ms
const figure = (r: Row) => (typeof r.gflops === 'number' ? r.gflops : typeof r.tokens_per_s === 'number' ? r.tokens_per_s : typeof r.ms === 'number' ? 1000 / r.ms : NaN);

export function compare(workloads: string[], threads: number): number {
  const ours = spawnSync(process.execPath, [join(packageRoot, 'dist', 'lib', 'cli.js'), 'bench', ...workloads, '--threads', String(threads)], { encoding: 'utf8' });
  if (ours.status !== 0) {
    console.error(ours.stderr);
    return 1;
  }
  const python = process.env.TENSORFORGE_PEERS_PYTHON ?? join(packageRoot, '.peers', 'bin', 'python');
  const script = resolve(packageRoot, '..', 'shared', 'peers', 'torch_bench.py');
  const peers = existsSync(python) && existsSync(script) ? spawnSync(python, [script, String(threads), ...workloads], { encoding: 'utf8' }) : null;
  const theirs = new Map((peers?.status === 0 ? lines(peers.stdout) : []).map((r) => [key(r), r]));
  for (const r of lines(ours.stdout)) console.log(JSON.stringify({ ...r, peer: 'tensorforge' }));
  for (const r of theirs.values()) console.log(JSON.stringify({ ...r, peer: 'pytorch' }));
  console.log(`\n| workload | tensorforge | PyTorch | ratio |\n| --- | ---: | ---: | ---: |`);
  for (const r of lines(ours.stdout)) {
    const p = theirs.get(key(r));
    const a = figure(r), b = p ? figure(p) : NaN;
    console.log(`| ${key(r)} | ${a.toFixed(1)} | ${Number.isFinite(b) ? b.toFixed(1) : 'n/a'} | ${Number.isFinite(b) ? (a / b).toFixed(2) : 'n/a'} |`);
  }
  if (!peers) console.log('\n(PyTorch not found: see ../shared/peers/README.md)');
  return 0;
}

const args = process.argv.slice(2);
const t = args.indexOf('--threads');
const threads = t >= 0 ? Number(args[t + 1]) : 2;
process.exitCode = compare(t >= 0 ? args.filter((_, i) => i !== t && i !== t + 1) : args, threads);
