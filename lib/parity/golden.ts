// Runs a golden file (../shared/fixtures/README.md's format) through tensorforge's modules and
// compares every output, gradient and updated parameter with PyTorch's values.
import { backward } from '../autograd/engine.js';
import { loadSafetensors } from '../io/safetensors.js';
import { mul } from '../ops/elementwise.js';
import { crossEntropy, scaledDotProductAttention } from '../ops/nn.js';
import { sum } from '../ops/reduce.js';
import { tidy } from '../tensor/memory.js';
import { shapeStr, type Tensor } from '../tensor/tensor.js';
import { EncoderClassifier } from '../nn/classifier.js';
import { SeedEncoderLayer, TransformerEncoderLayer } from '../nn/encoder.js';
import type { Module } from '../nn/module.js';
import { AdamW } from '../optim/adamw.js';

export interface TensorCheck {
  name: string;
  maxAbs: number;
  /** worst |got - ref| / (atol + rtol |ref|); passes when <= 1 */
  worstRatio: number;
  ok: boolean;
  note?: string;
}

export interface ParityResult {
  file: string;
  module: string;
  atol: number;
  rtol: number;
  loss?: { got: number; ref: number };
  checks: TensorCheck[];
  ok: boolean;
}

export function compareTensors(name: string, got: Tensor | null | undefined, ref: Tensor, atol: number, rtol: number): TensorCheck {
  if (!got) return { name, maxAbs: Infinity, worstRatio: Infinity, ok: false, note: 'not produced' };
  if (got.shape.length !== ref.shape.length || got.shape.some((d, i) => d !== ref.shape[i])) {
    return { name, maxAbs: Infinity, worstRatio: Infinity, ok: false, note: `shape ${shapeStr(got.shape)} != ${shapeStr(ref.shape)}` };
  }
  const a = got.data(), b = ref.data();
  let maxAbs = 0, worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    const r = Number.isNaN(d) ? Infinity : d / (atol + rtol * Math.abs(b[i]!));
    maxAbs = Math.max(maxAbs, Number.isNaN(d) ? Infinity : d);
    worst = Math.max(worst, r);
  }
  return { name, maxAbs, worstRatio: worst, ok: worst <= 1 };
}

type Cfg = Record<string, unknown>;
const num = (c: Cfg, k: string): number => {
  const v = c[k];
  if (typeof v !== 'number') throw new Error(`parity: config field ${k} must be a number, got ${JSON.stringify(v)}`);
  return v;
};

function params(tensors: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of tensors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

function need(tensors: Map<string, Tensor>, name: string): Tensor {
  const t = tensors.get(name);
  if (!t) throw new Error(`parity: the file has no tensor ${name}`);
  return t;
}

/** Checks every grad.param.* / after.param.* entry against the module's parameters. */
function checkParams(m: Module, tensors: Map<string, Tensor>, prefix: string, pick: (p: Tensor) => Tensor | null, atol: number, rtol: number): TensorCheck[] {
  const own = new Map(m.namedParameters());
  return [...params(tensors, prefix)].map(([name, ref]) => compareTensors(`${prefix}${name}`, own.has(name) ? pick(own.get(name)!) : null, ref, atol, rtol));
}

function layerRun(layer: Module & { forward(x: Tensor, o?: { keyPaddingMask?: Tensor | null }): Tensor }, t: Map<string, Tensor>, atol: number, rtol: number) {
  layer.loadStateDict(params(t, 'param.'));
  layer.eval();
  const x = need(t, 'in.x').requiresGrad_();
  const y = layer.forward(x, { keyPaddingMask: t.get('in.key_padding_mask') ?? null });
  const loss = sum(mul(y, need(t, 'in.R')));
  backward(loss);
  return {
    loss: loss.item(),
    checks: [
      compareTensors('out.y', y, need(t, 'out.y'), atol, rtol),
      compareTensors('grad.in.x', x.grad, need(t, 'grad.in.x'), atol, rtol),
      ...checkParams(layer, t, 'grad.param.', (p) => p.grad, atol, rtol),
    ],
  };
}

export function runGoldenFile(path: string): ParityResult {
  return tidy(() => {
    const { tensors: t, metadata } = loadSafetensors(path);
    const module = metadata.module ?? '';
    const atol = Number(metadata.atol), rtol = Number(metadata.rtol);
    if (!Number.isFinite(atol) || !Number.isFinite(rtol)) throw new Error(`parity: ${path} has no numeric atol/rtol metadata`);
    let cfg: Cfg;
    try {
      cfg = JSON.parse(metadata.config ?? '{}') as Cfg;
    } catch {
      throw new Error(`parity: ${path}: config metadata is not JSON`);
    }
    let run: { loss: number; checks: TensorCheck[] };
    switch (module) {
      case 'seed_encoder_layer':
        run = layerRun(new SeedEncoderLayer(num(cfg, 'embed_dim'), num(cfg, 'num_heads'), num(cfg, 'feedforward_dim'), { dropout: Number(cfg.dropout ?? 0.1) }), t, atol, rtol);
        break;
      case 'torch_encoder_layer': {
        const act = String(cfg.activation ?? 'relu');
        const layer = new TransformerEncoderLayer(num(cfg, 'd_model'), num(cfg, 'nhead'), {
          dimFeedforward: num(cfg, 'dim_feedforward'),
          dropout: Number(cfg.dropout ?? 0),
          activation: act.startsWith('gelu') ? 'gelu' : 'relu',
          normFirst: Boolean(cfg.norm_first),
          layerNormEps: Number(cfg.layer_norm_eps ?? 1e-5),
        });
        run = layerRun(layer, t, atol, rtol);
        break;
      }
      case 'attention': {
        const [q, k, v] = ['in.q', 'in.k', 'in.v'].map((n) => need(t, n).requiresGrad_()) as [Tensor, Tensor, Tensor];
        const y = scaledDotProductAttention(q, k, v, { keyPaddingMask: t.get('in.key_padding_mask') ?? null });
        const loss = sum(mul(y, need(t, 'in.R')));
        backward(loss);
        run = {
          loss: loss.item(),
          checks: [
            compareTensors('out.y', y, need(t, 'out.y'), atol, rtol),
            ...(['q', 'k', 'v'] as const).map((n, i) => compareTensors(`grad.in.${n}`, [q, k, v][i]!.grad, need(t, `grad.in.${n}`), atol, rtol)),
          ],
        };
        break;
      }
      case 'classifier_adamw':
        run = classifierRun(cfg, t, atol, rtol);
        break;
      default:
        throw new Error(`parity: ${path}: unknown module ${JSON.stringify(module)}`);
    }
    const refLoss = Number(metadata.loss);
    const checks = run.checks;
    if (Number.isFinite(refLoss)) {
      const d = Math.abs(run.loss - refLoss);
      checks.push({ name: 'loss', maxAbs: d, worstRatio: d / (atol + rtol * Math.abs(refLoss)), ok: d <= atol + rtol * Math.abs(refLoss) });
    }
    return { file: path, module, atol, rtol, loss: { got: run.loss, ref: refLoss }, checks, ok: checks.length > 0 && checks.every((c) => c.ok) };
  });
}

function classifierRun(cfg: Cfg, t: Map<string, Tensor>, atol: number, rtol: number) {
  const act = String(cfg.activation ?? 'gelu');
  const model = new EncoderClassifier({
    vocabSize: num(cfg, 'vocab'),
    maxLen: num(cfg, 'max_len'),
    dModel: num(cfg, 'd_model'),
    nHead: num(cfg, 'nhead'),
    dimFeedforward: num(cfg, 'dim_feedforward'),
    numLayers: num(cfg, 'layers'),
    numClasses: num(cfg, 'classes'),
    dropout: Number(cfg.dropout ?? 0),
    activation: act.startsWith('gelu') ? 'gelu' : 'relu',
    normFirst: Boolean(cfg.norm_first ?? true),
    layerNormEps: Number(cfg.layer_norm_eps ?? 1e-5),
    finalNorm: params(t, 'param.').has('norm.weight'),
  });
  model.loadStateDict(params(t, 'param.'));
  model.train(Number(cfg.dropout ?? 0) > 0);
  const logits = model.forward(need(t, 'in.tokens'), t.get('in.key_padding_mask') ?? null);
  const loss = crossEntropy(logits, need(t, 'in.labels'));
  backward(loss);
  const checks = [compareTensors('out.logits', logits, need(t, 'out.logits'), atol, rtol), ...checkParams(model, t, 'grad.param.', (p) => p.grad, atol, rtol)];
  const o = (cfg.optimizer ?? {}) as Cfg;
  if (o.name !== undefined && o.name !== 'AdamW') throw new Error(`parity: optimizer ${String(o.name)} is not supported`);
  const betas = (o.betas as [number, number] | undefined) ?? [0.9, 0.999];
  const opt = new AdamW(model.parameters(), { lr: Number(o.lr ?? 1e-3), betas, eps: Number(o.eps ?? 1e-8), weightDecay: Number(o.weight_decay ?? 0.01) });
  // The step is checked on PyTorch's own gradients (ours were checked above). Some true gradients
  // are exactly zero (the key bias: softmax ignores a constant added to every key), so both sides
  // hold rounding noise of ~1e-10 there, and AdamW's first step, lr * g / (|g| + eps), turns any
  // such noise into an update of up to ±lr: only the reference gradients make that step comparable.
  for (const [name, p] of model.namedParameters()) {
    p.grad?.dispose();
    p.grad = need(t, `grad.param.${name}`);
  }
  opt.step();
  checks.push(...checkParams(model, t, 'after.param.', (p) => p, atol, rtol));
  return { loss: loss.item(), checks };
}
