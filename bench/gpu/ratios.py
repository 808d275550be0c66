"""Joins tensorforge's kernel benchmark with PyTorch's (bench/gpu/check.sh) and prints one line per
benchmark: both rates and their ratio, plus the memory-bound ops as a share of the measured copy."""
import json
import sys


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if "bench" in r and "dtype" in r:
                rows[(r["bench"], r["dtype"], r["shape"])] = r
            elif r.get("bench") == "copy_ceiling":
                rows[("copy_ceiling", "", "")] = r
    return rows


def rate(r):
    return r.get("tflops", r.get("gbps"))


def main():
    ours, theirs = load(sys.argv[1]), load(sys.argv[2])
    copy = next((rate(r) for k, r in ours.items() if k[0] == "copy_ceiling"), None)
    print(f"{'benchmark':<16}{'dtype':<10}{'shape':<18}{'ours':>10}{'torch':>10}{'ratio':>8}  unit")
    for key, r in ours.items():
        if key[0] == "copy_ceiling":
            continue
        unit = "TFLOP/s" if "tflops" in r else "GB/s"
        t = theirs.get(key)
        ratio = f"{rate(r) / rate(t):.2f}" if t and rate(t) else "-"
        extra = f"  ({rate(r) / copy * 100:.0f}% of copy)" if copy and unit == "GB/s" else ""
        print(f"{key[0]:<16}{key[1]:<10}{key[2]:<18}{rate(r):>10.2f}{(rate(t) if t else float('nan')):>10.2f}{ratio:>8}  {unit}{extra}")
    if copy:
        print(f"copy ceiling (cudaMemcpy device to device, read + write): {copy:.1f} GB/s")


if __name__ == "__main__":
    main()
