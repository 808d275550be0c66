// Storage dtypes. Arithmetic runs in float32 (double for integers) whatever the storage.
export type DType = 'float32' | 'float16' | 'bfloat16' | 'int32' | 'int8' | 'uint8';

export const DTYPES: readonly DType[] = ['float32', 'float16', 'bfloat16', 'int32', 'int8', 'uint8'];
/** Ids shared with native/include/tensorforge/dtype.h. */
export const DTYPE_ID: Record<DType, number> = { float32: 0, float16: 1, bfloat16: 2, int32: 3, int8: 4, uint8: 5 };
export const DTYPE_SIZE: Record<DType, number> = { float32: 4, float16: 2, bfloat16: 2, int32: 4, int8: 1, uint8: 1 };

export function isFloatDType(d: DType): boolean {
  return d === 'float32' || d === 'float16' || d === 'bfloat16';
}

export function checkDType(d: unknown, where: string): DType {
  if (typeof d !== 'string' || !(DTYPES as readonly string[]).includes(d)) {
    throw new TypeError(`${where}: unknown dtype ${JSON.stringify(d)} (expected one of ${DTYPES.join(', ')})`);
  }
  return d as DType;
}

/** Typed arrays that JS reads and writes directly; float16/bfloat16 travel as float32 and are cast natively. */
export type HostArray = Float32Array | Int32Array | Int8Array | Uint8Array;

export function hostDType(d: DType): 'float32' | 'int32' | 'int8' | 'uint8' {
  return d === 'float16' || d === 'bfloat16' ? 'float32' : d;
}

export function hostArray(d: 'float32' | 'int32' | 'int8' | 'uint8', buf: ArrayBuffer): HostArray {
  switch (d) {
    case 'float32': return new Float32Array(buf);
    case 'int32': return new Int32Array(buf);
    case 'int8': return new Int8Array(buf);
    default: return new Uint8Array(buf);
  }
}

export function allocHost(d: 'float32' | 'int32' | 'int8' | 'uint8', n: number): HostArray {
  return hostArray(d, new ArrayBuffer(n * DTYPE_SIZE[d]));
}
