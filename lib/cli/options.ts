// Options of `tensorforge train`: every JobConfig field as a --kebab-case flag and as a key of a
// JSON config file (--config), checked for unknown names, types and allowed values.
import { readFileSync } from 'node:fs';
import { DEFAULT_CONFIG, type JobConfig } from '../train/job.js';

interface Spec {
  help: string;
  choices?: readonly string[];
  nullable?: boolean;
  integer?: boolean;
  min?: number;
  /** exclusive upper bound */
  below?: number;
}

export const OPTIONS: Record<keyof JobConfig, Spec> = {
  data: { help: "'spamassassin', or a .csv/.jsonl file (text, label) or a folder of class folders" },
  out: { help: 'run folder to write (default runs/<date-time>)' },
  seed: { help: 'seed for init, dropout, shuffling and the split', integer: true, min: 0 },
  limit: { help: 'use only the first N examples (quick runs)', nullable: true, integer: true, min: 10 },
  stopwords: { help: 'remove English stop words' },
  stem: { help: 'Porter-stem words' },
  vocabSize: { help: 'BPE vocabulary size (trained on the training split)', integer: true, min: 100 },
  maxLen: { help: 'tokens per example, [CLS] included', integer: true, min: 2 },
  truncation: { help: 'keep the head, or head and tail, of long texts', choices: ['head', 'head+tail'] },
  dModel: { help: 'model width', integer: true, min: 1 },
  nHead: { help: 'attention heads', integer: true, min: 1 },
  dimFeedforward: { help: 'feed-forward width', integer: true, min: 1 },
  layers: { help: 'encoder layers', integer: true, min: 1 },
  pretrainEpochs: { help: 'epochs of masked-LM pretraining on the training texts before fine-tuning (0: none)', integer: true, min: 0 },
  pretrainLr: { help: 'peak learning rate of the pretraining', min: 0 },
  dropout: { help: 'dropout probability', min: 0, below: 1 },
  activation: { help: 'feed-forward activation', choices: ['relu', 'gelu'] },
  normFirst: { help: 'pre-norm layers (false: post-norm)' },
  layer: { help: "'torch' (TransformerEncoderLayer) or 'seed' (the founding document's layer)", choices: ['torch', 'seed'] },
  pooling: { help: 'masked mean, masked max or first-token pooling', choices: ['mean', 'first', 'max'] },
  positional: { help: 'learned or sinusoidal position embeddings', choices: ['learned', 'sinusoidal'] },
  batchSize: { help: 'examples per micro-batch', integer: true, min: 1 },
  accumulation: { help: 'micro-batches per optimizer step (gradient accumulation)', integer: true, min: 1 },
  epochs: { help: 'passes over the training split', integer: true, min: 1 },
  lr: { help: 'peak learning rate (AdamW)', min: 0 },
  weightDecay: { help: 'AdamW weight decay (not on biases, LayerNorm, embeddings)', min: 0 },
  schedule: { help: 'learning-rate decay after warm-up', choices: ['constant', 'linear', 'cosine'] },
  warmupRatio: { help: 'fraction of the steps spent warming up', min: 0 },
  clipNorm: { help: 'clip the global gradient norm to this (null: off)', nullable: true, min: 0 },
  labelSmoothing: { help: 'cross-entropy label smoothing (0: off)', min: 0, below: 1 },
  ema: { help: 'decay of a moving average of the weights, used for validation and kept as the model (null: off)', nullable: true, min: 0, below: 1 },
  precision: { help: "'auto' (bf16 where the CPU has AVX512-BF16, else fp32), fp32, bf16 or fp16", choices: ['auto', 'fp32', 'bf16', 'fp16'] },
  device: { help: "'auto' (cuda where a GPU answers, else cpu), cpu or cuda", choices: ['auto', 'cpu', 'cuda'] },
  evalEvery: { help: 'evaluate every N optimizer steps (0: every epoch)', integer: true, min: 0 },
  bestMetric: { help: 'validation metric that picks the best checkpoint', choices: ['accuracy', 'f1', 'loss'] },
  patience: { help: 'early stopping after N evaluations without improvement (null: off)', nullable: true, integer: true, min: 1 },
  threads: { help: 'CPU threads', integer: true, min: 1 },
  progress: { help: 'progress bar on a terminal, log lines otherwise' },
  maxSteps: { help: 'stop after N optimizer steps in all; the run continues with --resume DIR (null: to the end)', nullable: true, integer: true, min: 1 },
};

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function checkValue(key: keyof JobConfig, value: unknown, where: string): JobConfig[keyof JobConfig] {
  const spec = OPTIONS[key];
  const def = DEFAULT_CONFIG[key];
  if (value === null) {
    if (spec.nullable) return null as never;
    throw new Error(`${where}: ${key} cannot be null`);
  }
  const want = spec.nullable && def === null ? 'number' : typeof def;
  if (typeof value !== want) throw new Error(`${where}: ${key} must be a ${want}, got ${JSON.stringify(value)}`);
  if (spec.choices && !spec.choices.includes(value as string)) throw new Error(`${where}: ${key} must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(value)}`);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${where}: ${key} must be finite`);
    if (spec.integer && !Number.isInteger(value)) throw new Error(`${where}: ${key} must be an integer, got ${value}`);
    if (spec.min !== undefined && value < spec.min) throw new Error(`${where}: ${key} must be >= ${spec.min}, got ${value}`);
    if (spec.below !== undefined && value >= spec.below) throw new Error(`${where}: ${key} must be below ${spec.below}, got ${value}`);
  }
  return value as JobConfig[keyof JobConfig];
}

function assign(cfg: JobConfig, raw: Record<string, unknown>, where: string): void {
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in OPTIONS)) throw new Error(`${where}: unknown option ${k} (see --help)`);
    (cfg as unknown as Record<string, unknown>)[k] = checkValue(k as keyof JobConfig, v, where);
  }
}

/** Parses `--key value` flags (and --config FILE, applied first); returns the full config. */
export function parseTrainArgs(args: string[]): JobConfig {
  const cfg: JobConfig = { ...DEFAULT_CONFIG };
  const flags: Record<string, unknown> = {};
  let configFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) throw new Error(`train: unexpected argument ${a}`);
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (name === 'config') {
      configFile = inline ?? args[++i];
      if (!configFile) throw new Error('train: --config needs a file');
      continue;
    }
    const key = camel(name);
    if (!(key in OPTIONS)) throw new Error(`train: unknown option --${name} (see --help)`);
    const def = DEFAULT_CONFIG[key as keyof JobConfig];
    if (typeof def === 'boolean' && inline === undefined && (args[i + 1] === undefined || args[i + 1]!.startsWith('--'))) {
      flags[key] = true;
      continue;
    }
    const text = inline ?? args[++i];
    if (text === undefined) throw new Error(`train: --${name} needs a value`);
    flags[key] = text === 'null' ? null : typeof def === 'boolean' ? parseBool(text, name) : typeof def === 'string' ? text : parseNumber(text, key);
  }
  if (configFile) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(configFile, 'utf8'));
    } catch (e) {
      throw new Error(`train: cannot read config ${configFile}: ${(e as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`train: config ${configFile} must hold a JSON object`);
    assign(cfg, raw as Record<string, unknown>, `config ${configFile}`);
  }
  assign(cfg, flags, 'train');
  return cfg;
}

function parseNumber(s: string, key: string): number {
  const n = Number(s);
  if (!s.trim() || Number.isNaN(n)) throw new Error(`train: ${key} must be a number, got ${s}`);
  return n;
}

function parseBool(s: string, name: string): boolean {
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw new Error(`train: --${name} must be true or false, got ${s}`);
}

export function trainHelp(): string {
  const rows = (Object.keys(OPTIONS) as (keyof JobConfig)[]).map((k) => {
    const s = OPTIONS[k];
    const def = JSON.stringify(DEFAULT_CONFIG[k]);
    return `  --${kebab(k).padEnd(18)} ${s.help}${s.choices ? ` [${s.choices.join('|')}]` : ''} (default ${def})`;
  });
  return [
    'usage: tensorforge train [--config FILE.json] [--option value ...]',
    '       tensorforge train --resume DIR [--max-steps N] [--threads N] [--progress B]',
    '',
    'Trains an encoder classifier (default: spam detection on the SpamAssassin corpus) and writes a run',
    'folder: model.safetensors, tokenizer.json, config.json, manifest.json, metrics.jsonl, curves.svg,',
    'summary.json, and checkpoint/ and best/ for resuming. A config file holds the same keys in camelCase.',
    '--resume DIR continues an unfinished run (stopped by --max-steps, or interrupted) from its checkpoint,',
    'with the config it was started with, to the same result as an uninterrupted run.',
    '',
    ...rows,
  ].join('\n');
}
