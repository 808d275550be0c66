// safetensors: round trips of every dtype with metadata, the 8-byte aligned header, files written
// by PyTorch (the golden fixtures), corrupt files, and atomic writes.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '../lib/index.js';
import { GOLDEN_DIR } from './helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'tf-st-'));

describe('safetensors', () => {
  it('round-trips every dtype, shape and the metadata', () => {
    const tensors = {
      f32: tf.tensor([[1.5, -2], [3, 4]]),
      f16: tf.tensor([1, 0.5, 65504, -(2 ** -24)]).to('float16'),
      bf16: tf.tensor([1, -3.25, 2 ** 100]).to('bfloat16'),
      i32: tf.tensor([1, -2, 2 ** 31 - 1], { dtype: 'int32' }),
      i8: tf.tensor([-128, 127], { dtype: 'int8' }),
      u8: tf.tensor([[0, 255]], { dtype: 'uint8' }),
      scalar: tf.tensor(3),
      empty: tf.zeros([0, 4]),
    };
    const path = join(dir, 'all.safetensors');
    tf.saveSafetensors(path, tensors, { note: 'hello', n: '3' });
    const back = tf.loadSafetensors(path);
    expect(back.metadata).toEqual({ note: 'hello', n: '3' });
    for (const [k, t] of Object.entries(tensors)) {
      const b = back.tensors.get(k)!;
      expect(b.dtype, k).toBe(t.dtype);
      expect(b.shape, k).toEqual(t.shape);
      expect(b.toArray(), k).toEqual(t.toArray());
    }
  });
  it('writes an 8-byte aligned header and sorted names, as the format requires', () => {
    const path = join(dir, 'aligned.safetensors');
    tf.saveSafetensors(path, { b: tf.ones([3]), a: tf.ones([1], { dtype: 'uint8' }) });
    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    expect(Object.keys(header)).toEqual(['a', 'b']);
    expect(header.b).toEqual({ dtype: 'F32', shape: [3], data_offsets: [1, 13] });
    expect(bytes.length).toBe(8 + n + 13);
  });
  it('reads the files PyTorch wrote (every golden fixture)', () => {
    const files = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.safetensors'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const { tensors, metadata } = tf.loadSafetensors(join(GOLDEN_DIR, f));
      expect(metadata.torch).toMatch(/^2\./);
      expect(tensors.size).toBeGreaterThan(3);
      // re-serialising reproduces every tensor bit for bit
      const again = tf.parseSafetensors(Buffer.concat(tf.serializeSafetensors(tensors, metadata)));
      for (const [k, t] of tensors) expect(again.tensors.get(k)!.data(), k).toEqual(t.data());
    }
  });
  it('reports truncated and corrupt files clearly', () => {
    const good = join(dir, 'good.safetensors');
    tf.saveSafetensors(good, { x: tf.ones([8]) });
    const bytes = readFileSync(good);
    const cut = join(dir, 'cut.safetensors');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 4));
    expect(() => tf.loadSafetensors(cut)).toThrow(/x: data \[0, 32\) runs past the data section/);
    writeFileSync(cut, bytes.subarray(0, 5));
    expect(() => tf.loadSafetensors(cut)).toThrow(/file too short/);
    const junk = Buffer.from(bytes);
    junk.writeBigUInt64LE(10n ** 12n, 0);
    writeFileSync(cut, junk);
    expect(() => tf.loadSafetensors(cut)).toThrow(/header length .* runs past the end/);
    const badJson = Buffer.from(bytes);
    badJson[9] = 0x7b;
    writeFileSync(cut, badJson);
    expect(() => tf.loadSafetensors(cut)).toThrow(/not valid JSON/);
    expect(() => tf.loadSafetensors(join(dir, 'missing.safetensors'))).toThrow(/cannot read/);
  });
  it('a failed write leaves the previous file intact and no temporary file behind', () => {
    const path = join(dir, 'keep.safetensors');
    tf.saveSafetensors(path, { x: tf.ones([2]) });
    const before = readFileSync(path);
    expect(() => tf.saveSafetensors(path, { x: 'not a tensor' as unknown as tf.Tensor })).toThrow(/x is not a Tensor/);
    expect(readFileSync(path)).toEqual(before);
    expect(() => tf.saveSafetensors(join(dir, 'no-such-dir', 'x.safetensors'), { x: tf.ones([2]) })).toThrow();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
