// safetensors: 8-byte little-endian header length, a JSON header (dtype, shape, data_offsets per
// tensor, optional __metadata__ of strings), then the raw little-endian data. Reads every dtype
// tensorforge stores, plus F64/I64/BOOL (converted to float32/int32/uint8, ranges checked).
import { readFileSync } from 'node:fs';
import { DTYPE_SIZE, type DType } from '../tensor/dtype.js';
import { tensor } from '../tensor/create.js';
import { contiguous } from '../ops/shape.js';
import { noGrad } from '../autograd/mode.js';
import { checkShape } from '../tensor/shape.js';
import { numelOf, shapeStr, Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from './atomic.js';

const TO_ST: Record<DType, string> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', int32: 'I32', int8: 'I8', uint8: 'U8' };
const FROM_ST: Record<string, DType> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', I32: 'int32', I8: 'int8', U8: 'uint8' };
const WIDENED: Record<string, { size: number; to: DType }> = { F64: { size: 8, to: 'float32' }, I64: { size: 8, to: 'int32' }, BOOL: { size: 1, to: 'uint8' } };

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

function bad(path: string, what: string): never {
  throw new Error(`safetensors: ${path}: ${what}`);
}

/** Parses safetensors bytes (a file's contents). */
export function parseSafetensors(input: Uint8Array, path = '<buffer>'): SafetensorsFile {
  // a plain Uint8Array view (a Node Buffer's slice() would not copy)
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.byteLength < 8) bad(path, `file too short (${bytes.byteLength} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > bytes.byteLength - 8) bad(path, `header length ${n} runs past the end of the file (${bytes.byteLength} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    bad(path, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) bad(path, 'header must be a JSON object');
  const data = bytes.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') {
        for (const [k, v] of Object.entries((entry ?? {}) as Record<string, unknown>)) {
          if (typeof v !== 'string') bad(path, `metadata ${k} is not a string`);
          metadata[k] = v;
        }
        continue;
      }
      const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const st = String(e?.dtype);
      const shape = checkShape(e?.shape, `safetensors ${name}`);
      const offs = e?.data_offsets;
      if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[0] > offs[1]) {
        bad(path, `${name}: bad data_offsets ${JSON.stringify(offs)}`);
      }
      const [begin, end] = offs as [number, number];
      if (end > data.byteLength) bad(path, `${name}: data [${begin}, ${end}) runs past the data section (${data.byteLength} bytes)`);
      const size = FROM_ST[st] ? DTYPE_SIZE[FROM_ST[st]!] : WIDENED[st]?.size;
      if (size === undefined) bad(path, `${name}: unsupported dtype ${st}`);
      if (end - begin !== numelOf(shape) * size) bad(path, `${name}: ${end - begin} bytes do not hold ${st}${shapeStr(shape)}`);
      tensors.set(name, decode(data.slice(begin, end), st, shape, path, name));
    }
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata };
}

function decode(raw: Uint8Array, st: string, shape: number[], path: string, name: string): Tensor {
  const buf = raw.buffer;
  switch (st) {
    case 'F32': return tensor(new Float32Array(buf), { shape });
    case 'I32': return tensor(new Int32Array(buf), { shape });
    case 'I8': return tensor(new Int8Array(buf), { shape });
    case 'U8': case 'BOOL': return tensor(new Uint8Array(buf), { shape });
    case 'F64': return tensor(Float32Array.from(new Float64Array(buf)), { shape });
    case 'I64': {
      const v = new BigInt64Array(buf);
      const out = new Int32Array(v.length);
      for (let i = 0; i < v.length; i++) {
        if (v[i]! > 2147483647n || v[i]! < -2147483648n) bad(path, `${name}: int64 value ${v[i]} does not fit int32`);
        out[i] = Number(v[i]!);
      }
      return tensor(out, { shape });
    }
    default: {
      // F16/BF16: widen the 16-bit words to float32 exactly; the native cast back is then exact
      const words = new Uint16Array(buf);
      const f = new Float32Array(words.length);
      const u = new Uint32Array(f.buffer);
      if (st === 'BF16') for (let i = 0; i < words.length; i++) u[i] = words[i]! << 16;
      else for (let i = 0; i < words.length; i++) f[i] = halfToFloat(words[i]!);
      return tensor(f, { shape, dtype: FROM_ST[st]! });
    }
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function loadSafetensors(path: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`safetensors: cannot read ${path}: ${(e as Error).message}`);
  }
  return parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/** Serialises tensors (sorted by name, 8-byte aligned header) with optional string metadata. */
export function serializeSafetensors(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array[] {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new TypeError(`safetensors: metadata ${k} must be a string`);
    header.__metadata__ = metadata;
  }
  const blobs: Uint8Array[] = [];
  let at = 0;
  for (const [name, t] of entries) {
    if (!(t instanceof Tensor)) throw new TypeError(`safetensors: ${name} is not a Tensor`);
    const bytes = rawBytes(t);
    header[name] = { dtype: TO_ST[t.dtype], shape: [...t.shape], data_offsets: [at, at + bytes.byteLength] };
    blobs.push(bytes);
    at += bytes.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  return [len, json, ...blobs];
}

/** The tensor's storage bytes, row-major (16-bit floats as their own bits). */
function rawBytes(t: Tensor): Uint8Array {
  return noGrad(() => {
    if (t.dtype === 'float16' || t.dtype === 'bfloat16') {
      // data() would widen to float32; read the 16-bit words of a contiguous copy instead
      const c = contiguous(t);
      const raw = c.desc('safetensors')[0].read(c.offset * 2, c.size * 2);
      if (c !== t) c.dispose();
      return new Uint8Array(raw);
    }
    const d = t.data();
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  });
}

export function saveSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

