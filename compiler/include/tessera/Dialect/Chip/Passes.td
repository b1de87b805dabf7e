//===- Passes.td - passes into the chip dialect ------------*- tablegen -*-===//
//
// Part of Tessera. tsr-lower-to-chip is the last rung of the lowering ladder:
// the fully decided tsr module (fused groups, tilings, SRAM plans) becomes
// the chip.program the chip runs (docs/lowering.md, "The chip dialect").
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_DIALECT_CHIP_PASSES_TD
#define TESSERA_DIALECT_CHIP_PASSES_TD

include "mlir/Pass/PassBase.td"

def TsrLowerToChip : Pass<"tsr-lower-to-chip", "mlir::ModuleOp"> {
  let summary = "Lower the decided tsr module into one chip.program";
  let description = [{
    Runs the code generator on the module's graph (tsr-expand-attention
    first, as code generation always did): every node and fused group
    becomes its kernel, tiled and placed as the IR records (`tsr.tiling`,
    `tsr.sram`), with DRAM tensors, SRAM buffers, NPU assignment and
    dependencies. The result replaces the module's contents: one
    `chip.program` named after the function, a `chip.tensor` per DRAM
    tensor (weights as resource blobs, FP16), a `chip.kernel` per program
    layer holding its `chip.buffer`s and one op per instruction, each
    waiting on the tokens of the instructions it depends on. Errors are
    the code generator's (a node that fits no SRAM, an op with no
    lowering).
  }];
  let options = [
    Option<"chipConfig", "chip-config", "std::string", /*default=*/"",
           "chip config file (default: the reference chip)">,
    Option<"sramBytes", "sram-bytes", "uint64_t", /*default=*/"0",
           "SRAM capacity in bytes, overriding the chip config's">,
  ];
  let dependentDialects = ["::tessera::chip::ChipDialect"];
}

#endif // TESSERA_DIALECT_CHIP_PASSES_TD
