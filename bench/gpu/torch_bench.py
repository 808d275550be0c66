"""PyTorch on the shapes of native/tools/kernel_bench.cpp, printing the same JSON lines, so
bench/gpu/ratios.py can divide one by the other. bf16 matmul (cuBLAS), scaled_dot_product_attention
(flash backend) forward and backward, LayerNorm, softmax, fused AdamW and a device copy."""
import json
import math

import torch
import torch.nn.functional as F


def timed(fn, min_seconds=0.5):
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    reps, total = 0, 0.0
    while total < min_seconds * 1e3 or reps < 3:
        start.record()
        for _ in range(4):
            fn()
        end.record()
        end.synchronize()
        total += start.elapsed_time(end)
        reps += 4
    return total / reps / 1e3


def report(name, dtype, shape, s, unit, amount):
    scale = 1e12 if unit == "tflops" else 1e9
    print(json.dumps({"bench": name, "backend": "torch", "dtype": dtype, "shape": shape, "ms": round(s * 1e3, 4),
                      unit: round(amount / s / scale, 2)}), flush=True)


def main():
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = "cuda"
    for n in (4096, 8192):
        for name, dt, dtn in (("matmul", torch.bfloat16, "bfloat16"), ("linear", torch.bfloat16, "bfloat16"),
                              ("matmul", torch.float32, "float32")):
            a = torch.randn(n, n, device=dev, dtype=dt)
            b = torch.randn(n, n, device=dev, dtype=dt)
            fn = (lambda: a @ b) if name == "matmul" else (lambda: F.linear(a, b))
            report(name, dtn, f"{n}x{n}x{n}", timed(fn), "tflops", 2.0 * n ** 3)
        a = torch.randn(n, n, device=dev)
        b = torch.randn(n, n, device=dev)
        torch.backends.cuda.matmul.allow_tf32 = True
        report("matmul_tf32", "float32", f"{n}x{n}x{n}", timed(lambda: a @ b), "tflops", 2.0 * n ** 3)
        torch.backends.cuda.matmul.allow_tf32 = False
    for B, H, S, D in ((8, 16, 1024, 64), (4, 16, 2048, 128)):
        q, k, v = (torch.randn(B, H, S, D, device=dev, dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
        flops = 4.0 * B * H * S * S * D
        with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.FLASH_ATTENTION):
            report("attention_fwd", "bfloat16", f"{B},{H},{S},{D}", timed(lambda: F.scaled_dot_product_attention(q, k, v)), "tflops", flops)
            o = F.scaled_dot_product_attention(q, k, v)
            g = torch.randn_like(o)
            s = timed(lambda: torch.autograd.grad(o, (q, k, v), g, retain_graph=True))
            report("attention_bwd", "bfloat16", f"{B},{H},{S},{D}", s, "tflops", 2.5 * flops)
    rows, d = 16384, 1024
    x = torch.randn(rows, d, device=dev)
    w, bias = torch.randn(d, device=dev), torch.randn(d, device=dev)
    nbytes = 2.0 * rows * d * 4
    report("layer_norm", "float32", f"{rows}x{d}", timed(lambda: F.layer_norm(x, (d,), w, bias, 1e-5)), "gbps", nbytes)
    report("softmax", "float32", f"{rows}x{d}", timed(lambda: torch.softmax(x, -1)), "gbps", nbytes)
    report("copy_op", "float32", f"{rows}x{d}", timed(lambda: x.clone()), "gbps", nbytes)
    n = 1 << 26
    p = torch.nn.Parameter(torch.rand(n, device=dev))
    p.grad = torch.rand(n, device=dev)
    opt = torch.optim.AdamW([p], lr=1e-3, weight_decay=0.01, fused=True)
    report("adamw", "float32", str(n), timed(opt.step), "gbps", 7.0 * n * 4)


if __name__ == "__main__":
    main()
