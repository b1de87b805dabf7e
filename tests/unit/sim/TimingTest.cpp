//===- TimingTest.cpp - The closed-form timing formulas -------------------===//
//
// docs/timing-model.md, checked two ways: worked examples computed by hand on
// the reference chip (and on small chips where another term dominates), and
// the formula written out again here against the code over many shapes.
//
//===----------------------------------------------------------------------===//

#include "tessera/Sim/Timing.h"
#include "tessera/arch/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <variant>

using namespace tessera;
using namespace tessera::sim;
using arch::DType;
using arch::Opcode;

namespace {

arch::ChipConfig ref() { return arch::ChipConfig::reference(); }

TEST(Timing, ReferenceChipDerivedFields) {
  // 150 ns at 2 GHz; 68 GB/s over 2 GHz; 32 banks x 64 bytes.
  EXPECT_EQ(ref().dramLatencyCycles(), 300u);
  EXPECT_DOUBLE_EQ(ref().dramBytesPerCycle(), 34.0);
  EXPECT_EQ(ref().sramBytesPerCycle(), 2048u);
}

TEST(Timing, DramBusBytesRoundToBursts) {
  // Contiguous: rounded once. 1000 -> 1024; 4 x 100 = 400 -> 448.
  EXPECT_EQ(timing::dramBusBytes(ref(), 1, 1000, 1000), 1024u);
  EXPECT_EQ(timing::dramBusBytes(ref(), 4, 100, 100), 448u);
  // Strided rows: each 100-byte row becomes 128.
  EXPECT_EQ(timing::dramBusBytes(ref(), 4, 100, 256), 512u);
  // Already whole bursts.
  EXPECT_EQ(timing::dramBusBytes(ref(), 3, 64, 128), 192u);
}

TEST(Timing, DramDataAndAccessCycles) {
  // ceil(1024 / 34) = 31, ceil(34 / 34) = 1 (no spurious round-up).
  EXPECT_EQ(timing::dramDataCycles(ref(), 1024), 31u);
  EXPECT_EQ(timing::dramDataCycles(ref(), 34), 1u);
  EXPECT_EQ(timing::dramDataCycles(ref(), 68), 2u);
  EXPECT_EQ(timing::dramDataCycles(ref(), 69), 3u);
  // 4 strided rows of 100 bytes: 512 bus bytes -> 16 cycles + 300 latency.
  EXPECT_EQ(timing::dramAccessCycles(ref(), 4, 100, 256), 316u);
}

TEST(Timing, SramAccessCycles) {
  EXPECT_EQ(timing::sramAccessCycles(ref(), 1), 3u + 1u);
  EXPECT_EQ(timing::sramAccessCycles(ref(), 2048), 3u + 1u);
  EXPECT_EQ(timing::sramAccessCycles(ref(), 2049), 3u + 2u);
}

TEST(Timing, DmaIsTheSlowerSide) {
  arch::Instr in;
  in.op = Opcode::DmaLoad;
  in.dims[0] = 96;
  in.dims[1] = 192; // 18432 bytes: DRAM 300 + ceil(18432/34) = 843
  in.strides[0] = in.strides[1] = 192;
  EXPECT_EQ(timing::dmaCycles(ref(), in), 843u);

  // A chip whose SRAM port is the bottleneck: 2048 B/cycle DRAM with no
  // latency, one 64-byte SRAM bank. 6400 bytes: DRAM 4, SRAM 3 + 100.
  arch::ChipConfig chip = ref();
  chip.dram_bandwidth_gbps = 4096;
  chip.dram_latency_ns = 0;
  chip.sram_banks = 1;
  in.dims[0] = 100;
  in.dims[1] = 64;
  in.strides[0] = in.strides[1] = 64;
  EXPECT_EQ(timing::dmaCycles(chip, in), 103u);
}

TEST(Timing, GatherReadsIndicesThenRowsOfTheirOwnBursts) {
  // BERT's word lookup: 32 ids, rows of 64 FP16 (128 bytes). Indices:
  // 3 + ceil(128 / 2048) = 4; DRAM 300 + ceil(32 * 128 / 34) = 421; SRAM
  // 3 + ceil(4096 / 2048) = 5: 4 + 421 = 425.
  arch::Instr in;
  in.op = Opcode::DmaGather;
  in.dims[0] = 32;
  in.dims[1] = 128;
  in.dims[2] = 1000;
  in.strides[0] = in.strides[1] = 128;
  EXPECT_EQ(timing::gatherBusBytes(ref(), 32, 128), 4096u);
  EXPECT_EQ(timing::gatherCycles(ref(), in), 425u);
  EXPECT_EQ(timing::instrCycles(ref(), in), 425u);
  // Rows of 100 bytes each take two 64-byte bursts: 32 * 128 bus bytes all
  // the same, while a contiguous load of 3200 bytes would take 3264.
  in.dims[1] = 100;
  EXPECT_EQ(timing::gatherBusBytes(ref(), 32, 100), 4096u);
  EXPECT_EQ(timing::gatherCycles(ref(), in), 4u + 421u);
}

/// The reference chip in SCALE-Sim's no-overlap convention.
arch::ChipConfig scaleSim(const char *dataflow = "weight_stationary") {
  arch::ChipConfig c = ref();
  c.scale_sim_compatible = true;
  c.matrix_dataflow = dataflow;
  return c;
}

TEST(Timing, MatmulWorkedExamples) {
  // M=100, K=200, N=50 on 96x96, weight-stationary: 3 x 1 folds.
  EXPECT_EQ(timing::matmulFolds(ref(), 100, 200, 50), 3u);
  // FP16 (d=4): 2*96 + 96 + 100*4 - 2 = 686 per fold.
  EXPECT_EQ(timing::matmulFoldCycles(ref(), 100, 200, DType::F16), 686u);
  EXPECT_EQ(timing::matmulCycles(scaleSim(), 100, 200, 50, DType::F16), 2058u);
  // INT8 (d=1): 2*96 + 96 + 100 - 2 = 386 per fold.
  EXPECT_EQ(timing::matmulCycles(scaleSim(), 100, 200, 50, DType::I8), 1158u);
  // Default (next fold's weights preload): each later fold hides
  // min(R, T) = min(96, 400) = 96: 2058 - 2 * 96 = 1866; INT8 T = 100:
  // 1158 - 2 * 96 = 966.
  EXPECT_EQ(timing::matmulFoldOverlap(ref(), 100, 200, DType::F16), 96u);
  EXPECT_EQ(timing::matmulCycles(ref(), 100, 200, 50, DType::F16), 1866u);
  EXPECT_EQ(timing::matmulCycles(ref(), 100, 200, 50, DType::I8), 966u);

  // A 4 x 8 array: M=3, K=9, N=17 -> 3 x 3 folds of 8 + 8 + 12 - 2 = 26;
  // preload hides min(4, 12) = 4 in each of the 8 later folds: 234 - 32.
  arch::ChipConfig small = scaleSim();
  small.matrix_rows = 4;
  small.matrix_cols = 8;
  EXPECT_EQ(timing::matmulCycles(small, 3, 9, 17, DType::F16), 234u);
  small.scale_sim_compatible = false;
  EXPECT_EQ(timing::matmulCycles(small, 3, 9, 17, DType::F16), 202u);
  // M = 1 in INT8: T = 1 < R, so only 1 cycle per later fold is hidden.
  EXPECT_EQ(timing::matmulCycles(small, 1, 9, 17, DType::I8),
            9u * (8 + 8 + 1 - 2) - 8u * 1);
}

TEST(Timing, OutputStationaryWorkedExamples) {
  // M=100, K=200, N=50 on 96x96, output-stationary: ceil(100/96) x
  // ceil(50/96) = 2 folds of R + C + K*d - 2 = 96 + 96 + 800 - 2 = 990.
  arch::ChipConfig os = scaleSim("output_stationary");
  EXPECT_EQ(timing::matmulFolds(os, 100, 200, 50), 2u);
  EXPECT_EQ(timing::matmulFoldCycles(os, 100, 200, DType::F16), 990u);
  EXPECT_EQ(timing::matmulCycles(os, 100, 200, 50, DType::F16), 1980u);
  // INT8: 96 + 96 + 200 - 2 = 390 per fold.
  EXPECT_EQ(timing::matmulCycles(os, 100, 200, 50, DType::I8), 780u);
  // Default: the first fold's outputs drain under the second: - min(96, 800).
  os.scale_sim_compatible = false;
  EXPECT_EQ(timing::matmulCycles(os, 100, 200, 50, DType::F16), 1884u);
}

TEST(Timing, VectorWorkedExamples) {
  // startup 16, 64 lanes; passes: layernorm 3, softmax 3, gelu 4,
  // transpose 2, elementwise 1.
  EXPECT_EQ(timing::vectorCycles(ref(), Opcode::VecLayerNorm, 8, 100), 55u);
  EXPECT_EQ(timing::vectorCycles(ref(), Opcode::VecSoftmax, 64, 64), 208u);
  EXPECT_EQ(timing::vectorCycles(ref(), Opcode::VecGelu, 1, 1), 20u);
  EXPECT_EQ(timing::vectorCycles(ref(), Opcode::VecAdd, 3, 5), 17u);
  EXPECT_EQ(timing::vectorCycles(ref(), Opcode::VecTranspose, 10, 10), 20u);
  EXPECT_EQ(timing::vectorCycles(ref(), Opcode::VecErf, 1, 129), 19u);
  // exp is one elementwise pass: 16 + ceil(8 * 100 / 64) = 16 + 13.
  EXPECT_EQ(timing::vectorCycles(ref(), Opcode::VecExp, 8, 100), 29u);
}

TEST(Timing, CodeMatchesTheFormulasOverManyShapes) {
  arch::ChipConfig chips[3] = {ref(), ref(), ref()};
  chips[1].matrix_rows = 16;
  chips[1].matrix_cols = 32;
  chips[1].matrix_fp16_rate_divisor = 2;
  chips[1].vector_lanes = 8;
  chips[1].vector_startup_cycles = 0;
  chips[2].clock_ghz = 1.5;
  chips[2].dram_bandwidth_gbps = 25.6;
  chips[2].dram_latency_ns = 100;
  chips[2].dram_burst_bytes = 32;
  for (const arch::ChipConfig &c : chips) {
    double R = c.matrix_rows, C = c.matrix_cols;
    for (uint64_t m : {1u, 7u, 96u, 200u})
      for (uint64_t k : {1u, 17u, 96u, 97u, 300u})
        for (uint64_t n : {1u, 32u, 33u, 192u})
          for (DType t : {DType::F16, DType::I8}) {
            double d = t == DType::F16 ? c.matrix_fp16_rate_divisor : 1;
            for (const char *flow : {"weight_stationary", "output_stationary"})
              for (bool compatible : {true, false}) {
                arch::ChipConfig cc = c;
                cc.matrix_dataflow = flow;
                cc.scale_sim_compatible = compatible;
                bool ws = cc.matrix_dataflow == "weight_stationary";
                double folds = std::ceil((ws ? k : m) / R) * std::ceil(n / C);
                double T = (ws ? m : k) * d;
                double fold = (ws ? 2 * R : R) + C + T - 2;
                double hidden = compatible ? 0 : std::min(R, T);
                double expect = folds * fold - (folds - 1) * hidden;
                EXPECT_EQ(timing::matmulCycles(cc, m, k, n, t),
                          uint64_t(expect))
                    << m << "x" << k << "x" << n << " " << flow << " "
                    << compatible;
              }
          }
    for (uint64_t rows : {1u, 3u, 64u})
      for (uint64_t cols : {1u, 63u, 64u, 65u, 768u}) {
        double expect = c.vector_startup_cycles +
                        3.0 * std::ceil(double(rows * cols) / c.vector_lanes);
        EXPECT_EQ(timing::vectorCycles(c, Opcode::VecSoftmax, rows, cols),
                  uint64_t(expect));
        // DMA of rows x cols*2 bytes, contiguous and with a wider stride.
        uint64_t rowBytes = cols * 2;
        for (uint64_t stride : {rowBytes, rowBytes + 100}) {
          double burst = c.dram_burst_bytes;
          double bus = (rows == 1 || stride == rowBytes)
                           ? std::ceil(rows * rowBytes / burst) * burst
                           : rows * std::ceil(rowBytes / burst) * burst;
          double dram = std::ceil(c.dram_latency_ns * c.clock_ghz) +
                        std::ceil(bus / (c.dram_bandwidth_gbps / c.clock_ghz));
          double sram =
              c.sram_access_cycles +
              std::ceil(double(rows * rowBytes) /
                        (double(c.sram_banks) * c.sram_bank_width_bytes));
          arch::Instr in;
          in.op = Opcode::DmaStore;
          in.dims[0] = uint32_t(rows);
          in.dims[1] = uint32_t(rowBytes);
          in.strides[0] = uint32_t(stride);
          in.strides[1] = uint32_t(rowBytes);
          EXPECT_EQ(timing::dmaCycles(c, in), uint64_t(std::max(dram, sram)))
              << rows << " rows of " << rowBytes << " stride " << stride;
        }
      }
  }
}

TEST(Timing, ChipWithAZeroRateIsRejected) {
  arch::ChipConfig chip = ref();
  chip.vector_lanes = 0;
  EXPECT_THROW(timing::checkChip(chip), arch::ContractError);
  try {
    timing::checkChip(chip);
  } catch (const arch::ContractError &e) {
    EXPECT_NE(std::string(e.what()).find("vector_lanes"), std::string::npos);
  }
  EXPECT_NO_THROW(timing::checkChip(ref()));
}

// Issue 12, item 5: the frame's cycles are bounded before the model runs;
// a chip whose rates make a figure leave 64 bits is an error naming the
// instruction and the fields, not a saturated count with a PASS.
TEST(Timing, FrameBoundIsAnUpperBoundAndOverflowIsAnError) {
  arch::Program p;
  p.chipName = "t";
  p.dramBytes = 1 << 20;
  p.sramBytesUsed = 1 << 20;
  arch::Instr load;
  load.op = arch::Opcode::DmaLoad;
  load.dims[0] = 256;
  load.dims[1] = 4096;
  load.strides[0] = load.strides[1] = 4096;
  arch::Instr mm;
  mm.op = arch::Opcode::MatMul;
  mm.dims[0] = 100;
  mm.dims[1] = 300;
  mm.dims[2] = 200;
  p.instrs = {load, mm};
  arch::ChipConfig chip = ref();
  EXPECT_GE(timing::frameCycleBound(chip, p),
            timing::instrCycles(chip, load) + timing::instrCycles(chip, mm));
  EXPECT_LE(
      timing::frameCycleBound(chip, p),
      2 * (timing::instrCycles(chip, load) + timing::instrCycles(chip, mm)));
  chip.clock_ghz = 1e20; // DRAM time no longer vanishes: it explodes.
  try {
    timing::frameCycleBound(chip, p);
    FAIL() << "expected ContractError";
  } catch (const arch::ContractError &e) {
    EXPECT_NE(std::string(e.what()).find("instruction 0 (dma.load) takes the "
                                         "frame past 1099511627776 cycles"),
              std::string::npos)
        << e.what();
  }
  chip = ref();
  chip.dram_bandwidth_gbps = 1e-20;
  EXPECT_THROW(timing::frameCycleBound(chip, p), arch::ContractError);
}

// Issue 12, item 5: at every corner of the chip config's physical ranges
// the per-instruction formulas stay exact in 64 bits (they equal the same
// formulas in long double) for the largest instructions a program can hold
// (operands of up to 1 GiB, the most SRAM a program may use), and a frame
// whose sum would pass 2^40 cycles is the clear error, never a wrapped or
// saturated count. docs/timing-model.md, "Bounds".
TEST(Timing, ExtremeCornersOfTheRangesNeverWrap) {
  using LD = long double;
  auto ceilL = [](LD a, LD b) { return std::ceil(a / b - 1e-9L); };
  std::mt19937_64 rng(12);
  arch::Instr dma;
  dma.op = arch::Opcode::DmaLoad;
  dma.dims[0] = 1u << 15;
  dma.dims[1] = 1u << 15;
  dma.strides[0] = (1u << 15) + 4095; // strided: every row rounds up
  dma.strides[1] = 1u << 15;
  arch::Instr mm;
  mm.op = arch::Opcode::MatMul;
  mm.dtype = arch::DType::F16;
  mm.dims[0] = mm.dims[1] = mm.dims[2] = 1u << 14;
  arch::Instr vec;
  vec.op = arch::Opcode::VecSoftmax;
  vec.dims[0] = 1u << 15;
  vec.dims[1] = 1u << 14;
  unsigned corners = 0, refused = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    arch::ChipConfig chip = ref();
    // Every number at one end of its range, text fields at either choice.
    for (const arch::ConfigField &f : arch::chipConfigFields()) {
      bool high = rng() & 1;
      double v = high ? f.range.max : f.range.min;
      std::visit(
          [&](auto member) {
            using T = std::decay_t<decltype(chip.*member)>;
            if constexpr (std::is_same_v<T, std::string>) {
              if (!f.choices.empty())
                chip.*member = f.choices[high ? 1 : 0];
            } else if constexpr (std::is_same_v<T, bool>) {
              chip.*member = high;
            } else {
              chip.*member = T(v);
            }
          },
          f.member);
    }
    ++corners;
    // DMA (simple model): latency + data, or the SRAM side.
    LD latency = std::ceil(LD(chip.dram_latency_ns) * chip.clock_ghz - 1e-9L);
    LD bpc = LD(chip.dram_bandwidth_gbps) / chip.clock_ghz;
    LD rows = dma.dims[0], rowBytes = dma.dims[1],
       burst = chip.dram_burst_bytes;
    LD bus = rows * std::ceil(rowBytes / burst) * burst;
    LD wantDma =
        std::max(latency + ceilL(bus, bpc),
                 LD(chip.sram_access_cycles) +
                     ceilL(rows * rowBytes,
                           LD(chip.sram_banks) * chip.sram_bank_width_bytes));
    // Matrix unit: folds x fold cycles - overlaps.
    LD m = mm.dims[0], k = mm.dims[1], n = mm.dims[2];
    LD r = chip.matrix_rows, c = chip.matrix_cols;
    bool os = chip.outputStationary();
    LD folds = std::ceil((os ? m : k) / r) * std::ceil(n / c);
    LD stream = (os ? k : m) * chip.matrix_fp16_rate_divisor;
    LD fold = (os ? r : 2 * r) + c + stream - 2;
    LD overlap = chip.scale_sim_compatible ? 0 : std::min(r, stream);
    LD wantMm = folds * fold - (folds - 1) * overlap;
    // Vector unit: startup + passes x ceil(elements / lanes).
    LD wantVec =
        LD(chip.vector_startup_cycles) +
        LD(chip.vector_softmax_passes) *
            std::ceil(LD(vec.dims[0]) * vec.dims[1] / chip.vector_lanes);
    for (auto [in, want] : {std::pair{dma, wantDma}, std::pair{mm, wantMm},
                            std::pair{vec, wantVec}}) {
      ASSERT_LT(want, LD(1ull << 62)) << in.toString();
      if (in.op == arch::Opcode::DmaLoad && chip.detailedDram())
        continue; // the detailed model runs in the simulator (bounded below)
      // Equal up to the last bit of the floating-point quotient; a wrapped
      // or saturated figure would be off by orders of magnitude.
      LD got = LD(timing::instrCycles(chip, in));
      EXPECT_LE(std::fabs(got - want), 1 + want * 1e-12L)
          << in.toString() << " at corner " << trial << ": " << double(got)
          << " vs " << double(want) << "\n"
          << chip.toText();
    }
    // A frame of one such DMA, then of 4096: the bound is computed without
    // wrapping and refuses what passes 2^40 cycles with the clear error.
    arch::Program p;
    p.chipName = chip.name;
    // The bound also holds each transfer's most bank-conflict cycles.
    LD conflict = chip.sram_ports_per_bank < 2
                      ? LD(dma.dims[0]) *
                            (std::ceil(LD(dma.dims[1]) /
                                       chip.sram_bank_width_bytes) +
                             1)
                      : 0;
    for (size_t count : {size_t(1), size_t(4096)}) {
      p.instrs.assign(count, dma);
      try {
        uint64_t b = timing::frameCycleBound(chip, p);
        EXPECT_LE(b, timing::kMaxFrameCycles);
        if (!chip.detailedDram())
          EXPECT_GE(LD(b) * (1 + 1e-12L), wantDma * count);
      } catch (const arch::ContractError &e) {
        ++refused;
        EXPECT_NE(std::string(e.what()).find("takes the frame past "
                                             "1099511627776 cycles"),
                  std::string::npos)
            << e.what();
        if (!chip.detailedDram())
          EXPECT_GT((wantDma + conflict) * count,
                    LD(timing::kMaxFrameCycles) * 0.999L);
        break;
      }
    }
  }
  EXPECT_EQ(corners, 2000u);
  // Both outcomes occur: the slow corners' frames are refused, the fast
  // ones' are timed.
  EXPECT_GT(refused, 0u);
  EXPECT_LT(refused, corners);
}

} // namespace
