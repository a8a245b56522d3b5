"""Adds intermediate values of an ONNX model as graph outputs (for bench/runtime_parity).
usage: /usr/bin/python3 bench/add_outputs.py IN.onnx OUT.onnx [--every K] [--ops Op1,Op2]"""
import argparse
import onnx
from onnx import shape_inference

ap = argparse.ArgumentParser()
ap.add_argument("src"); ap.add_argument("dst")
ap.add_argument("--every", type=int, default=1)
ap.add_argument("--ops", default="")
a = ap.parse_args()
m = onnx.load(a.src)
m = shape_inference.infer_shapes(m)
known = {v.name: v for v in m.graph.value_info}
have = {o.name for o in m.graph.output}
ops = set(a.ops.split(",")) if a.ops else None
k = 0
for n in m.graph.node:
    if n.op_type == "Constant" or (ops and n.op_type not in ops):
        continue
    k += 1
    if k % a.every:
        continue
    for o in n.output:
        if o and o not in have and o in known and known[o].type.tensor_type.elem_type == 1:
            m.graph.output.append(known[o]); have.add(o)
onnx.save(m, a.dst)
print(len(m.graph.output), "outputs")
