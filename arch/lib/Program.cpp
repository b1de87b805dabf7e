//===- Program.cpp - Program file serialization, checks and listing -------===//
//
// The binary layout is specified in docs/program-format.md. The reader treats
// the file as adversarial: every count and offset is checked against the bytes
// that remain before it is used, with overflow-checked arithmetic.
//
//===----------------------------------------------------------------------===//

#include "tessera/arch/Program.h"
#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Error.h"
#include "tessera/arch/FileIo.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <tuple>
#include <unistd.h>

using namespace tessera::arch;

constexpr char Program::kMagic[8];

const char *tessera::arch::tensorKindName(TensorKind k) {
  switch (k) {
  case TensorKind::Input:
    return "input";
  case TensorKind::Output:
    return "output";
  case TensorKind::Weight:
    return "weight";
  case TensorKind::Scratch:
    return "scratch";
  }
  return "?";
}

uint64_t TensorInfo::numElements() const {
  uint64_t n = 1;
  for (int64_t d : shape)
    n *= uint64_t(d);
  return n;
}

const TensorInfo *Program::findTensor(const std::string &name) const {
  for (const TensorInfo &t : tensors)
    if (t.name == name)
      return &t;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Verification
//===----------------------------------------------------------------------===//

void Program::verify(const std::string &source) const {
  auto fail = [&](const std::string &msg) {
    throw ContractError(source + ": " + msg);
  };
  auto limit = [&](const char *field, uint64_t value, uint64_t max) {
    if (value > max)
      fail(std::string(field) + " " + std::to_string(value) +
           " is more than the limit of " + std::to_string(max) +
           " (docs/limits-and-errors.md)");
  };
  limit("dram_bytes", dramBytes, kMaxDramBytes);
  limit("sram_bytes_used", sramBytesUsed, kMaxSramBytes);
  limit("instruction count", instrs.size(), kMaxInstructions);
  limit("tensor count", tensors.size(), kMaxTensors);
  limit("layer count", layers.size(), kMaxLayers);
  // Tensors: inside the DRAM image, not overlapping, weight data sized.
  std::vector<std::tuple<uint64_t, uint64_t, bool>> ranges;
  uint64_t highestEnd = 0;
  for (const TensorInfo &t : tensors) {
    std::string what = "tensor '" + t.name + "'";
    if (t.shape.size() > kMaxRank)
      fail(what + ": rank " + std::to_string(t.shape.size()) +
           " is more than the limit of " + std::to_string(kMaxRank));
    uint64_t n = 1;
    for (int64_t d : t.shape) {
      if (d <= 0)
        fail(what + ": dimension " + std::to_string(d) + " is not positive");
      if (__builtin_mul_overflow(n, uint64_t(d), &n))
        fail(what + ": element count overflows");
    }
    uint64_t bytes, end;
    if (__builtin_mul_overflow(n, dtypeBytes(t.dtype), &bytes) ||
        __builtin_add_overflow(t.dramAddr, bytes, &end) || end > dramBytes)
      fail(what + ": extends past the DRAM image (" +
           std::to_string(dramBytes) + " bytes)");
    if (t.kind == TensorKind::Weight && !weightDataElided &&
        t.data.size() != bytes)
      fail(what + ": weight data has " + std::to_string(t.data.size()) +
           " bytes, expected " + std::to_string(bytes));
    if (t.kind != TensorKind::Weight && !t.data.empty())
      fail(what + ": only weights carry initial data");
    ranges.push_back({t.dramAddr, end, t.kind == TensorKind::Scratch});
    highestEnd = std::max(highestEnd, end);
  }
  // The image is the tensors plus at most a burst of rounding: a size field
  // that asks for more than the tensors need is not trusted with memory.
  if (dramBytes > highestEnd + kMaxDramPadding)
    fail("dram_bytes " + std::to_string(dramBytes) + " is more than the " +
         std::to_string(highestEnd) + " bytes its tensors occupy plus " +
         std::to_string(kMaxDramPadding) + " bytes of padding");
  // Scratch tensors may share DRAM with each other (liveness-based reuse);
  // no other tensor may overlap anything.
  std::sort(ranges.begin(), ranges.end());
  uint64_t fixedEnd = 0, anyEnd = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const auto &[begin, end, scratch] = ranges[i];
    if (begin < fixedEnd || (!scratch && begin < anyEnd))
      fail("tensors overlap in DRAM at address " + std::to_string(begin));
    if (!scratch)
      fixedEnd = std::max(fixedEnd, end);
    anyEnd = std::max(anyEnd, end);
  }

  if (npus < 1 || npus > kMaxNpus)
    fail("npu count " + std::to_string(npus) + " is not in 1 .. " +
         std::to_string(kMaxNpus));

  // Buffer table: non-empty ranges inside the SRAM in use, by layer.
  if (sramBuffers.size() > kMaxSramBuffers)
    fail("buffer count " + std::to_string(sramBuffers.size()) +
         " is more than the limit of " + std::to_string(kMaxSramBuffers));
  if (!hasSramBuffers && !sramBuffers.empty())
    fail("buffer table given but not marked present");
  for (size_t b = 0; b < sramBuffers.size(); ++b) {
    const SramBuffer &buf = sramBuffers[b];
    std::string what = "buffer " + std::to_string(b);
    if (buf.layer >= layers.size())
      fail(what + ": layer " + std::to_string(buf.layer) + " out of range");
    if (b && buf.layer < sramBuffers[b - 1].layer)
      fail(what + ": buffers are not ordered by layer");
    uint64_t end;
    if (buf.bytes == 0)
      fail(what + ": size is zero");
    if (__builtin_add_overflow(buf.addr, buf.bytes, &end) ||
        end > sramBytesUsed)
      fail(what + ": extends past the SRAM in use (" +
           std::to_string(sramBytesUsed) + " bytes)");
  }

  for (size_t i = 0; i < instrs.size(); ++i) {
    const Instr &in = instrs[i];
    std::string what = "instruction " + std::to_string(i);
    if (unsigned(in.op) >= kNumOpcodes)
      fail(what + ": unknown opcode " + std::to_string(unsigned(in.op)));
    what += " (" + std::string(opcodeName(in.op)) + ")";
    if (unsigned(in.dtype) >= kNumDTypes ||
        unsigned(in.outDtype) >= kNumDTypes ||
        unsigned(in.accDtype) >= kNumDTypes)
      fail(what + ": unknown element type");
    if (in.flags & ~kKnownFlags)
      fail(what + ": unknown flag bits");
    if (in.layer >= layers.size() && !(layers.empty() && in.layer == 0))
      fail(what + ": layer " + std::to_string(in.layer) + " out of range");
    if (in.npu >= npus)
      fail(what + ": npu " + std::to_string(unsigned(in.npu)) +
           " is not below the program's " + std::to_string(npus) + " NPU" +
           (npus == 1 ? "" : "s"));
    for (uint32_t d : in.deps)
      if (d >= i)
        fail(what + ": depends on instruction " + std::to_string(d) +
             ", which is not earlier");
    unsigned usedDims =
        in.op == Opcode::MatMul || in.op == Opcode::DmaGather ? 3 : 2;
    for (unsigned d = 0; d < usedDims; ++d)
      if (in.dims[d] == 0)
        fail(what + ": dimension " + std::to_string(d) + " is zero");
    for (const Operand &o : operandsOf(in)) {
      uint64_t end;
      uint64_t limit = o.inDram ? dramBytes : sramBytesUsed;
      if (o.rows > 1 && o.strideBytes < o.rowBytes)
        fail(what + ": operand " + o.role + " has a row stride of " +
             std::to_string(o.strideBytes) + " bytes, less than its " +
             std::to_string(o.rowBytes) + "-byte rows");
      if (!o.end(end) || end > limit)
        fail(what + ": operand " + o.role + " extends past the " +
             (o.inDram ? "DRAM image (" : "SRAM in use (") +
             std::to_string(limit) + " bytes)");
    }
  }
}

void Program::checkFits(const ChipConfig &chip,
                        const std::string &source) const {
  if (sramBytesUsed > chip.sram_bytes)
    throw ContractError(
        source + ": sram_bytes_used " + std::to_string(sramBytesUsed) +
        " is more than the chip's sram_bytes " +
        std::to_string(chip.sram_bytes) + " (chip '" + chip.name + "')");
  if (npus > chip.npus)
    throw ContractError(source + ": the program runs on " +
                        std::to_string(npus) + " NPUs, the chip '" + chip.name +
                        "' has " + std::to_string(chip.npus) + " (npus)");
}

//===----------------------------------------------------------------------===//
// Serialization
//===----------------------------------------------------------------------===//

namespace {

class Writer {
public:
  std::vector<uint8_t> bytes;
  template <typename T> void put(T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T)); // The format is little-endian, as is x86.
    bytes.insert(bytes.end(), b, b + sizeof(T));
  }
  void str(const std::string &s) {
    put<uint32_t>(uint32_t(s.size()));
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
};

class Reader {
public:
  Reader(const uint8_t *data, size_t size, const std::string &source)
      : data(data), size(size), source(source) {}
  /// Errors name the offset of the field being read (or checked).
  [[noreturn]] void fail(const std::string &msg) const {
    throw ContractError(source + ": " + msg + " (at byte " +
                        std::to_string(fieldPos) + ")");
  }
  void need(uint64_t n, const char *what) {
    if (n > size - pos)
      fail(std::string("truncated program file: ") + what + " needs " +
           std::to_string(n) + " bytes, " + std::to_string(size - pos) +
           " remain");
  }
  template <typename T> T get(const char *what) {
    fieldPos = pos;
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::string str(const char *what, uint32_t maxBytes) {
    uint32_t n = get<uint32_t>(what);
    if (n > maxBytes)
      fail(std::string(what) + " of " + std::to_string(n) +
           " bytes is longer than the limit of " + std::to_string(maxBytes));
    need(n, what);
    std::string s(reinterpret_cast<const char *>(data + pos), n);
    pos += n;
    return s;
  }
  /// A count of records at least `minBytes` each: never more than fit.
  uint32_t count(const char *what, uint64_t minBytes, uint32_t max) {
    uint32_t n = get<uint32_t>(what);
    if (uint64_t(n) * minBytes > size - pos)
      fail(std::string("implausible ") + what + " " + std::to_string(n) +
           " for the bytes that remain");
    if (n > max)
      fail(std::string(what) + " " + std::to_string(n) +
           " is more than the limit of " + std::to_string(max));
    return n;
  }
  const uint8_t *data;
  size_t size;
  size_t pos = 0;
  size_t fieldPos = 0;
  std::string source;
};

constexpr size_t kPreambleBytes = 32;
constexpr size_t kInstrFixedBytes = 4 + 4 + 4 + 32 + 12 + 16 + 4 + 4;
constexpr size_t kBufferRecordBytes = 4 + 4 + 8 + 8;

} // namespace

std::vector<uint8_t> Program::serialize() const {
  Writer w;
  w.bytes.insert(w.bytes.end(), kMagic, kMagic + 8);
  w.put<uint32_t>(formatVersion());
  w.put<uint32_t>((hasSramBuffers ? kFlagSramBuffers : 0) |
                  (npus > 1 ? kFlagNpus : 0)); // flags
  w.put<uint64_t>(0);                          // file size, patched below
  w.put<uint64_t>(0);                          // reserved
  w.str(chipName);
  w.put<uint64_t>(sramBytesUsed);
  w.put<uint64_t>(dramBytes);
  w.put<uint32_t>(uint32_t(layers.size()));
  for (const std::string &l : layers)
    w.str(l);
  w.put<uint32_t>(uint32_t(tensors.size()));
  for (const TensorInfo &t : tensors) {
    w.str(t.name);
    w.put<uint8_t>(uint8_t(t.kind));
    w.put<uint8_t>(uint8_t(t.dtype));
    w.put<uint8_t>(uint8_t(t.shape.size()));
    w.put<uint8_t>(0);
    for (int64_t d : t.shape)
      w.put<int64_t>(d);
    w.put<uint64_t>(t.dramAddr);
    w.put<uint64_t>(t.data.size());
    w.bytes.insert(w.bytes.end(), t.data.begin(), t.data.end());
  }
  w.put<uint32_t>(uint32_t(instrs.size()));
  for (const Instr &in : instrs) {
    w.put<uint8_t>(uint8_t(in.op));
    w.put<uint8_t>(uint8_t(in.dtype));
    w.put<uint8_t>(uint8_t(in.outDtype));
    w.put<uint8_t>(uint8_t(in.accDtype));
    w.put<uint32_t>(in.flags);
    w.put<uint32_t>(in.layer);
    for (uint64_t a : in.addr)
      w.put<uint64_t>(a);
    for (uint32_t d : in.dims)
      w.put<uint32_t>(d);
    for (uint32_t s : in.strides)
      w.put<uint32_t>(s);
    w.put<float>(in.imm);
    w.put<uint32_t>(uint32_t(in.deps.size()));
    for (uint32_t d : in.deps)
      w.put<uint32_t>(d);
  }
  if (hasSramBuffers) {
    w.put<uint32_t>(uint32_t(sramBuffers.size()));
    for (const SramBuffer &b : sramBuffers) {
      w.put<uint32_t>(b.layer);
      w.put<uint32_t>(0); // padding
      w.put<uint64_t>(b.addr);
      w.put<uint64_t>(b.bytes);
    }
  }
  if (npus > 1) {
    w.put<uint32_t>(npus);
    for (const Instr &in : instrs)
      w.put<uint8_t>(in.npu);
  }
  uint64_t total = w.bytes.size();
  std::memcpy(w.bytes.data() + 16, &total, 8);
  return w.bytes;
}

Program Program::deserialize(const uint8_t *data, size_t size,
                             const std::string &source, bool weightData) {
  Reader r(data, size, source);
  if (size < kPreambleBytes)
    r.fail("truncated program file: " + std::to_string(size) +
           " bytes, the preamble alone is " + std::to_string(kPreambleBytes));
  if (std::memcmp(data, kMagic, 8) != 0)
    r.fail("bad magic: not a Tessera program file (expected \"TSRPROG\")");
  r.pos = 8;
  uint32_t version = r.get<uint32_t>("version");
  if (version < 1 || version > kVersion)
    r.fail("unsupported program format version " + std::to_string(version) +
           " (this build reads versions 1 to " + std::to_string(kVersion) +
           ")");
  uint32_t flags = r.get<uint32_t>("flags");
  uint32_t knownFlags = version == 1   ? 0
                        : version == 2 ? kFlagSramBuffers
                                       : kFlagSramBuffers | kFlagNpus;
  if (flags & ~knownFlags)
    r.fail("unknown flags " + std::to_string(flags) + " in version " +
           std::to_string(version));
  uint64_t fileSize = r.get<uint64_t>("file size");
  if (fileSize != size)
    r.fail("file size field says " + std::to_string(fileSize) +
           " bytes but the file has " + std::to_string(size) +
           " (truncated or padded)");
  if (uint64_t reserved = r.get<uint64_t>("reserved"))
    r.fail("reserved field is " + std::to_string(reserved) +
           ", expected 0 in version " + std::to_string(version));

  Program p;
  p.chipName = r.str("chip name", kMaxNameBytes);
  p.sramBytesUsed = r.get<uint64_t>("sram_bytes_used");
  if (p.sramBytesUsed > kMaxSramBytes)
    r.fail("sram_bytes_used " + std::to_string(p.sramBytesUsed) +
           " is more than the limit of " + std::to_string(kMaxSramBytes));
  p.dramBytes = r.get<uint64_t>("dram_bytes");
  if (p.dramBytes > kMaxDramBytes)
    r.fail("dram_bytes " + std::to_string(p.dramBytes) +
           " is more than the limit of " + std::to_string(kMaxDramBytes));
  uint32_t nLayers = r.count("layer count", 4, kMaxLayers);
  for (uint32_t i = 0; i < nLayers; ++i)
    p.layers.push_back(r.str("layer name", kMaxNameBytes));
  uint32_t nTensors = r.count("tensor count", 4 + 4 + 16, kMaxTensors);
  for (uint32_t i = 0; i < nTensors; ++i) {
    TensorInfo t;
    t.name = r.str("tensor name", kMaxNameBytes);
    uint8_t kind = r.get<uint8_t>("tensor kind");
    if (kind > uint8_t(TensorKind::Scratch))
      r.fail("tensor '" + t.name + "': unknown kind " + std::to_string(kind));
    uint8_t dtype = r.get<uint8_t>("tensor dtype");
    if (dtype >= kNumDTypes)
      r.fail("tensor '" + t.name + "': unknown dtype " + std::to_string(dtype));
    uint8_t rank = r.get<uint8_t>("tensor rank");
    if (rank > kMaxRank)
      r.fail("tensor '" + t.name + "': rank " + std::to_string(rank) +
             " is more than the limit of " + std::to_string(kMaxRank));
    if (uint8_t pad = r.get<uint8_t>("padding"))
      r.fail("tensor '" + t.name + "': padding byte is " + std::to_string(pad) +
             ", expected 0");
    t.kind = TensorKind(kind);
    t.dtype = DType(dtype);
    for (unsigned d = 0; d < rank; ++d)
      t.shape.push_back(r.get<int64_t>("tensor dimension"));
    t.dramAddr = r.get<uint64_t>("tensor address");
    uint64_t dataLen = r.get<uint64_t>("tensor data length");
    r.need(dataLen, "tensor data");
    if (weightData) {
      t.data.assign(data + r.pos, data + r.pos + dataLen);
    } else if (t.kind == TensorKind::Weight &&
               dataLen != t.numElements() * dtypeBytes(t.dtype)) {
      r.fail("tensor '" + t.name + "': weight data has " +
             std::to_string(dataLen) + " bytes, expected " +
             std::to_string(t.numElements() * dtypeBytes(t.dtype)));
    } else if (t.kind != TensorKind::Weight && dataLen) {
      r.fail("tensor '" + t.name + "': only weights carry initial data");
    }
    r.pos += dataLen;
    p.tensors.push_back(std::move(t));
  }
  uint32_t nInstrs =
      r.count("instruction count", kInstrFixedBytes, kMaxInstructions);
  p.instrs.reserve(nInstrs);
  for (uint32_t i = 0; i < nInstrs; ++i) {
    Instr in;
    uint8_t op = r.get<uint8_t>("opcode");
    if (op >= kNumOpcodes)
      r.fail("instruction " + std::to_string(i) + ": unknown opcode " +
             std::to_string(op));
    in.op = Opcode(op);
    uint8_t types[3];
    const char *typeFields[3] = {"dtype", "out dtype", "acc dtype"};
    for (unsigned k = 0; k < 3; ++k) {
      types[k] = r.get<uint8_t>(typeFields[k]);
      if (types[k] >= kNumDTypes)
        r.fail("instruction " + std::to_string(i) + ": unknown element type " +
               std::to_string(types[k]) + " in " + typeFields[k]);
    }
    in.dtype = DType(types[0]);
    in.outDtype = DType(types[1]);
    in.accDtype = DType(types[2]);
    in.flags = r.get<uint32_t>("flags");
    in.layer = r.get<uint32_t>("layer");
    for (uint64_t &a : in.addr)
      a = r.get<uint64_t>("address");
    for (uint32_t &d : in.dims)
      d = r.get<uint32_t>("dimension");
    for (uint32_t &s : in.strides)
      s = r.get<uint32_t>("stride");
    in.imm = r.get<float>("immediate");
    uint32_t nDeps = r.count("dependency count", 4, nInstrs);
    for (uint32_t d = 0; d < nDeps; ++d)
      in.deps.push_back(r.get<uint32_t>("dependency"));
    p.instrs.push_back(std::move(in));
  }
  p.hasSramBuffers = flags & kFlagSramBuffers;
  if (p.hasSramBuffers) {
    uint32_t nBuffers =
        r.count("buffer count", kBufferRecordBytes, kMaxSramBuffers);
    p.sramBuffers.reserve(nBuffers);
    for (uint32_t b = 0; b < nBuffers; ++b) {
      SramBuffer buf;
      buf.layer = r.get<uint32_t>("buffer layer");
      if (uint32_t pad = r.get<uint32_t>("buffer padding"))
        r.fail("buffer " + std::to_string(b) + ": padding is " +
               std::to_string(pad) + ", expected 0");
      buf.addr = r.get<uint64_t>("buffer address");
      buf.bytes = r.get<uint64_t>("buffer size");
      p.sramBuffers.push_back(buf);
    }
  }
  if (flags & kFlagNpus) {
    p.npus = r.get<uint32_t>("npu count");
    if (p.npus < 2 || p.npus > kMaxNpus)
      r.fail("npu count " + std::to_string(p.npus) + " is not in 2 .. " +
             std::to_string(kMaxNpus) + " (one NPU has no NPU table)");
    r.need(nInstrs, "NPU table");
    for (Instr &in : p.instrs) {
      in.npu = r.get<uint8_t>("instruction npu");
      if (in.npu >= p.npus)
        r.fail("instruction " + std::to_string(&in - p.instrs.data()) +
               ": npu " + std::to_string(unsigned(in.npu)) +
               " is not below the program's " + std::to_string(p.npus) +
               " NPUs");
    }
  }
  if (r.pos != size)
    r.fail(std::to_string(size - r.pos) + " trailing bytes after the program");
  p.weightDataElided = !weightData;
  p.verify(source);
  return p;
}

Program Program::load(const std::string &path, bool weightData) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0)
      ::close(fd);
    // Not a regular file (or not there): the bounded reader says why (is a
    // directory, cannot open) or reads a pipe or device up to its limit.
    std::string bytes =
        readInputFile(path, kMaxProgramFileBytes, "program file");
    return deserialize(reinterpret_cast<const uint8_t *>(bytes.data()),
                       bytes.size(), path, weightData);
  }
  size_t size = size_t(st.st_size);
  if (uint64_t(st.st_size) > kMaxProgramFileBytes) {
    ::close(fd);
    throw ContractError(path + ": program file is " +
                        std::to_string(st.st_size) +
                        " bytes, more than the limit of " +
                        std::to_string(kMaxProgramFileBytes) +
                        " bytes (docs/limits-and-errors.md)");
  }
  if (size == 0) {
    ::close(fd);
    return deserialize(nullptr, 0, path, weightData);
  }
  void *map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED)
    throw ContractError(path + ": cannot read program file");
  struct Unmap {
    void *p;
    size_t n;
    ~Unmap() { ::munmap(p, n); }
  } unmap{map, size};
  return deserialize(static_cast<const uint8_t *>(map), size, path, weightData);
}

void Program::save(const std::string &path) const {
  std::vector<uint8_t> bytes = serialize();
  writeOutputFile(path,
                  std::string_view(reinterpret_cast<const char *>(bytes.data()),
                                   bytes.size()),
                  "program file");
}

std::string Program::listing() const {
  std::ostringstream os;
  os << "; Tessera program, format version " << formatVersion() << "\n"
     << "; chip: " << chipName << "\n";
  if (npus > 1)
    os << "; npus: " << npus << " (each instruction line names its NPU)\n";
  os << "; dram image: " << dramBytes << " bytes, sram used: " << sramBytesUsed
     << " bytes\n"
     << "; " << instrs.size() << " instructions, " << layers.size()
     << " layers, " << tensors.size() << " tensors\n;\n; tensors:\n";
  for (const TensorInfo &t : tensors) {
    os << ";   " << std::left << std::setw(8) << tensorKindName(t.kind) << " "
       << t.name << " : " << dtypeName(t.dtype) << "[";
    for (size_t i = 0; i < t.shape.size(); ++i)
      os << (i ? "x" : "") << t.shape[i];
    os << "] @ dram 0x" << std::hex << t.dramAddr << std::dec << " ("
       << t.byteSize() << " bytes)\n";
  }
  if (hasSramBuffers) {
    os << ";\n; sram buffers (" << sramBuffers.size() << "):\n";
    for (const SramBuffer &b : sramBuffers)
      os << ";   layer " << b.layer << ": sram 0x" << std::hex << b.addr
         << std::dec << " (" << b.bytes << " bytes)\n";
  }
  uint32_t lastLayer = ~0u;
  for (size_t i = 0; i < instrs.size(); ++i) {
    const Instr &in = instrs[i];
    if (in.layer != lastLayer && in.layer < layers.size())
      os << "\n; layer " << in.layer << ": " << layers[in.layer] << "\n";
    lastLayer = in.layer;
    static const char *q[] = {"L", "C", "S"};
    os << std::setw(6) << std::right << i << " ";
    if (npus > 1)
      os << "n" << unsigned(in.npu) << " ";
    os << q[unsigned(in.queue())] << "  " << in.toString() << "\n";
  }
  return os.str();
}
