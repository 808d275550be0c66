// Classification metrics: confusion matrix, accuracy, per-class precision / recall / F1.
export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Metrics {
  loss: number;
  accuracy: number;
  /** confusion[true][predicted] */
  confusion: number[][];
  perClass: ClassMetrics[];
  /** unweighted mean of the per-class F1 */
  macroF1: number;
  count: number;
}

export function classificationMetrics(labels: readonly string[], truth: readonly number[], predicted: readonly number[], loss: number): Metrics {
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  truth.forEach((t, i) => confusion[t]![predicted[i]!]!++);
  const correct = confusion.reduce((s, row, i) => s + row[i]!, 0);
  const perClass = labels.map((label, c) => {
    const tp = confusion[c]![c]!;
    const predictedC = confusion.reduce((s, row) => s + row[c]!, 0);
    const support = confusion[c]!.reduce((s, v) => s + v, 0);
    const precision = predictedC ? tp / predictedC : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
  return {
    loss,
    accuracy: truth.length ? correct / truth.length : 0,
    confusion,
    perClass,
    macroF1: perClass.reduce((s, c) => s + c.f1, 0) / Math.max(1, k),
    count: truth.length,
  };
}
