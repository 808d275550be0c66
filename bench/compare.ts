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
const key = (r: Row) => [r.w, r.kind ?? '', r.n ?? (r.shape ? JSON.stringify(r.shape) : ''), r.dtype ?? '', r.batch ?? ''].filter((x) => x !== '').join(' ');
// higher is better: GFLOP/s, GOP/s, GB/s, tokens/s, or runs per second from ms
const figure = (r: Row) => {
  const v = [r.gflops, r.gops, r.gbps, r.tokens_per_s].find((x) => typeof x === 'number') as number | undefined;
  return v ?? (typeof r.ms === 'number' ? 1000 / r.ms : NaN);
};

export function compare(workloads: string[], threads: number): number {
  // `ort` is a peers-only workload (onnxruntime on W4), compared with our `inference` rows
  const own = workloads.filter((w) => w !== 'ort');
  const ours = spawnSync(process.execPath, [join(packageRoot, 'dist', 'lib', 'cli.js'), 'bench', ...own, '--threads', String(threads)], { encoding: 'utf8' });
  if (ours.status !== 0) {
    console.error(ours.stderr);
    return 1;
  }
  const python = process.env.TENSORFORGE_PEERS_PYTHON ?? join(packageRoot, '.peers', 'bin', 'python');
  const script = resolve(packageRoot, '..', 'shared', 'peers', 'torch_bench.py');
  const peers = existsSync(python) && existsSync(script) ? spawnSync(python, [script, String(threads), ...workloads], { encoding: 'utf8' }) : null;
  const peerRows = peers?.status === 0 ? lines(peers.stdout) : [];
  // onnxruntime's rows (w: infer_ort, from the `ort` workload) stand beside our `infer` rows
  const torch = new Map(peerRows.filter((r) => r.w !== 'infer_ort').map((r) => [key(r), r]));
  const ort = new Map(peerRows.filter((r) => r.w === 'infer_ort').map((r) => [key({ ...r, w: 'infer' }), r]));
  for (const r of lines(ours.stdout)) console.log(JSON.stringify({ ...r, peer: 'tensorforge' }));
  for (const r of torch.values()) console.log(JSON.stringify({ ...r, peer: 'pytorch' }));
  for (const r of ort.values()) console.log(JSON.stringify({ ...r, peer: 'onnxruntime' }));
  const cell = (a: number, b: number) => (Number.isFinite(b) ? `${b.toFixed(1)} | ${(a / b).toFixed(2)}` : 'n/a | n/a');
  console.log(`\n| workload | tensorforge | PyTorch | ratio | onnxruntime | ratio |\n| --- | ---: | ---: | ---: | ---: | ---: |`);
  for (const r of lines(ours.stdout)) {
    const a = figure(r), p = torch.get(key(r)), o = ort.get(key(r));
    console.log(`| ${key(r)} | ${a.toFixed(1)} | ${cell(a, p ? figure(p) : NaN)} | ${cell(a, o ? figure(o) : NaN)} |`);
  }
  if (!peers) console.log('\n(PyTorch not found: see ../shared/peers/README.md)');
  return 0;
}

const args = process.argv.slice(2);
const t = args.indexOf('--threads');
const threads = t >= 0 ? Number(args[t + 1]) : 2;
process.exitCode = compare(t >= 0 ? args.filter((_, i) => i !== t && i !== t + 1) : args, threads);
