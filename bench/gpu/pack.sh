#!/usr/bin/env bash
# Packs what the TypeScript device checks need on a lent GPU machine, which has no Node and no npm
# packages: this machine's node binary (xz), the few packages dist/ imports, in .gpu-carry/. Run it
# after `npm install` here; then carry .gpu-carry, dist and build/Release with the device run:
#   run(command: "bash bench/gpu/check.sh", carry: [".gpu-carry", "dist", "build/Release"])
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .gpu-carry
mkdir -p .gpu-carry/node_modules
xz -T0 -6 -c "$(command -v node)" > .gpu-carry/node.xz
# cli-progress (the Trainer's progress bar) and its dependencies
for p in cli-progress string-width emoji-regex is-fullwidth-code-point strip-ansi ansi-regex; do
  cp -r "node_modules/$p" .gpu-carry/node_modules/
done
du -sh .gpu-carry dist build/Release
