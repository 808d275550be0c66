// Timing as ../shared/peers/torch_bench.py does it: warm up, then repeat until minTime has passed
// and at least 3 runs were made; report the mean seconds per run.
export function timeit(fn: () => void, minTime = 1.0, warm = 2): number {
  for (let i = 0; i < warm; i++) fn();
  let n = 0;
  const t0 = process.hrtime.bigint();
  for (;;) {
    fn();
    n++;
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (dt > minTime && n >= 3) return dt / n;
  }
}

export function emit(fields: Record<string, unknown>, threads: number): void {
  console.log(JSON.stringify({ ...fields, threads }));
}
