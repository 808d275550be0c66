#!/usr/bin/env node
// The tensorforge command: train, predict, compress, export, info, parity, bench.
import { runBench } from '../bench/main.js';
import { runGoldenFile, type ParityResult } from './parity/golden.js';
import { runtimeInfo } from './runtime.js';
import { compressCommand, exportCommand } from './cli/compress.js';
import { predictCommand, trainCommand } from './cli/train.js';

const USAGE = `usage: tensorforge <command> [options]

commands:
  train [options]      train a classifier (default: spam detection on SpamAssassin); --help for options
  predict --run DIR [TEXT... | -]
                       classify texts with a trained run
  compress --run DIR --out DIR2 [--prune] [--quantize] [--distill]
                       int8, pruned and distilled variants of a run, measured; --help for options
  export --run DIR --format onnx|safetensors [--int8] --out FILE
                       a run's model as ONNX or safetensors
  info                 version, loaded addon variant, CPU features, threads, CUDA
  parity FILE...       run golden files (../shared/fixtures format) and compare with PyTorch
  bench [ceiling|bandwidth|gemm|attention|train_step|inference|all] [--threads N] [--min-time SECONDS]
                       benchmarks as JSON lines
  help                 this text
`;

function info(): number {
  const i = runtimeInfo();
  const lines = [
    ['version', i.version],
    ['addon', `${i.addon.variant} (${i.addon.path})`],
    ['addon choice', i.addon.reason],
    ['cpu isa', `${i.cpu.isa} in use (detected ${i.cpu.isaDetected}${i.cpu.vnni ? ', avx512_vnni' : ''}); TENSORFORGE_ISA=scalar|avx2|avx512|avx512_bf16 lowers it`],
    ['threads', `${i.threads} (OpenMP ${i.openmp ? 'on' : 'off'})`],
    ['cuda', i.cuda.usable ? `${i.cuda.devices} device(s)` : `${i.cuda.built ? 'variant built' : 'not built'}; not used: ${i.cuda.reason}`],
  ];
  for (const [k, v] of lines) console.log(`${k.padEnd(13)} ${v}`);
  return 0;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toExponential(2) : String(x);
}

function parity(files: string[]): number {
  if (files.length === 0) {
    console.error('parity: give one or more golden files');
    return 2;
  }
  let failed = 0;
  for (const f of files) {
    let r: ParityResult;
    try {
      r = runGoldenFile(f);
    } catch (e) {
      console.log(`FAIL ${f}: ${(e as Error).message}`);
      failed++;
      continue;
    }
    console.log(`${r.ok ? 'PASS' : 'FAIL'} ${f} (${r.module}, atol ${r.atol}, rtol ${r.rtol}, loss ${r.loss?.got} vs ${r.loss?.ref})`);
    for (const c of r.checks) {
      console.log(`  ${c.ok ? 'ok  ' : 'BAD '} ${c.name.padEnd(48)} max abs err ${fmt(c.maxAbs)}  worst ratio ${fmt(c.worstRatio)}${c.note ? `  (${c.note})` : ''}`);
    }
    if (!r.ok) failed++;
  }
  console.log(`${files.length - failed} of ${files.length} files within tolerance`);
  return failed ? 1 : 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'train':
      return trainCommand(rest);
    case 'predict':
      return predictCommand(rest);
    case 'compress':
      return compressCommand(rest);
    case 'export':
      return exportCommand(rest);
    case 'info':
      return info();
    case 'parity':
      return parity(rest);
    case 'bench':
      return runBench(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      console.error(`tensorforge: unknown command ${cmd}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: Error) => {
    console.error(`tensorforge: ${e.message}`);
    process.exitCode = 1;
  },
);
