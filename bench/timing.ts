// Timing as ../shared/peers/torch_bench.py does it (repeat until minTime has passed and at least 3
// runs were made; report the mean seconds per run), except for the warm-up: at least `warm` runs and
// at least minTime seconds. V8 compiles the hot JavaScript on background threads for about the first
// two seconds, and on two cores those threads take turns with the kernels' threads (W4 batch 1, the
// 2 s after 2 warm-up runs: mean 4.44 ms, p90 6.53; after 2 s of warm-up: 3.84, p90 3.79).
export function timeit(fn: () => void, minTime = 2.0, warm = 2): number {
  const warmEnd = process.hrtime.bigint() + BigInt(Math.round(minTime * 1e9));
  for (let i = 0; i < warm || process.hrtime.bigint() < warmEnd; i++) fn();
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
