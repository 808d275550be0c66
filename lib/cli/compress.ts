// `tensorforge compress` (the compressed variants of a run, measured) and `tensorforge export`
// (a run's model as ONNX or safetensors, float32 or int8).
import { exportOnnx } from '../export/onnx.js';
import { saveSafetensors } from '../io/safetensors.js';
import { quantizeDynamic } from '../compress/quantize.js';
import { DEFAULT_COMPRESS, runCompress, type CompressOptions } from '../compress/job.js';
import { TrainedClassifier } from '../train/run.js';

const COMPRESS_HELP = `usage: tensorforge compress --run DIR --out DIR2 [options]

Builds compressed variants of a trained run and measures each on the run's test split: float32
(the baseline), int8-dynamic, int8-static, int8-qat, pruned-S (magnitude), pruned-ffn-S and
pruned-heads-S (feed-forward neurons / attention heads, physically removed), distilled-Nl, distilled-Nl-int8. Writes
DIR2/<variant>/model.safetensors and DIR2/summary.json, and prints a table.

  --prune / --quantize / --distill   only these (default: all)
  --sparsity S          final sparsity of gradual magnitude pruning (default ${DEFAULT_COMPRESS.sparsity})
  --prune-epochs N      fine-tuning epochs while pruning (default ${DEFAULT_COMPRESS.pruneEpochs})
  --qat-epochs N        quantisation-aware fine-tuning epochs for int8-qat (default ${DEFAULT_COMPRESS.qatEpochs}; 0: skip)
  --student-layers N    student depth (default: half the teacher's)
  --distill-epochs N    distillation epochs (default: the run's epochs)
  --alpha A             weight of the teacher term (default ${DEFAULT_COMPRESS.alpha})
  --temperature T       softmax temperature (default ${DEFAULT_COMPRESS.temperature})
  --calibration N       training examples for static int8 calibration (default ${DEFAULT_COMPRESS.calibration})
  --threads N           (default ${DEFAULT_COMPRESS.threads})
  --latency-seconds S   time spent measuring each latency (default ${DEFAULT_COMPRESS.latencySeconds})
  --quiet               no progress lines`;

const NUMERIC: Record<string, keyof CompressOptions> = {
  '--sparsity': 'sparsity', '--prune-epochs': 'pruneEpochs', '--qat-epochs': 'qatEpochs', '--student-layers': 'studentLayers', '--distill-epochs': 'distillEpochs',
  '--alpha': 'alpha', '--temperature': 'temperature', '--calibration': 'calibration', '--threads': 'threads', '--latency-seconds': 'latencySeconds',
};

function value(args: string[], i: number, flag: string): string {
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
  return v;
}

export function parseCompressArgs(args: string[]): CompressOptions {
  const o: Partial<CompressOptions> & Record<string, unknown> = { ...DEFAULT_COMPRESS };
  const only: ('prune' | 'quantize' | 'distill')[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--run' || a === '--out') o[a.slice(2)] = value(args, i++, a);
    else if (a === '--prune' || a === '--quantize' || a === '--distill') only.push(a.slice(2) as 'prune');
    else if (a === '--quiet') o.progress = false;
    else if (a in NUMERIC) {
      const n = Number(value(args, i++, a));
      if (!Number.isFinite(n) || n < 0) throw new Error(`compress: ${a} must be a non-negative number, got ${args[i]}`);
      (o as Record<string, unknown>)[NUMERIC[a]!] = n;
    } else throw new Error(`compress: unknown option ${a} (--help lists them)`);
  }
  if (!o.run || !o.out) throw new Error('compress: --run DIR and --out DIR2 are required');
  if (only.length) for (const k of ['prune', 'quantize', 'distill'] as const) o[k] = only.includes(k);
  for (const k of ['pruneEpochs', 'calibration', 'threads'] as const) {
    if (!Number.isInteger(o[k]) || o[k]! < 1) throw new Error(`compress: ${k} must be a positive integer, got ${o[k]}`);
  }
  if (!(o.sparsity! < 1)) throw new Error(`compress: --sparsity must be below 1, got ${o.sparsity}`);
  return o as CompressOptions;
}

export async function compressCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(COMPRESS_HELP);
    return 0;
  }
  const o = parseCompressArgs(args);
  await runCompress(o);
  console.log(`\nvariants written to ${o.out}`);
  return 0;
}

const EXPORT_USAGE = 'usage: tensorforge export --run DIR --format onnx|safetensors [--int8] --out FILE';

export function exportCommand(args: string[]): number {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`${EXPORT_USAGE}\n\nWrites a run's model as ONNX (opset 17; inputs tokens int32 and key_padding_mask uint8, output\nlogits) or safetensors; --int8 quantises the linear layers first (dynamic int8).`);
    return 0;
  }
  let run = '', format = '', out = '', int8 = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--run') run = value(args, i++, a);
    else if (a === '--format') format = value(args, i++, a);
    else if (a === '--out') out = value(args, i++, a);
    else if (a === '--int8') int8 = true;
    else throw new Error(`export: unknown option ${a}\n${EXPORT_USAGE}`);
  }
  if (!run || !out || (format !== 'onnx' && format !== 'safetensors')) throw new Error(`export: --run, --out and --format onnx|safetensors are required\n${EXPORT_USAGE}`);
  const { model, tokenizer } = TrainedClassifier.load(run);
  if (int8) quantizeDynamic(model);
  if (format === 'onnx') exportOnnx(model, out);
  else saveSafetensors(out, model.stateDict(), { format: 'tensorforge', fingerprint: tokenizer.fingerprint, ...(int8 ? { quantization: 'int8-dynamic' } : {}) });
  console.log(`${format}${int8 ? ' (int8)' : ''} written to ${out}`);
  return 0;
}
