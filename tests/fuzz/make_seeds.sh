#!/bin/sh
# Seed corpora of the fuzz targets, from the repo's own files:
#   program/  programs compiled from the bundled models (tessera compile):
#             the reference chip, a 64 KiB SRAM and two NPUs (format v3,
#             a 512^3 product: needs the onnx module of TESSERA_PYTHON)
#   config/   arch/configs/*.cfg and the chip configs of the tests
#   onnx/     every .onnx under models/ and tests/ up to 4 MiB, and the
#             importer tests' textproto models encoded by protoc
# Usage: make_seeds.sh SOURCE_DIR TESSERA OUT_DIR
set -eu
src=$1; tessera=$2; out=$3
rm -rf "$out"; mkdir -p "$out/program" "$out/config" "$out/onnx"
"$tessera" compile "$src/models/encoder_layer/encoder_layer.onnx" \
  -o "$out/program/encoder_layer.tsrp" > /dev/null
for cfg in "$src"/arch/configs/*.cfg; do cp "$cfg" "$out/config/"; done
sed 's/^sram_bytes = .*/sram_bytes = 65536/' "$src/arch/configs/reference.cfg" \
  > "$out/config/small-sram.cfg"
"$tessera" compile "$src/models/encoder_layer/encoder_layer.onnx" \
  --config "$out/config/small-sram.cfg" -o "$out/program/small-sram.tsrp" \
  > /dev/null
# Two NPUs: a program of format v3, with its NPU table: a compute-bound
# 512x512x512 product of two inputs, which the cost model splits across the
# NPUs (2 KB: no weights, so the campaign runs at the small seeds' speed).
python=${TESSERA_PYTHON:-/usr/bin/python3}
if "$python" -c 'import onnx' 2> /dev/null; then
  "$python" - "$out/matmul-512.onnx" << 'EOF'
import sys
from onnx import TensorProto, helper, save
io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [512, 512])
      for n in "aby"]
graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["y"])],
                          "matmul", io[:2], io[2:])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
     sys.argv[1])
EOF
  "$tessera" compile "$out/matmul-512.onnx" \
    --config "$src/arch/configs/two-npus.cfg" \
    -o "$out/program/two-npus.tsrp" > /dev/null
  rm -f "$out/matmul-512.onnx"
else
  echo "make_seeds.sh: no onnx module in $python: no two-NPU program seed" >&2
fi
# Up to 4 MiB: the bundled encoder layer (3 MiB) is the main seed.
find "$src/models" "$src/tests" -name '*.onnx' -size -4096k | while read -r f; do
  cp "$f" "$out/onnx/$(basename "$(dirname "$f")")-$(basename "$f")"
done
# The importer tests' small models (textproto fixtures), through protoc.
if command -v protoc > /dev/null; then
  for t in "$src"/compiler/test/import/Inputs/*.textproto; do
    protoc --encode=onnx.ModelProto -I/usr/include onnx/onnx.proto < "$t" \
      > "$out/onnx/$(basename "$t" .textproto).onnx" 2>/dev/null ||
      rm -f "$out/onnx/$(basename "$t" .textproto).onnx"
  done
fi
echo "seeds: $(ls "$out/program" | wc -l) programs, $(ls "$out/config" | wc -l) configs, $(ls "$out/onnx" | wc -l) ONNX models in $out"
