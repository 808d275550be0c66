// Knowledge distillation (Hinton et al. 2015): the student learns from the teacher's softened
// outputs, loss = α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1−α)·CE(z_s, y), and a student that
// starts from a subset of the teacher's layers.
import { noGrad } from '../autograd/mode.js';
import { EncoderClassifier } from '../nn/classifier.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { crossEntropy } from '../ops/nn.js';
import { logSoftmax, softmax, sum } from '../ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';

export interface DistillOptions {
  /** weight of the soft (teacher) term; 1 - alpha goes to the hard labels */
  alpha?: number;
  temperature?: number;
}

/** The distillation loss of a batch (a mean over its examples, as PyTorch's kl_div 'batchmean'). */
export function distillationLoss(student: Tensor, teacher: Tensor, labels: Tensor, opts: DistillOptions = {}): Tensor {
  const alpha = opts.alpha ?? 0.5, T = opts.temperature ?? 2;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`distillationLoss: alpha must be in [0, 1], got ${alpha}`);
  if (!(T > 0)) throw new RangeError(`distillationLoss: temperature must be positive, got ${T}`);
  if (student.shape.join() !== teacher.shape.join()) throw new RangeError(`distillationLoss: student logits [${student.shape}] and teacher logits [${teacher.shape}] differ`);
  const logPs = logSoftmax(mul(student, 1 / T), -1);
  const [pt, logPt] = noGrad(() => [softmax(mul(teacher, 1 / T), -1), logSoftmax(mul(teacher, 1 / T), -1)]);
  const kl = mul(sum(mul(pt!, sub(logPt!, logPs))), 1 / student.shape[0]!);
  return add(mul(kl, alpha * T * T), mul(crossEntropy(student, labels), 1 - alpha));
}

/**
 * A student with the teacher's embeddings, head and final norm, and the teacher's layers `layers`
 * (indices, in order) as its encoder: same width, fewer layers.
 */
export function studentFromTeacher(teacher: EncoderClassifier, layers: number[]): EncoderClassifier {
  const n = teacher.config.numLayers;
  if (layers.length === 0 || layers.some((i) => !Number.isInteger(i) || i < 0 || i >= n)) {
    throw new RangeError(`studentFromTeacher: layers [${layers}] must be indices below the teacher's ${n} layers`);
  }
  const student = new EncoderClassifier({ ...teacher.config, numLayers: layers.length });
  const state = new Map<string, Tensor>();
  for (const [name, t] of teacher.stateDict()) {
    const m = /^layers\.(\d+)\.(.*)$/.exec(name);
    if (!m) state.set(name, t);
    else if (layers.includes(Number(m[1]))) state.set(`layers.${layers.indexOf(Number(m[1]))}.${m[2]}`, t);
  }
  student.loadStateDict(state);
  return student;
}
