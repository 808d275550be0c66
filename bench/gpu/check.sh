#!/usr/bin/env bash
# For a lent GPU machine (CMake, nvcc and PyTorch; no Node, no internet): builds the native tools
# with the CUDA backend, runs the parity runner (every op, cpu and cuda, against the reference), the
# kernel benchmark and PyTorch on the same shapes, the TypeScript device checks where bench/gpu/pack.sh
# packed a node binary to carry, and prints a table of ratios last.
# Results go to $OUT (the device tool's output folder) or bench/results/gpu-<date>/.
#   bash bench/gpu/check.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-bench/results/gpu-$(date +%F)}
mkdir -p "$out"
arch=${TENSORFORGE_CUDA_ARCHS:-90}  # the card here only: a full 80/86/89/90 build is CI's job
echo "== build (sm_$arch)"
if ! { cmake -S . -B build-gpu -DTENSORFORGE_ADDON=OFF -DTENSORFORGE_TOOLS=ON -DTENSORFORGE_CUDA=on -DTENSORFORGE_WERROR=ON \
         -DTENSORFORGE_CUDA_ARCHS="$arch" && cmake --build build-gpu -j "$(nproc)"; } > "$out/build.log" 2>&1; then
  tail -60 "$out/build.log"
  exit 1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$out/gpu.txt"
echo "== parity (failures and the summary)"
timeout 240 build-gpu/tools/tf_parity_cuda --backend all > "$out/parity.jsonl" 2>&1
echo "parity exit status $?" >> "$out/parity.jsonl"
grep -v '"pass":true' "$out/parity.jsonl" | head -60
timeout 60 build-gpu/tools/tf_parity_cuda --backend cuda --tf32 --quiet 2>&1 | tee "$out/parity_tf32.jsonl" | tail -5
echo "== kernel benchmark"
timeout 200 build-gpu/tools/tf_bench_cuda --backend cuda 2>&1 | tee "$out/bench.jsonl"
echo "== PyTorch on the same shapes"
timeout 150 python3 bench/gpu/torch_bench.py 2>&1 | tee "$out/torch.jsonl"
if [ -f .gpu-carry/node.xz ]; then  # packed by bench/gpu/pack.sh
  echo "== TypeScript device checks (carried node)"
  xz -dc .gpu-carry/node.xz > /tmp/tf-node && chmod +x /tmp/tf-node
  [ -e node_modules ] || ln -s .gpu-carry/node_modules node_modules
  timeout 180 /tmp/tf-node bench/gpu/device_checks_main.mjs 2>&1 | tee "$out/device_checks.jsonl"
fi
echo "== ratios (tensorforge / PyTorch)"
python3 bench/gpu/ratios.py "$out/bench.jsonl" "$out/torch.jsonl" | tee "$out/ratios.txt"
