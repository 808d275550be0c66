// Runs tensorforge's benchmark and PyTorch's (../shared/peers/torch_bench.py) one after the other on
// this machine and prints the ratio table; `--rounds N` repeats the pair and compares medians.
// PyTorch comes from .peers/bin/python (see ../shared/peers/README.md) or $TENSORFORGE_PEERS_PYTHON.
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

/** The median of each key's figure over rounds (the machine's speed drifts between and within runs). */
function medians(rounds: Row[][]): Map<string, number> {
  const all = new Map<string, number[]>();
  for (const rows of rounds) for (const r of rows) all.set(key(r), [...(all.get(key(r)) ?? []), figure(r)]);
  return new Map([...all].map(([k, v]) => [k, v.sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]!]));
}

export function compare(workloads: string[], threads: number, rounds: number): number {
  // `ort` is a peers-only workload (onnxruntime on W4), compared with our `inference` rows
  const own = workloads.filter((w) => w !== 'ort');
  const python = process.env.TENSORFORGE_PEERS_PYTHON ?? join(packageRoot, '.peers', 'bin', 'python');
  const script = resolve(packageRoot, '..', 'shared', 'peers', 'torch_bench.py');
  const havePeers = existsSync(python) && existsSync(script);
  const oursRounds: Row[][] = [], torchRounds: Row[][] = [], ortRounds: Row[][] = [];
  // ours, then the peers, in turn: each round's pair shares the machine's state of the moment
  for (let i = 0; i < rounds; i++) {
    const ours = spawnSync(process.execPath, [join(packageRoot, 'dist', 'lib', 'cli.js'), 'bench', ...own, '--threads', String(threads)], { encoding: 'utf8' });
    if (ours.status !== 0) {
      console.error(ours.stderr);
      return 1;
    }
    const peers = havePeers ? spawnSync(python, [script, String(threads), ...workloads], { encoding: 'utf8' }) : null;
    const peerRows = peers?.status === 0 ? lines(peers.stdout) : [];
    oursRounds.push(lines(ours.stdout));
    // onnxruntime's rows (w: infer_ort, from the `ort` workload) stand beside our `infer` rows
    torchRounds.push(peerRows.filter((r) => r.w !== 'infer_ort'));
    ortRounds.push(peerRows.filter((r) => r.w === 'infer_ort').map((r) => ({ ...r, w: 'infer' })));
    for (const r of oursRounds[i]!) console.log(JSON.stringify({ ...r, peer: 'tensorforge', round: i + 1 }));
    for (const r of torchRounds[i]!) console.log(JSON.stringify({ ...r, peer: 'pytorch', round: i + 1 }));
    for (const r of ortRounds[i]!) console.log(JSON.stringify({ ...r, w: 'infer_ort', peer: 'onnxruntime', round: i + 1 }));
  }
  const [torch, ort] = [medians(torchRounds), medians(ortRounds)];
  const cell = (a: number, b: number | undefined) => (b !== undefined && Number.isFinite(b) ? `${b.toFixed(1)} | ${(a / b).toFixed(2)}` : 'n/a | n/a');
  console.log(`\n${rounds > 1 ? `medians of ${rounds} rounds\n` : ''}| workload | tensorforge | PyTorch | ratio | onnxruntime | ratio |\n| --- | ---: | ---: | ---: | ---: | ---: |`);
  for (const [k, a] of medians(oursRounds)) console.log(`| ${k} | ${a.toFixed(1)} | ${cell(a, torch.get(k))} | ${cell(a, ort.get(k))} |`);
  if (!havePeers) console.log('\n(PyTorch not found: see ../shared/peers/README.md)');
  return 0;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`bench:compare: ${name} needs a positive integer`);
  return v;
};
const threads = option('--threads', 2), rounds = option('--rounds', 1);
process.exitCode = compare(args, threads, rounds);
