// npm run bench -- [ceiling|bandwidth|gemm|attention|train_step|inference|all] [--threads N] [--min-time SECONDS]: one JSON line per figure (see ../shared/peers/README.md).
import { setThreads } from '../lib/index.js';
import { benchBandwidth, benchCeiling } from './ceiling.js';
import { benchGemm } from './gemm.js';
import { benchAttention, benchInference, benchTrainStep } from './workloads.js';

const WORKLOADS: Record<string, (threads: number, minTime: number) => void> = {
  ceiling: benchCeiling,
  bandwidth: benchBandwidth,
  gemm: benchGemm,
  attention: benchAttention,
  train_step: benchTrainStep,
  inference: benchInference,
};

export function runBench(args: string[]): number {
  let threads = 2, minTime = 2.0;  // torch_bench.py's min_time: both sides time the same way
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--threads') {
      threads = Number(args[++i]);
      if (!Number.isInteger(threads) || threads < 1) {
        console.error(`bench: --threads needs a positive integer, got ${args[i]}`);
        return 2;
      }
    } else if (a === '--min-time') {
      minTime = Number(args[++i]);
      if (!(minTime > 0)) {
        console.error(`bench: --min-time needs seconds > 0, got ${args[i]}`);
        return 2;
      }
    } else names.push(a);
  }
  const chosen = names.length === 0 || names.includes('all') ? Object.keys(WORKLOADS) : names;
  for (const n of chosen) {
    if (!WORKLOADS[n]) {
      console.error(`bench: unknown workload ${n} (have: ${Object.keys(WORKLOADS).join(', ')}, all)`);
      return 2;
    }
  }
  setThreads(threads);
  for (const n of chosen) WORKLOADS[n]!(threads, minTime);
  return 0;
}


