//===- ProgramTest.cpp - Program file round trip, checks and bad input ----===//

#include "tessera/arch/Program.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Error.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>

using namespace tessera::arch;

namespace {

/// A small but complete program: load two tiles, multiply, layernorm, store.
Program sample() {
  Program p;
  p.chipName = "reference";
  p.layers = {"/matmul", "/ln"};
  p.dramBytes = 4096;
  p.sramBytesUsed = 4096;
  TensorInfo x{"x", TensorKind::Input, DType::F16, {4, 8}, 0, {}};
  TensorInfo w{"w", TensorKind::Weight, DType::F16, {8, 8}, 64, {}};
  w.data.resize(128);
  for (size_t i = 0; i < w.data.size(); ++i)
    w.data[i] = uint8_t(i * 7);
  TensorInfo y{"y", TensorKind::Output, DType::F16, {4, 8}, 192, {}};
  p.tensors = {x, w, y};

  Instr loadX;
  loadX.op = Opcode::DmaLoad;
  loadX.dims[0] = 4;
  loadX.dims[1] = 16;
  loadX.strides[0] = 16;
  loadX.strides[1] = 16;
  loadX.addr[1] = 0;
  Instr loadW = loadX;
  loadW.addr[0] = 64;
  loadW.addr[1] = 256;
  loadW.dims[0] = 8;
  Instr mm;
  mm.op = Opcode::MatMul;
  mm.dims[0] = 4;
  mm.dims[1] = 8;
  mm.dims[2] = 8;
  mm.addr[0] = 0;
  mm.addr[1] = 256;
  mm.addr[2] = 512;
  mm.strides[0] = mm.strides[1] = mm.strides[2] = 8;
  mm.deps = {0, 1};
  Instr ln;
  ln.op = Opcode::VecLayerNorm;
  ln.layer = 1;
  ln.dims[0] = 4;
  ln.dims[1] = 8;
  ln.addr[0] = 512;
  ln.addr[1] = 1024;
  ln.addr[3] = 1040;
  ln.addr[2] = 2048;
  ln.strides[0] = ln.strides[2] = 8;
  ln.imm = 1e-5f;
  ln.deps = {2};
  Instr store;
  store.op = Opcode::DmaStore;
  store.layer = 1;
  store.addr[0] = 192;
  store.addr[1] = 2048;
  store.dims[0] = 4;
  store.dims[1] = 16;
  store.strides[0] = store.strides[1] = 16;
  store.deps = {3};
  p.instrs = {loadX, loadW, mm, ln, store};
  return p;
}

std::string errorOf(const std::vector<uint8_t> &bytes) {
  try {
    Program::deserialize(bytes.data(), bytes.size(), "p.tsrp");
  } catch (const ContractError &e) {
    return e.what();
  }
  return "";
}

TEST(Program, RoundTripsThroughBytes) {
  Program p = sample();
  p.verify();
  std::vector<uint8_t> bytes = p.serialize();
  Program q = Program::deserialize(bytes.data(), bytes.size(), "mem");
  EXPECT_EQ(q.serialize(), bytes);
  EXPECT_EQ(q.listing(), p.listing());
  ASSERT_EQ(q.instrs.size(), 5u);
  EXPECT_EQ(q.instrs[2].deps, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(q.tensors[1].data, p.tensors[1].data);
  EXPECT_FLOAT_EQ(q.instrs[3].imm, 1e-5f);
}

TEST(Program, SavesAtomicallyAndLoads) {
  std::string path = ::testing::TempDir() + "/roundtrip.tsrp";
  sample().save(path);
  EXPECT_EQ(Program::load(path).serialize(), sample().serialize());
  std::remove(path.c_str());
}

TEST(Program, LoadsWithoutTheWeightData) {
  // Timing-only simulation: the weights' bytes stay in the file.
  std::string path = ::testing::TempDir() + "/noweights.tsrp";
  Program p = sample();
  p.save(path);
  Program q = Program::load(path, /*weightData=*/false);
  EXPECT_TRUE(q.weightDataElided);
  EXPECT_FALSE(Program::load(path).weightDataElided);
  ASSERT_EQ(q.tensors.size(), p.tensors.size());
  for (size_t i = 0; i < q.tensors.size(); ++i) {
    EXPECT_TRUE(q.tensors[i].data.empty()) << q.tensors[i].name;
    EXPECT_EQ(q.tensors[i].dramAddr, p.tensors[i].dramAddr);
  }
  ASSERT_EQ(q.instrs.size(), p.instrs.size());
  EXPECT_EQ(q.instrs.back().toString(), p.instrs.back().toString());
  std::remove(path.c_str());
}

TEST(Program, ListingShowsLayersAndInstructions) {
  std::string l = sample().listing();
  EXPECT_NE(l.find("; layer 0: /matmul"), std::string::npos) << l;
  EXPECT_NE(l.find("mm.matmul.f16 m=4 k=8 n=8"), std::string::npos) << l;
  EXPECT_NE(l.find("deps=0,1"), std::string::npos) << l;
  EXPECT_NE(l.find("weight   w : f16[8x8] @ dram 0x40 (128 bytes)"),
            std::string::npos)
      << l;
}

TEST(Program, BadMagic) {
  std::vector<uint8_t> bytes = sample().serialize();
  bytes[0] = 'X';
  EXPECT_NE(errorOf(bytes).find("bad magic"), std::string::npos);
}

TEST(Program, UnsupportedVersion) {
  std::vector<uint8_t> bytes = sample().serialize();
  bytes[8] = 99;
  EXPECT_NE(errorOf(bytes).find("unsupported program format version 99"),
            std::string::npos)
      << errorOf(bytes);
}

TEST(Program, EveryTruncationIsAClearError) {
  std::vector<uint8_t> bytes = sample().serialize();
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
    std::string err = errorOf(cut);
    EXPECT_NE(err, "") << "truncated to " << n << " bytes was accepted";
    EXPECT_EQ(err.rfind("p.tsrp: ", 0), 0u) << err;
  }
}

TEST(Program, ImplausibleCountIsRejectedBeforeAllocating) {
  Program p;
  p.chipName = "c";
  std::vector<uint8_t> bytes = p.serialize();
  // The instruction count is the last field of an empty program.
  uint32_t huge = 0xffffffffu;
  std::memcpy(bytes.data() + bytes.size() - 4, &huge, 4);
  EXPECT_NE(errorOf(bytes).find("implausible instruction count"),
            std::string::npos)
      << errorOf(bytes);
}

TEST(Program, VerifierNamesTheInstruction) {
  Program p = sample();
  p.instrs[2].addr[2] = 4050; // out (64 bytes) runs past the SRAM in use
  try {
    p.verify("p.tsrp");
    FAIL();
  } catch (const ContractError &e) {
    EXPECT_STREQ(e.what(), "p.tsrp: instruction 2 (mm.matmul): operand out "
                           "extends past the SRAM in use (4096 bytes)");
  }
  p = sample();
  p.instrs[1].deps = {1};
  EXPECT_THROW(p.verify(), ContractError);
  p = sample();
  p.instrs[0].op = Opcode(200);
  EXPECT_THROW(p.verify(), ContractError);
  p = sample();
  p.tensors[2].dramAddr = 100; // overlaps w
  EXPECT_THROW(p.verify(), ContractError);
  p = sample();
  p.tensors[1].data.pop_back();
  EXPECT_THROW(p.verify(), ContractError);
  p = sample();
  p.instrs[0].addr[0] = ~0ull - 8; // DRAM address overflow
  EXPECT_THROW(p.verify(), ContractError);
}

TEST(Program, ExpRoundTripsAndTheNextOpcodeIsRejected) {
  // vec.exp (opcode 31, the last) is read back; 32 is an unknown opcode.
  Program p = sample();
  p.instrs[3].op = Opcode::VecExp;
  p.instrs[3].dtype = DType::F32;
  p.instrs[3].imm = 0;
  p.verify();
  std::vector<uint8_t> bytes = p.serialize();
  Program q = Program::deserialize(bytes.data(), bytes.size(), "mem");
  EXPECT_EQ(q.instrs[3].op, Opcode::VecExp);
  EXPECT_EQ(q.instrs[3].toString(),
            "vec.exp.f32 rows=4 cols=8 a=0x200/8 out=0x800/8:f16 deps=2");
  EXPECT_EQ(unsigned(Opcode::VecExp), 31u);
  EXPECT_EQ(kNumOpcodes, 32u);
  // The opcode byte: the one byte that differs from the same program
  // with vec.erf (11) there.
  Program erf = p;
  erf.instrs[3].op = Opcode::VecErf;
  std::vector<uint8_t> other = erf.serialize();
  ASSERT_EQ(other.size(), bytes.size());
  size_t at = 0, differing = 0;
  for (size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] != other[i])
      at = i, ++differing;
  ASSERT_EQ(differing, 1u);
  ASSERT_EQ(bytes[at], 31);
  ASSERT_EQ(other[at], 11);
  bytes[at] = 32;
  EXPECT_NE(errorOf(bytes).find("instruction 3: unknown opcode 32"),
            std::string::npos)
      << errorOf(bytes);
}

TEST(Program, MissingFileIsAClearError) {
  EXPECT_THROW(Program::load("/nonexistent.tsrp"), ContractError);
}

// Issue 12, item 3: size fields are checked against the documented limits
// and against the file's contents before anything is allocated.
size_t dramBytesOffset(const Program &p) {
  return 32 + 4 + p.chipName.size() + 8;
}

TEST(ProgramLimits, DramBytesBeyondTheLimitIsRejected) {
  Program p = sample();
  std::vector<uint8_t> bytes = p.serialize();
  uint64_t huge = 16ull << 30; // 16 GiB: 8+ GB allocated before the fix
  std::memcpy(bytes.data() + dramBytesOffset(p), &huge, 8);
  std::string err = errorOf(bytes);
  EXPECT_NE(err.find("p.tsrp: dram_bytes 17179869184 is more than the limit"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("(at byte " + std::to_string(dramBytesOffset(p)) + ")"),
            std::string::npos)
      << err;
}

TEST(ProgramLimits, DramBytesBeyondItsTensorsIsRejected) {
  Program p = sample(); // tensors end at 256, dram_bytes 4096
  p.dramBytes = 256 + Program::kMaxDramPadding;
  EXPECT_NO_THROW(p.verify());
  p.dramBytes += 1;
  try {
    p.verify("p.tsrp");
    FAIL();
  } catch (const ContractError &e) {
    EXPECT_STREQ(e.what(), "p.tsrp: dram_bytes 4353 is more than the 256 "
                           "bytes its tensors occupy plus 4096 bytes of "
                           "padding");
  }
}

TEST(ProgramLimits, SramBytesUsedIsCheckedAgainstTheChip) {
  Program p = sample();
  ChipConfig chip = ChipConfig::reference();
  EXPECT_NO_THROW(p.checkFits(chip, "p.tsrp"));
  chip.sram_bytes = 2048; // the program uses 4096
  try {
    p.checkFits(chip, "p.tsrp");
    FAIL();
  } catch (const ContractError &e) {
    EXPECT_STREQ(e.what(), "p.tsrp: sram_bytes_used 4096 is more than the "
                           "chip's sram_bytes 2048 (chip 'reference')");
  }
  std::vector<uint8_t> bytes = p.serialize();
  uint64_t huge = Program::kMaxSramBytes + 1;
  std::memcpy(bytes.data() + dramBytesOffset(p) - 8, &huge, 8);
  EXPECT_NE(errorOf(bytes).find("sram_bytes_used 1073741825 is more than the "
                                "limit"),
            std::string::npos)
      << errorOf(bytes);
}

TEST(ProgramLimits, ReservedWordsAndPaddingMustBeZero) {
  std::vector<uint8_t> bytes = sample().serialize();
  bytes[24] = 1; // reserved u64 of the preamble
  EXPECT_NE(errorOf(bytes).find("reserved field is 1, expected 0 in version 2 "
                                "(at byte 24)"),
            std::string::npos)
      << errorOf(bytes);
  bytes = sample().serialize();
  // The first tensor record's padding byte: after chip name, the two u64
  // sizes, the layer names, the tensor count, "x", kind, dtype and rank.
  size_t at =
      dramBytesOffset(sample()) + 8 + 4 + (4 + 7) + (4 + 3) + 4 + (4 + 1) + 3;
  bytes[at] = 7;
  EXPECT_NE(errorOf(bytes).find("tensor 'x': padding byte is 7, expected 0 "
                                "(at byte " +
                                std::to_string(at) + ")"),
            std::string::npos)
      << errorOf(bytes);
}

TEST(ProgramLimits, ErrorOffsetsPointAtTheField) {
  std::vector<uint8_t> bytes = sample().serialize();
  bytes[8] = 99; // version, bytes 8..11
  EXPECT_NE(errorOf(bytes).find("(at byte 8)"), std::string::npos)
      << errorOf(bytes);
  bytes = sample().serialize();
  bytes[12] = 2; // flags, bytes 12..15
  EXPECT_NE(errorOf(bytes).find("unknown flags 2 in version 2 (at byte 12)"),
            std::string::npos)
      << errorOf(bytes);
}

TEST(ProgramLimits, ADirectoryOrADeviceIsAClearError) {
  try {
    Program::load(::testing::TempDir());
    FAIL();
  } catch (const ContractError &e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos)
        << e.what();
  }
  try {
    Program::load("/dev/zero");
    FAIL();
  } catch (const ContractError &e) {
    EXPECT_NE(std::string(e.what()).find("/dev/zero: program file (a pipe or "
                                         "device) is longer than the limit"),
              std::string::npos)
        << e.what();
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Version 2: the SRAM buffer table; version 1 files stay readable.
//===----------------------------------------------------------------------===//

namespace {

Program withBuffers() {
  Program p = sample();
  p.hasSramBuffers = true;
  p.sramBuffers = {{0, 0, 768}, {1, 512, 2048}};
  return p;
}

} // namespace

TEST(ProgramV2, BufferTableRoundTrips) {
  Program p = withBuffers();
  std::vector<uint8_t> bytes = p.serialize();
  uint32_t flags;
  std::memcpy(&flags, bytes.data() + 12, 4);
  EXPECT_EQ(flags, Program::kFlagSramBuffers);
  Program back = Program::deserialize(bytes.data(), bytes.size(), "p.tsrp");
  EXPECT_TRUE(back.hasSramBuffers);
  EXPECT_EQ(back.sramBuffers, p.sramBuffers);
  EXPECT_EQ(back.serialize(), bytes);
  EXPECT_NE(back.listing().find("layer 1: sram 0x200 (2048 bytes)"),
            std::string::npos)
      << back.listing();
}

TEST(ProgramV2, VersionOneFilesAreRead) {
  // A version 1 file: no flags, no buffer table.
  std::vector<uint8_t> bytes = sample().serialize();
  bytes[8] = 1;
  Program back = Program::deserialize(bytes.data(), bytes.size(), "v1.tsrp");
  EXPECT_FALSE(back.hasSramBuffers);
  EXPECT_EQ(back.instrs.size(), sample().instrs.size());
  // A version 1 file cannot carry a buffer table.
  bytes = withBuffers().serialize();
  bytes[8] = 1;
  EXPECT_NE(errorOf(bytes).find("unknown flags 1 in version 1 (at byte 12)"),
            std::string::npos)
      << errorOf(bytes);
}

TEST(ProgramV2, BadBufferTablesAreNamed) {
  Program p = withBuffers();
  p.sramBuffers[1].bytes = 4096; // 512 + 4096 > sram_bytes_used 4096
  std::vector<uint8_t> bytes = p.serialize();
  EXPECT_NE(errorOf(bytes).find("buffer 1: extends past the SRAM in use "
                                "(4096 bytes)"),
            std::string::npos)
      << errorOf(bytes);
  p = withBuffers();
  p.sramBuffers[0].layer = 5;
  bytes = p.serialize();
  EXPECT_NE(errorOf(bytes).find("buffer 0: layer 5 out of range"),
            std::string::npos)
      << errorOf(bytes);
  p = withBuffers();
  p.sramBuffers[1].bytes = 0;
  bytes = p.serialize();
  EXPECT_NE(errorOf(bytes).find("buffer 1: size is zero"), std::string::npos)
      << errorOf(bytes);
  p = withBuffers();
  std::swap(p.sramBuffers[0], p.sramBuffers[1]);
  bytes = p.serialize();
  EXPECT_NE(errorOf(bytes).find("buffer 1: buffers are not ordered by layer"),
            std::string::npos)
      << errorOf(bytes);
  // A truncated table and an implausible count are rejected.
  bytes = withBuffers().serialize();
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 8);
  uint64_t size = cut.size();
  std::memcpy(cut.data() + 16, &size, 8);
  EXPECT_NE(errorOf(cut).find("implausible buffer count 2"), std::string::npos)
      << errorOf(cut);
  bytes = withBuffers().serialize();
  uint32_t huge = 1000000;
  std::memcpy(bytes.data() + bytes.size() - 2 * 24 - 4, &huge, 4);
  EXPECT_NE(errorOf(bytes).find("implausible buffer count 1000000"),
            std::string::npos)
      << errorOf(bytes);
}

TEST(ProgramV2, ScratchTensorsMayShareDramOthersMayNot) {
  Program p = sample();
  TensorInfo s1{"s1", TensorKind::Scratch, DType::F16, {4, 8}, 256, {}};
  TensorInfo s2{"s2", TensorKind::Scratch, DType::F16, {4, 8}, 256, {}};
  p.dramBytes = 512;
  p.tensors.push_back(s1);
  p.tensors.push_back(s2);
  EXPECT_NO_THROW(p.verify("p"));
  p.tensors[3].dramAddr = 192; // over the output y
  try {
    p.verify("p");
    FAIL() << "scratch over an output accepted";
  } catch (const ContractError &e) {
    EXPECT_NE(std::string(e.what()).find("tensors overlap in DRAM at address"),
              std::string::npos)
        << e.what();
  }
}
