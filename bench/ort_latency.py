"""onnxruntime latency of an exported tensorforge classifier (float32, and onnxruntime's own dynamic
int8 quantisation of it): one JSON line per figure, to set beside `tensorforge compress`'s table.

usage: .peers/bin/python bench/ort_latency.py MODEL.onnx [THREADS]
"""
import json
import os
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic


def median_ms(fn, seconds=1.0):
    fn()
    times, end = [], time.perf_counter() + seconds
    while len(times) < 3 or (time.perf_counter() < end and len(times) < 200):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return sorted(times)[len(times) // 2]


def main():
    path, threads = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2
    int8 = os.path.join(tempfile.mkdtemp(), "model.int8.onnx")
    quantize_dynamic(path, int8, weight_type=QuantType.QInt8)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    for name, p in (("f32", path), ("int8_dynamic", int8)):
        s = ort.InferenceSession(p, so, providers=["CPUExecutionProvider"])
        for b in (1, 32):
            feed = {"tokens": np.random.randint(1, 1000, (b, 128)).astype(np.int32), "key_padding_mask": np.zeros((b, 128), np.uint8)}
            ms = median_ms(lambda: s.run(None, feed))
            print(json.dumps({"w": "infer_ort", "dtype": name, "batch": b, "seq": 128, "ms": ms, "bytes": os.path.getsize(p), "threads": threads}))


if __name__ == "__main__":
    main()
