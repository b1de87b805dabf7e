//===- MakeFixture.cpp - Files for the tessera-sim command-line tests -----===//
//
// Writes into the directory given: tiny.tsrp (two layers: y = gelu(x * w)
// in FP16 with FP32 accumulation), x.f32 (its input), y.f32 (the FP32
// reference output, computed here with Eigen), x_short.f32 (a wrongly sized
// input) and small_sram.cfg (the reference chip with too little SRAM for
// tiny.tsrp).
//
//===----------------------------------------------------------------------===//

#include "TestPrograms.h"

#include "tessera/arch/ChipConfig.h"

#include <cmath>
#include <fstream>
#include <iostream>

using namespace tessera;
using namespace tessera::simtest;
using arch::DType;
using arch::TensorKind;

namespace {

void writeF32(const std::string &path, const std::vector<float> &v) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char *>(v.data()),
            std::streamsize(v.size() * 4));
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: sim-make-fixture <dir>\n";
    return 1;
  }
  std::string dir = argv[1];
  const int M = 8, K = 64, N = 32;
  Mat x = randomMat(M, K, 1);
  Mat w = randomMat(K, N, 2, 0.2f);

  ProgramBuilder b;
  b.prog.layers = {"fc", "gelu"};
  uint64_t xd = b.tensor("x", TensorKind::Input, DType::F16, {M, K});
  uint64_t wd = b.tensor("w", TensorKind::Weight, DType::F16, {K, N}, flat(w));
  uint64_t yd = b.tensor("y", TensorKind::Output, DType::F16, {M, N});
  uint32_t lx = b.load(xd, 0, M, K * 2);
  uint32_t lw = b.load(wd, 0x1000, K, N * 2);
  uint32_t mm =
      b.matmul(DType::F16, DType::F32, M, K, N, 0, 0x1000, 0x2000, {lx, lw});
  uint32_t g = b.vec(arch::Opcode::VecGelu, DType::F32, DType::F16, M, N,
                     0x2000, 0, 0x3000, {mm}, 0, 0, 0, 1);
  b.store(yd, 0x3000, M, N * 2, {g}, 0, 0, 1);
  b.prog.verify("tiny");
  b.prog.save(dir + "/tiny.tsrp");

  Mat y = (x * w).unaryExpr(
      [](float v) { return 0.5f * v * (1 + std::erf(v / std::sqrt(2.0f))); });
  writeF32(dir + "/x.f32", flat(x));
  writeF32(dir + "/y.f32", flat(y));
  writeF32(dir + "/x_short.f32", std::vector<float>(10, 1.0f));

  arch::ChipConfig small = arch::ChipConfig::reference();
  small.name = "small-sram";
  small.sram_bytes = 0x2000;
  std::ofstream(dir + "/small_sram.cfg") << small.toText();
  return 0;
}
