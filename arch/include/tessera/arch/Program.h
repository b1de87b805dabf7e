//===- Program.h - The program file: what the compiler hands the chip -----===//
//
// A program is the compiled network: the instruction stream, the DRAM image
// layout (where every input, output, weight and intermediate tensor lives),
// the initial contents of the weight tensors, and the layer names the report
// attributes time to. docs/program-format.md specifies the binary file.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_ARCH_PROGRAM_H
#define TESSERA_ARCH_PROGRAM_H

#include "tessera/arch/Isa.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tessera::arch {

enum class TensorKind : uint8_t {
  Input = 0,   ///< Filled by the caller before the frame.
  Output = 1,  ///< Read back by the caller after the frame.
  Weight = 2,  ///< Initial contents are in the program file.
  Scratch = 3, ///< Intermediate activation in DRAM.
};
const char *tensorKindName(TensorKind k);

/// A tensor in the DRAM image, stored dense and row-major.
struct TensorInfo {
  std::string name;
  TensorKind kind = TensorKind::Scratch;
  DType dtype = DType::F16;
  std::vector<int64_t> shape;
  uint64_t dramAddr = 0;
  std::vector<uint8_t> data; ///< Weight kind only: the initial bytes.

  uint64_t numElements() const;
  uint64_t byteSize() const { return numElements() * dtypeBytes(dtype); }
};

/// An SRAM range the compiler allocated to a layer's kernel (its buffer
/// table entry): instructions of `layer` may touch SRAM only inside their
/// layer's buffers (docs/program-format.md, version 2).
struct SramBuffer {
  uint32_t layer = 0;
  uint64_t addr = 0;
  uint64_t bytes = 0;
  uint64_t end() const { return addr + bytes; }
  bool operator==(const SramBuffer &o) const {
    return layer == o.layer && addr == o.addr && bytes == o.bytes;
  }
};

struct ChipConfig;

struct Program {
  static constexpr char kMagic[8] = {'T', 'S', 'R', 'P', 'R', 'O', 'G', '\0'};
  /// The newest version this build reads and writes; it also reads
  /// versions 1 (no buffer table, scratch tensors never share DRAM) and 2
  /// (one NPU). A program for one NPU is written as version 2, byte for
  /// byte as before version 3 existed (formatVersion()).
  static constexpr uint32_t kVersion = 3;
  /// Preamble flag (version 2): a buffer table follows the instructions.
  static constexpr uint32_t kFlagSramBuffers = 1;
  /// Preamble flag (version 3): an NPU table (the NPU count, then one NPU
  /// index per instruction) follows the buffer table.
  static constexpr uint32_t kFlagNpus = 2;
  /// Most NPUs a program may use (the config's `npus` range).
  static constexpr uint32_t kMaxNpus = 4;

  /// Documented limits (docs/limits-and-errors.md); the reader and the code
  /// generator both enforce them, so every program that can be written can
  /// be read and simulated.
  static constexpr uint64_t kMaxDramBytes = 4ull << 30; ///< DRAM image size.
  /// The DRAM image may extend past the last tensor by at most this much
  /// (the code generator rounds it up to a DRAM burst, at most 4096 bytes).
  static constexpr uint64_t kMaxDramPadding = 4096;
  static constexpr uint64_t kMaxSramBytes = 1ull << 30; ///< sram_bytes_used.
  static constexpr uint32_t kMaxInstructions = 1u << 24;
  static constexpr uint32_t kMaxTensors = 1u << 20;
  static constexpr uint32_t kMaxLayers = 1u << 20;
  static constexpr uint32_t kMaxRank = 8;
  static constexpr uint32_t kMaxNameBytes = 4096;
  static constexpr uint32_t kMaxSramBuffers = 1u << 24;

  std::string chipName; ///< Config the program was compiled for.
  /// NPUs the program runs on (1 .. kMaxNpus); each instruction's `npu` is
  /// below it. More than one is written as format version 3.
  uint32_t npus = 1;
  uint64_t sramBytesUsed = 0; ///< Highest SRAM byte address used + 1.
  uint64_t dramBytes = 0;     ///< Size of the DRAM image.
  std::vector<std::string> layers;
  std::vector<TensorInfo> tensors;
  std::vector<Instr> instrs;
  /// True when the program carries its SRAM allocation (`sramBuffers`): the
  /// simulator then fails any SRAM access outside its layer's buffers. A
  /// version 1 file, or a program built without one, is checked against the
  /// capacity only.
  bool hasSramBuffers = false;
  /// The buffer table, ordered by layer (then address).
  std::vector<SramBuffer> sramBuffers;
  /// True when the weights' bytes were not read (load(path, false)): the
  /// program can be timed but not run functionally.
  bool weightDataElided = false;

  /// Checks every invariant (operands in range, deps earlier, tensors inside
  /// the DRAM image, no tensor overlapping another except scratch tensors,
  /// which may share DRAM with each other (the compiler reuses DRAM by
  /// liveness), buffers inside the SRAM in use). Throws ContractError naming
  /// the instruction or tensor; `source` names the file.
  void verify(const std::string &source = "<program>") const;
  /// The format version serialize() writes: 3 with more than one NPU,
  /// otherwise 2.
  uint32_t formatVersion() const { return npus > 1 ? 3 : 2; }
  /// Checks that the program fits the chip it is about to run on
  /// (`sram_bytes_used <= sram_bytes`, `npus` <= the chip's). Throws
  /// ContractError.
  void checkFits(const ChipConfig &chip, const std::string &source) const;

  /// Serializes to the binary program file format.
  std::vector<uint8_t> serialize() const;
  /// Parses and verifies a program file's bytes. Throws ContractError.
  /// With `weightData` false the weights' bytes are checked for size but not
  /// copied (weightDataElided is set).
  static Program deserialize(const uint8_t *data, size_t size,
                             const std::string &source, bool weightData = true);
  /// Maps the file and parses it (deserialize); without `weightData` only the
  /// pages of the header and the instructions are read, so a timing-only
  /// simulation never holds the weights in memory.
  static Program load(const std::string &path, bool weightData = true);
  /// Writes through writeOutputFile (FileIo.h): a regular file or new path
  /// atomically (temporary file + rename), a device in place. Throws
  /// ContractError.
  void save(const std::string &path) const;
  /// The readable listing: header, tensors, and one instruction per line.
  std::string listing() const;

  const TensorInfo *findTensor(const std::string &name) const;
};

} // namespace tessera::arch

#endif // TESSERA_ARCH_PROGRAM_H
