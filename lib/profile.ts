// TENSORFORGE_PROFILE=1: time spent in native ops, by op kind and by the layer (profile scope) that
// ran them, forward and backward alike (a recorded op keeps its scope for its backward rule).
const enabled = process.env.TENSORFORGE_PROFILE === '1';
const byOp = new Map<string, { ms: number; calls: number }>();
const byScope = new Map<string, number>();
const stack: string[] = [];
let steps = 0;

export function profiling(): boolean {
  return enabled;
}

/** The innermost scope name ('' outside any). */
export function currentScope(): string {
  return stack[stack.length - 1] ?? '';
}

/** Runs fn with `name` as the profile scope (no cost when profiling is off). */
export function profileScope<T>(name: string, fn: () => T): T {
  if (!enabled) return fn();
  stack.push(name);
  try {
    return fn();
  } finally {
    stack.pop();
  }
}

export function recordOp(op: string, ms: number): void {
  const e = byOp.get(op) ?? { ms: 0, calls: 0 };
  e.ms += ms;
  e.calls++;
  byOp.set(op, e);
  const s = currentScope() || '(other)';
  byScope.set(s, (byScope.get(s) ?? 0) + ms);
}

/** Counts a training step, for the per-step averages of the report. */
export function profileStep(): void {
  if (enabled) steps++;
}

/** The table of time per op kind and per scope, per step; clears the counters. */
export function profileReport(): string {
  const n = Math.max(1, steps);
  const total = [...byOp.values()].reduce((s, e) => s + e.ms, 0);
  const lines = [`native time per step: ${(total / n).toFixed(2)} ms over ${steps} step(s)`, '', 'op                       ms/step   calls/step   share'];
  for (const [op, e] of [...byOp].sort((a, b) => b[1].ms - a[1].ms)) {
    lines.push(`${op.padEnd(24)} ${(e.ms / n).toFixed(2).padStart(8)} ${(e.calls / n).toFixed(1).padStart(12)} ${((100 * e.ms) / total).toFixed(1).padStart(6)}%`);
  }
  lines.push('', 'scope                    ms/step   share');
  for (const [s, ms] of [...byScope].sort((a, b) => b[1] - a[1])) {
    lines.push(`${s.padEnd(24)} ${(ms / n).toFixed(2).padStart(8)} ${((100 * ms) / total).toFixed(1).padStart(6)}%`);
  }
  byOp.clear();
  byScope.clear();
  steps = 0;
  return lines.join('\n');
}
