// Run-time settings of the native side: threads and the SIMD level kernels use.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ISA_LEVELS, loaded, native, packageRoot, type IsaLevel } from './native.js';
import type { Device } from './tensor/device.js';

/** Sets the number of OpenMP threads kernels use; returns the number now in effect. */
export function setThreads(n: number): number {
  return native.setThreads(n);
}
export function getThreads(): number {
  return native.info().threads;
}

/** Limits kernels to an ISA level (clamped to what the CPU has); returns the level in effect. */
export function setIsa(level: IsaLevel): IsaLevel {
  if (!(ISA_LEVELS as readonly string[]).includes(level)) throw new RangeError(`setIsa: unknown level ${level} (${ISA_LEVELS.join(', ')})`);
  isaInEffect = native.setIsa(level) as IsaLevel;
  return isaInEffect;
}
let isaInEffect: IsaLevel | null = null;

/**
 * Whether bfloat16 products are native on `device`: a GPU, or a CPU whose kernels use AVX512_BF16
 * (elsewhere bfloat16 operands are widened to float32 first, which costs more than it saves).
 */
export function nativeBf16(device: Device): boolean {
  if (device !== 'cpu') return true;
  isaInEffect ??= native.info().isa as IsaLevel;
  return isaInEffect === 'avx512_bf16';
}
/** The ISA levels this CPU can run, lowest first. */
export function availableIsas(): IsaLevel[] {
  const best = ISA_LEVELS.indexOf(native.info().isaDetected as IsaLevel);
  return ISA_LEVELS.slice(0, best + 1);
}

export const version: string = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

export interface RuntimeInfo {
  version: string;
  addon: { variant: string; path: string; reason: string };
  cpu: { isaDetected: string; isa: string; vnni: boolean };
  threads: number;
  openmp: boolean;
  /** built: a CUDA variant exists; usable: it is loaded and a device answered (reason says why not) */
  cuda: { built: boolean; devices: number; usable: boolean; reason: string };
}

export function runtimeInfo(): RuntimeInfo {
  const i = native.info();
  return {
    version,
    addon: { variant: loaded.variant, path: loaded.path, reason: loaded.reason },
    cpu: { isaDetected: i.isaDetected, isa: i.isa, vnni: i.vnni },
    threads: i.threads,
    openmp: i.openmp,
    cuda: {
      built: loaded.cudaVariant !== null,
      devices: i.cudaDevices,
      usable: i.cudaBuilt && i.cudaDevices > 0,
      reason: i.cudaBuilt ? i.cudaReason : loaded.cudaVariant ? loaded.reason : 'built without CUDA support',
    },
  };
}
