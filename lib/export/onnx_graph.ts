// A small builder for ONNX graphs on the onnx-proto message classes: nodes with fresh output names,
// initializers from tensors or numbers, and the final ModelProto bytes.
import onnxProto from 'onnx-proto';
import { contiguous } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';

const { onnx } = onnxProto;
const TYPE = onnx.TensorProto.DataType;
const ATTR = onnx.AttributeProto.AttributeType;

export type Attr = number | number[] | string;
type ElemType = 'float32' | 'int64' | 'int32' | 'int8' | 'uint8';
const ELEM: Record<ElemType, number> = { float32: TYPE.FLOAT, int64: TYPE.INT64, int32: TYPE.INT32, int8: TYPE.INT8, uint8: TYPE.UINT8 };

function attribute(name: string, v: Attr, float: boolean): onnxProto.onnx.IAttributeProto {
  if (typeof v === 'string') return { name, type: ATTR.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: ATTR.INTS, ints: v };
  return float ? { name, type: ATTR.FLOAT, f: v } : { name, type: ATTR.INT, i: v };
}

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private count = 0;

  /** One node; returns its output names (`outputs` of them). Float attributes are listed in `floats`. */
  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs = 1, floats: string[] = []): string[] {
    const names = Array.from({ length: outputs }, () => `${type.toLowerCase()}_${this.count++}`);
    this.nodes.push({
      opType: type,
      input: inputs,
      output: names,
      name: `${type}_${this.count}`,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v, floats.includes(k))),
    });
    return names;
  }
  /** One node with one output. */
  op1(type: string, inputs: string[], attrs: Record<string, Attr> = {}, floats: string[] = []): string {
    return this.op(type, inputs, attrs, 1, floats)[0]!;
  }

  /** A float32 / int8 / int32 initializer from a tensor (its values, in row-major order). */
  tensor(name: string, t: Tensor): string {
    const data = contiguous(t).data();
    const type = t.dtype === 'int8' ? 'int8' : t.dtype === 'int32' ? 'int32' : 'float32';
    const values = type === 'float32' ? Float32Array.from(data) : data;
    this.initializers.push({ name, dataType: ELEM[type], dims: [...t.shape], rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
    return name;
  }
  /** A constant from numbers: int64 (shapes, axes) or float32. */
  constant(values: number[], type: 'int64' | 'float32', dims: number[] = [values.length]): string {
    const name = `const_${this.count++}`;
    const raw = type === 'int64' ? new BigInt64Array(values.map((v) => BigInt(v))) : new Float32Array(values);
    this.initializers.push({ name, dataType: ELEM[type], dims, rawData: new Uint8Array(raw.buffer) });
    return name;
  }

  input(name: string, type: ElemType, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }
  output(name: string, source: string, type: ElemType, dims: (number | string)[]): void {
    this.nodes.push({ opType: 'Identity', input: [source], output: [name], name: `output_${name}` });
    this.outputs.push(valueInfo(name, type, dims));
  }

  encode(opts: { name: string; opset: number; producer: string; version: string; metadata?: Record<string, string> }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: opts.producer,
      producerVersion: opts.version,
      opsetImport: [{ domain: '', version: opts.opset }],
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: { name: opts.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, type: ElemType, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ELEM[type], shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}
