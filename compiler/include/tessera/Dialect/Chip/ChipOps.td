//===- ChipOps.td - the chip dialect -------------------------*- tablegen -*-===//
//
// chip is the last rung of the lowering ladder (docs/lowering.md): the program
// the chip runs, as IR. A `chip.program` holds the DRAM tensor table
// (`chip.tensor`) and one `chip.kernel` per program layer; a kernel declares
// its SRAM buffers (`chip.buffer`) and holds its instructions, one op per
// instruction of the ISA (docs/isa.md), each returning a `!chip.token` and
// taking the tokens it waits for. `chip::emitProgram` translates it into the
// program file one op at a time, with no decision of its own.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_DIALECT_CHIP_CHIPOPS_TD
#define TESSERA_DIALECT_CHIP_CHIPOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpAsmInterface.td"

def Chip_Dialect : Dialect {
  let name = "chip";
  let cppNamespace = "::tessera::chip";
  let summary = "Tessera's chip-level dialect: the program the chip runs";
  let description = [{
    DMA transfers, SRAM buffers, matrix and vector operations, their queue
    and NPU, and the dependencies between them, as IR. Produced by
    `tsr-lower-to-chip` from the fully decided `tsr` module; emitted into
    the program file by a one-op-per-instruction translation
    (docs/lowering.md, "The chip dialect").
  }];
  let useDefaultTypePrinterParser = 1;
}

class Chip_Op<string mnemonic, list<Trait> traits = []>
    : Op<Chip_Dialect, mnemonic, traits>;

def Chip_TokenType : TypeDef<Chip_Dialect, "Token"> {
  let mnemonic = "token";
  let summary = "the completion of one instruction";
  let description = [{
    Each instruction op returns one; an instruction that lists a token among
    its operands issues only after that instruction has completed (its
    `deps` in the program file, docs/isa.md). A kernel passes the tokens
    later kernels wait for out as its results.
  }];
}

def Chip_DType : I32EnumAttr<"DType", "element type (arch::DType)", [
    I32EnumAttrCase<"f32", 0>, I32EnumAttrCase<"f16", 1>,
    I32EnumAttrCase<"i8", 2>, I32EnumAttrCase<"i32", 3>]> {
  let cppNamespace = "::tessera::chip";
}

def Chip_TensorKind : I32EnumAttr<"TensorKind",
    "what a DRAM tensor holds (arch::TensorKind)", [
    I32EnumAttrCase<"input", 0>, I32EnumAttrCase<"output", 1>,
    I32EnumAttrCase<"weight", 2>, I32EnumAttrCase<"scratch", 3>]> {
  let cppNamespace = "::tessera::chip";
}

//===----------------------------------------------------------------------===//
// Program structure
//===----------------------------------------------------------------------===//

def Chip_ProgramOp : Chip_Op<"program", [IsolatedFromAbove, Symbol,
    SingleBlock, NoTerminator]> {
  let summary = "the program for one chip: DRAM tensors and kernels";
  let description = [{
    ```mlir
    chip.program @main chip "reference" npus 1 sram 4096 dram 1024 {
      chip.tensor "x" input f16 [4, 8] at 0 bytes 64
      chip.tensor "w" weight f16 [8, 8] at 64 bytes 128 data dense_resource<w> : tensor<8x8xf16>
      chip.tensor "y" output f16 [4, 8] at 192 bytes 64
      %k = chip.kernel "/MatMul" {
        chip.buffer offset 0 bytes 64
        chip.buffer offset 64 bytes 128
        chip.buffer offset 192 bytes 64
        %0 = chip.dma_load dram 0 stride 16 -> sram 0 stride 16 rows 4 x 16
        %1 = chip.dma_load dram 64 stride 16 -> sram 64 stride 16 rows 8 x 16
        %2 = chip.matmul f16 m 4 k 8 n 8 a 0 stride 8 b 64 stride 8 out 192 stride 8 f16 acc 0 stride 0 f32 after(%0, %1)
        %3 = chip.dma_store sram 192 stride 16 -> dram 192 stride 16 rows 4 x 16 after(%2)
        chip.yield %3 : !chip.token
      } -> !chip.token
    }
    ```
    `chip` is the chip config the program was compiled for, `npus` the
    NPUs it runs on, `sram` the highest SRAM byte used + 1, `dram` the
    size of the DRAM image. The body holds the `chip.tensor` table, then
    one `chip.kernel` per program layer in program order; instructions
    are numbered in the order the kernels hold them. The verifier checks
    the whole program against the arch contract (`arch::Program::verify`
    on the program `chip::emitProgram` would write) and every operand
    against the declared tensors and buffers.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$chip,
                       I32Attr:$npus, I64Attr:$sram_bytes_used,
                       I64Attr:$dram_bytes);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $sym_name `chip` $chip `npus` $npus `sram` $sram_bytes_used
    `dram` $dram_bytes attr-dict-with-keyword $body
  }];
  let hasRegionVerifier = 1;
}

def Chip_TensorOp : Chip_Op<"tensor", [HasParent<"ProgramOp">]> {
  let summary = "a tensor of the DRAM image";
  let description = [{
    ```mlir
    chip.tensor "x" input f16 [1, 16, 32] at 0 bytes 1024
    chip.tensor "w" weight f16 [32, 32] at 1024 bytes 2048 data dense_resource<w> : tensor<32x32xf16>
    ```
    Dense and row-major at DRAM address `at`; `bytes` is the element count
    times the element size. A weight carries its initial contents (`data`,
    elements of the tensor's type, usually a `dense_resource` blob so that
    the bytes are held once and printing can elide them); no other kind
    does.
  }];
  let arguments = (ins StrAttr:$name, Chip_TensorKind:$kind,
                       Chip_DType:$dtype, DenseI64ArrayAttr:$shape,
                       I64Attr:$addr, I64Attr:$bytes,
                       OptionalAttr<ElementsAttr>:$data);
  let assemblyFormat = [{
    $name $kind $dtype $shape `at` $addr `bytes` $bytes
    (`data` $data^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Chip_KernelOp : Chip_Op<"kernel", [HasParent<"ProgramOp">,
    SingleBlockImplicitTerminator<"YieldOp">,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>]> {
  let summary = "one program layer: its SRAM buffers and its instructions";
  let description = [{
    ```mlir
    %k:2 = chip.kernel "/ln1/LayerNormalization" {
      chip.buffer offset 0 bytes 4096
      %0 = chip.dma_load dram 0 stride 64 -> sram 0 stride 64 rows 64 x 64
      ...
      chip.yield %5, %9 : !chip.token, !chip.token
    } -> !chip.token, !chip.token
    ```
    `name` is the layer's name in the report. The `chip.buffer`s are the
    layer's SRAM buffer table; every SRAM operand of the kernel's
    instructions lies inside one of them (in the SRAM of each NPU that
    runs the kernel). The results are the tokens of the instructions later
    kernels wait for (`chip.yield`).
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Variadic<Chip_TokenType>:$tokens);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $name attr-dict-with-keyword $body (`->` type($tokens)^)?
  }];
  let skipDefaultBuilders = 1;
  let builders = [OpBuilder<(ins "::llvm::StringRef":$name,
                                 "unsigned":$numTokens)>];
}

def Chip_YieldOp : Chip_Op<"yield", [Pure, Terminator,
    HasParent<"KernelOp">]> {
  let summary = "the tokens a kernel passes to later kernels";
  let arguments = (ins Variadic<Chip_TokenType>:$tokens);
  let assemblyFormat = "attr-dict ($tokens^ `:` type($tokens))?";
  let builders = [OpBuilder<(ins), [{ /* no tokens */ }]>];
  let hasVerifier = 1;
}

def Chip_BufferOp : Chip_Op<"buffer", [HasParent<"KernelOp">]> {
  let summary = "an SRAM buffer of the kernel (buffer table entry)";
  let description = [{
    ```mlir
    chip.buffer offset 4096 bytes 2048
    ```
    `bytes` bytes at SRAM address `offset` (in the SRAM of each NPU that
    runs the kernel), in the order the code generator allocated them.
  }];
  let arguments = (ins I64Attr:$offset, I64Attr:$bytes);
  let assemblyFormat = "`offset` $offset `bytes` $bytes attr-dict";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Instructions
//===----------------------------------------------------------------------===//

class Chip_InstrOp<string mnemonic, list<Trait> traits = []>
    : Chip_Op<mnemonic, !listconcat(traits, [HasParent<"KernelOp">,
        DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>])> {
  let results = (outs Chip_TokenType:$token);
}

class Chip_DmaOp<string mnemonic, string what> : Chip_InstrOp<mnemonic> {
  let summary = what;
  let arguments = (ins Variadic<Chip_TokenType>:$deps, I64Attr:$dram,
                       I64Attr:$sram, I32Attr:$rows, I32Attr:$row_bytes,
                       I32Attr:$dram_stride, I32Attr:$sram_stride,
                       DefaultValuedAttr<I32Attr, "0">:$npu);
}

def Chip_DmaLoadOp : Chip_DmaOp<"dma_load",
    "copy rows from DRAM to SRAM (dma.load, load queue)"> {
  let description = [{
    ```mlir
    %0 = chip.dma_load dram 4096 stride 192 -> sram 0 stride 32 rows 16 x 32 after(%k#1)
    ```
    `rows` rows of `row_bytes` bytes (`rows x row_bytes`), DRAM rows
    `stride` bytes apart, SRAM rows `stride` bytes apart; on the load
    queue of NPU `npu` (printed when not 0).
  }];
  let assemblyFormat = [{
    `dram` $dram `stride` $dram_stride `->` `sram` $sram `stride` $sram_stride
    `rows` $rows `x` $row_bytes `on` `load` (`npu` $npu^)?
    (`after` `(` $deps^ `)`)? attr-dict
  }];
}

def Chip_DmaStoreOp : Chip_DmaOp<"dma_store",
    "copy rows from SRAM to DRAM (dma.store, store queue)"> {
  let description = [{
    ```mlir
    %3 = chip.dma_store sram 192 stride 16 -> dram 192 stride 16 rows 4 x 16 on store after(%2)
    ```
    As `chip.dma_load`, the other way; on the store queue.
  }];
  let assemblyFormat = [{
    `sram` $sram `stride` $sram_stride `->` `dram` $dram `stride` $dram_stride
    `rows` $rows `x` $row_bytes `on` `store` (`npu` $npu^)?
    (`after` `(` $deps^ `)`)? attr-dict
  }];
}

def Chip_DmaGatherOp : Chip_InstrOp<"dma_gather"> {
  let summary = "indexed DMA: table rows named by SRAM indices (dma.gather)";
  let description = [{
    ```mlir
    %1 = chip.dma_gather table 8192 rows 1000 stride 128 index 0 -> sram 256 stride 128 rows 32 x 128 on load after(%0)
    ```
    Reads `rows` int32 indices at SRAM `index`, copies table row `idx[r]`
    (`table_rows` rows `table_stride` bytes apart at DRAM `table`) to SRAM
    `sram + r * sram_stride` (docs/isa.md); on the load queue.
  }];
  let arguments = (ins Variadic<Chip_TokenType>:$deps, I64Attr:$table,
                       I32Attr:$table_rows, I32Attr:$table_stride,
                       I64Attr:$index, I64Attr:$sram, I32Attr:$sram_stride,
                       I32Attr:$rows, I32Attr:$row_bytes,
                       DefaultValuedAttr<I32Attr, "0">:$npu);
  let assemblyFormat = [{
    `table` $table `rows` $table_rows `stride` $table_stride `index` $index
    `->` `sram` $sram `stride` $sram_stride `rows` $rows `x` $row_bytes
    `on` `load` (`npu` $npu^)? (`after` `(` $deps^ `)`)? attr-dict
  }];
}

def Chip_MatMulOp : Chip_InstrOp<"matmul"> {
  let summary = "matrix-unit product out = a * b (+ acc) (mm.matmul)";
  let description = [{
    ```mlir
    %2 = chip.matmul f16 m 16 k 16 n 16 a 0 stride 16 b 512 stride 16 out 1024 stride 16 f32 acc 0 stride 0 f32 transpose_b on compute after(%0, %1)
    ```
    `a` (m x k), `b` (k x n, or n x k with `transpose_b`) of element type
    `dtype`, `out` (m x n) of its type after the stride, `acc` (m x n, its
    type) added with `accumulate`; addresses in SRAM, strides in
    elements. On the compute queue.
  }];
  let arguments = (ins Variadic<Chip_TokenType>:$deps, Chip_DType:$dtype,
                       I32Attr:$m, I32Attr:$k, I32Attr:$n,
                       I64Attr:$a, I32Attr:$a_stride,
                       I64Attr:$b, I32Attr:$b_stride,
                       I64Attr:$out, I32Attr:$out_stride,
                       Chip_DType:$out_dtype,
                       I64Attr:$acc, I32Attr:$acc_stride,
                       Chip_DType:$acc_dtype,
                       UnitAttr:$accumulate, UnitAttr:$transpose_b,
                       DefaultValuedAttr<I32Attr, "0">:$npu);
  let assemblyFormat = [{
    $dtype `m` $m `k` $k `n` $n `a` $a `stride` $a_stride
    `b` $b `stride` $b_stride `out` $out `stride` $out_stride $out_dtype
    `acc` $acc `stride` $acc_stride $acc_dtype
    (`accumulate` $accumulate^)? (`transpose_b` $transpose_b^)?
    `on` `compute` (`npu` $npu^)? (`after` `(` $deps^ `)`)? attr-dict
  }];
}

def Chip_VecOp : Chip_InstrOp<"vec"> {
  let summary = "one vector-unit instruction, its opcode named by the ISA";
  let description = [{
    ```mlir
    %4 = chip.vec "vec.softmax" f32 -> f16 rows 16 cols 16 a 1536 a_stride 16 out 2560 out_stride 16 on compute after(%3)
    %5 = chip.vec "vec.add" f16 -> f16 rows 4 cols 8 a 0 a_stride 8 b 64 out 128 out_stride 8 bcast_row on compute
    ```
    `kind` is the opcode's name in the ISA (`arch::opcodeName`: every
    vector opcode, present and future, without a change to this dialect).
    Operands `a`, `b`, `out`, `c` (addresses 0..3 of the instruction:
    `c` is layernorm's beta and select's third operand) with their row
    strides in elements, `rows` x `cols` (and `dim2`), the immediate
    `imm`, the broadcast flags; fields equal to 0 are not printed. The
    queue is the opcode's (`arch::opcodeQueue`), printed after `on` and
    checked when parsed.
  }];
  let arguments = (ins Variadic<Chip_TokenType>:$deps, StrAttr:$kind,
                       Chip_DType:$dtype, Chip_DType:$out_dtype,
                       I32Attr:$rows, I32Attr:$cols,
                       DefaultValuedAttr<I32Attr, "0">:$dim2,
                       DefaultValuedAttr<I64Attr, "0">:$a,
                       DefaultValuedAttr<I32Attr, "0">:$a_stride,
                       DefaultValuedAttr<I64Attr, "0">:$b,
                       DefaultValuedAttr<I32Attr, "0">:$b_stride,
                       DefaultValuedAttr<I64Attr, "0">:$out,
                       DefaultValuedAttr<I32Attr, "0">:$out_stride,
                       DefaultValuedAttr<I64Attr, "0">:$c,
                       DefaultValuedAttr<I32Attr, "0">:$c_stride,
                       DefaultValuedAttr<F32Attr, "0.0f">:$imm,
                       UnitAttr:$bcast_row, UnitAttr:$bcast_col,
                       UnitAttr:$bcast_scalar,
                       DefaultValuedAttr<I32Attr, "0">:$npu);
  let assemblyFormat = [{
    $kind $dtype `->` $out_dtype `rows` $rows `cols` $cols
    (`dim2` $dim2^)? (`a` $a^)? (`a_stride` $a_stride^)?
    (`b` $b^)? (`b_stride` $b_stride^)? (`out` $out^)?
    (`out_stride` $out_stride^)? (`c` $c^)? (`c_stride` $c_stride^)?
    (`imm` $imm^)? (`bcast_row` $bcast_row^)? (`bcast_col` $bcast_col^)?
    (`bcast_scalar` $bcast_scalar^)?
    `on` custom<VecQueue>(ref($kind)) (`npu` $npu^)?
    (`after` `(` $deps^ `)`)? attr-dict
  }];
}

#endif // TESSERA_DIALECT_CHIP_CHIPOPS_TD
