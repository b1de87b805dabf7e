#!/usr/bin/env bash
# Makes the bad inputs of the end-to-end error tests in directory $2 from the
# bundled model, using the tessera binary $1.
set -euo pipefail
tessera=$1; out=$2; root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
model=$root/models/encoder_layer/encoder_layer.onnx
# A truncated ONNX file: the first 1000 bytes of a real one.
head -c 1000 "$model" > "$out/truncated.onnx"
# Configs: the reference with one field dropped / negated.
grep -v '^sram_bytes' "$root/arch/configs/reference.cfg" > "$out/missing_field.cfg"
sed 's/^dram_bandwidth_gbps = .*/dram_bandwidth_gbps = -68/' \
  "$root/arch/configs/reference.cfg" > "$out/negative_field.cfg"
# Not TOML: an unquoted name (as the plain key = value files of old wrote it),
# and a line without a value.
sed 's/^name = .*/name = reference/' \
  "$root/arch/configs/reference.cfg" > "$out/unquoted_name.cfg"
sed 's/^clock_ghz = .*/clock_ghz =/' \
  "$root/arch/configs/reference.cfg" > "$out/no_value.cfg"
# The model without its tensors.txt next to it (no inputs known).
cp "$model" "$out/lone.onnx"
# Programs: a good one, then a bad magic and a bad version.
"$tessera" compile "$model" -o "$out/good.tsrp" > /dev/null
cp "$out/good.tsrp" "$out/bad_magic.tsrp"
printf 'XXXX' | dd of="$out/bad_magic.tsrp" bs=1 seek=0 conv=notrunc status=none
cp "$out/good.tsrp" "$out/bad_version.tsrp"
printf '\x09' | dd of="$out/bad_version.tsrp" bs=1 seek=8 conv=notrunc status=none
head -c 500 "$out/good.tsrp" > "$out/truncated.tsrp"
# A program for two NPUs (a chip whose slow matrix unit makes the split pay),
# to be simulated on the one-NPU reference chip.
sed -e 's/^matrix_fp16_rate_divisor = .*/matrix_fp16_rate_divisor = 16/' \
  "$root/arch/configs/two-npus.cfg" > "$out/two_npus_slow_matrix.cfg"
"$tessera" compile "$model" --config "$out/two_npus_slow_matrix.cfg" \
  -o "$out/two_npus.tsrp" > /dev/null
echo "made bad inputs in $out"
