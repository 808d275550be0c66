// The typed interface of the whole native surface, and the loader that picks the addon variant.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A native buffer: 64-byte aligned host memory (device -1) or memory of CUDA device `device`. */
export interface NativeStorage {
  readonly byteLength: number;
  readonly device: number;
  readonly disposed: boolean;
  dispose(): void;
  /** copies to the host */
  read(byteOffset: number, byteLength: number): ArrayBuffer;
  /** copies from the host */
  write(byteOffset: number, data: ArrayBufferView | ArrayBuffer): void;
  /** copies from another storage, host or device */
  copyFrom(src: NativeStorage, srcByteOffset: number, dstByteOffset: number, byteLength: number): void;
}

export interface CudaMemoryStats {
  /** bytes in live tensors */
  allocated: number;
  /** bytes taken from the driver: allocated + cached */
  reserved: number;
  /** highest `allocated` since the start or the last reset */
  peak: number;
}

/** [storage, dtype id, element offset, shape, strides (elements)] */
export type ViewDesc = [NativeStorage, number, number, readonly number[], readonly number[]];

export interface NativeInfo {
  isaDetected: string;
  isa: string;
  vnni: boolean;
  threads: number;
  openmp: boolean;
  /** bytes of GEMM weight panels kept for reuse (packed once, used until the weight is written) */
  packCacheBytes: number;
  cudaBuilt: boolean;
  cudaDevices: number;
  /** why cudaDevices is 0 ('' when it is not) */
  cudaReason: string;
  /** name of device 0, when there is one */
  cudaDevice?: string;
}

export interface NativeAddon {
  /** zero (default true): fill with zeros (op outputs skip it: their kernel writes every byte); device: -1 (default) host, N: CUDA device N */
  Storage: new (byteLength: number, zero?: boolean, device?: number) => NativeStorage;
  /** Runs one op (by name, or by its index in opNames()). Returns [storage, shape, dtype id] per output when `outputs` is null. */
  run(op: string | number, backend: number, inputs: ViewDesc[], outputs: ViewDesc[] | null, attrs: number[]): [NativeStorage, number[], number][];
  opNames(): string[];
  supports(backend: number, op: string): boolean;
  info(): NativeInfo;
  setIsa(isa: string): string;
  setThreads(n: number): number;
  /** Bytes held by the host caching allocator; frees them all first when `empty` is true. */
  hostCache(empty?: boolean): number;
  /** The CUDA caching allocator: statistics, peak reset, cache release, stream synchronisation. */
  cudaMemory(what: 'stats'): CudaMemoryStats;
  cudaMemory(what: 'resetPeak' | 'emptyCache' | 'synchronize'): undefined;
  /** Sets (when given) whether float32 GEMMs may run as TF32 on CUDA tensor cores; returns the setting. */
  cudaTf32(allow?: boolean): boolean;
  /** This machine's peak rate on the current threads: G op/s (fma_f32, bf16_dot, int8_dot; 0 when the CPU lacks it) or GB/s (copy). */
  ceiling(kind: 'fma_f32' | 'bf16_dot' | 'int8_dot' | 'copy', seconds: number): number;
}

export const ISA_LEVELS = ['scalar', 'avx2', 'avx512', 'avx512_bf16'] as const;
export type IsaLevel = (typeof ISA_LEVELS)[number];

/** Kernel backends: `cpu` (OpenMP + SIMD), `ref` (plain loops, the test oracle), `cuda`. */
export const BACKENDS = { cpu: 0, ref: 1, cuda: 2 } as const;
export type BackendName = keyof typeof BACKENDS;

/** The package directory: the nearest parent holding package.json (lib/ from source, dist/lib/ built). */
export const packageRoot = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('tensorforge: cannot find the package directory');
    dir = up;
  }
  return dir;
})();

export interface LoadedAddon {
  addon: NativeAddon;
  variant: 'cpu' | 'cuda';
  path: string;
  reason: string;
  /** the CUDA variant's file, when one was built or ships as a prebuild */
  cudaVariant: string | null;
}

function candidates(variant: 'cpu' | 'cuda'): string[] {
  const file = `tensorforge_${variant}.node`;
  return [
    join(packageRoot, 'build', 'Release', file),
    join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, file),
  ];
}

function load(): LoadedAddon {
  const require = createRequire(import.meta.url);
  const forced = process.env.TENSORFORGE_DEVICE;
  if (forced && forced !== 'cpu' && forced !== 'cuda') {
    throw new Error(`TENSORFORGE_DEVICE must be cpu or cuda, got ${JSON.stringify(forced)}`);
  }
  const isa = process.env.TENSORFORGE_ISA;
  if (isa && !(ISA_LEVELS as readonly string[]).includes(isa)) {
    throw new Error(`TENSORFORGE_ISA must be one of ${ISA_LEVELS.join(', ')}, got ${JSON.stringify(isa)}`);
  }
  let reason = '';
  const cudaPath = candidates('cuda').find((p) => existsSync(p)) ?? null;
  if (forced !== 'cpu') {
    if (cudaPath) {
      try {
        const addon = require(cudaPath) as NativeAddon;
        const info = addon.info();
        if (info.cudaDevices > 0) return { addon, variant: 'cuda', path: cudaPath, reason: `CUDA driver and device found (${info.cudaDevice})`, cudaVariant: cudaPath };
        reason = `CUDA variant present but no device answered: ${info.cudaReason}`;
      } catch (e) {
        reason = `CUDA variant failed to load: ${(e as Error).message.split('\n')[0]}`;
      }
    } else {
      reason = 'no CUDA variant built';
    }
    if (forced === 'cuda') throw new Error(`TENSORFORGE_DEVICE=cuda but ${reason}`);
  } else {
    reason = 'TENSORFORGE_DEVICE=cpu';
  }
  const cpuPath = candidates('cpu').find((p) => existsSync(p));
  if (!cpuPath) {
    throw new Error(`tensorforge: native addon not found (looked in ${candidates('cpu').join(', ')}); run npm run build:native`);
  }
  return { addon: require(cpuPath) as NativeAddon, variant: 'cpu', path: cpuPath, reason, cudaVariant: cudaPath };
}

export const loaded: LoadedAddon = load();
export const native: NativeAddon = loaded.addon;

/** Names of the ops in native/include/tensorforge/ops.def, in order (the source of truth). */
export function opListFromSource(): string[] {
  const text = readFileSync(join(packageRoot, 'native', 'include', 'tensorforge', 'ops.def'), 'utf8');
  return [...text.matchAll(/^TF_(?:UNARY|BINARY|COMPARE|OP)\((\w+)\)/gm)].map((m) => m[1]!);
}
