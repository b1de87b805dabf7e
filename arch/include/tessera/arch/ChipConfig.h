//===- ChipConfig.h - Chip configuration shared by compiler and simulator -===//
//
// Every latency, bandwidth, size and rate of the virtual chip is a named field
// here, with its unit in the name. The compiler tiles against it and the
// simulator times against it; neither keeps its own copy of a number.
//
// Config files are TOML (read with toml++, see Toml.h), one `field = value`
// per line, `#` starts a comment; a field may also be written in a section
// named by its prefix (`[sram]` then `bytes = ...` is `sram_bytes`). Every
// required field must be present exactly once (a config describes a whole
// chip); unknown fields, missing fields, values out of their field's range and
// malformed values are errors that name the file, the line and the field.
//
// The fields, their kinds and ranges are one table, chipConfigFields(): adding
// a field is adding a member here and one entry there.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_ARCH_CHIPCONFIG_H
#define TESSERA_ARCH_CHIPCONFIG_H

#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

namespace tessera::arch {

struct ChipConfig {
  std::string name = "reference";

  // Clock.
  double clock_ghz = 2.0; ///< Core clock of the NPU; 1 cycle = 1/clock_ghz ns.

  // Matrix unit: a weight-stationary systolic array.
  uint32_t matrix_rows = 96; ///< PE rows (reduction dimension K per fold).
  uint32_t matrix_cols = 96; ///< PE columns (output dimension N per fold).
  /// FP16 MACs are this many times slower than INT8 MACs (each streamed row
  /// of A occupies the array for this many cycles).
  uint32_t matrix_fp16_rate_divisor = 4;
  /// `weight_stationary` (a fold pins an R x C block of B and streams the
  /// rows of A) or `output_stationary` (a fold pins an R x C block of the
  /// output and streams the K extent); docs/timing-model.md.
  std::string matrix_dataflow = "weight_stationary";
  /// true: folds do not overlap (SCALE-Sim's convention); false: the next
  /// fold's weights (WS) or the previous fold's outputs (OS) move while the
  /// current fold streams (double-buffered registers).
  bool scale_sim_compatible = false;
  /// Rows of matrix_cols FP32 accumulators below the array: the most rows of
  /// A one weight-stationary matmul may stream (the compiler tiles M to fit).
  uint32_t matrix_accumulator_rows = 4096;

  // Vector unit.
  uint32_t vector_lanes = 64; ///< Elements processed per cycle per pass.
  uint32_t vector_startup_cycles = 16; ///< Fixed cost per vector instruction.
  uint32_t vector_elementwise_passes = 1; ///< add/sub/mul/div/scale/copy.
  uint32_t vector_layernorm_passes = 3;   ///< mean, variance, normalize.
  uint32_t vector_softmax_passes = 3;     ///< max, exp+sum, divide.
  uint32_t vector_gelu_passes = 4;        ///< erf polynomial + mul/add.
  uint32_t vector_transpose_passes = 2;   ///< read rows, write columns.

  // On-chip SRAM.
  uint64_t sram_bytes = 32ull << 20;   ///< Capacity.
  uint32_t sram_banks = 32;            ///< Independent banks.
  uint32_t sram_bank_width_bytes = 64; ///< Bytes per bank per cycle.
  uint32_t sram_access_cycles = 3;     ///< Latency of one access.
  /// Ports per bank (optional, 1 or 2): with one, a DMA transfer and the
  /// compute instruction in flight that touch the same bank take turns
  /// (bank conflicts, docs/timing-model.md "SRAM"); with two they do not.
  uint32_t sram_ports_per_bank = 1;

  // Off-chip DRAM (LPDDR4-class).
  double dram_bandwidth_gbps = 68.0; ///< Peak bandwidth, GB/s (1e9 bytes/s).
  double dram_latency_ns = 150.0;    ///< Access latency of one transfer.
  uint32_t dram_burst_bytes = 64;    ///< Transfers are rounded up to bursts.
  /// `simple` (latency + bandwidth) or `detailed` (channels, banks, row
  /// buffers, read/write turnaround); docs/timing-model.md, "DRAM".
  std::string dram_model = "simple";
  uint32_t dram_channels = 4;     ///< Independent channels (detailed).
  uint32_t dram_banks = 8;        ///< Banks per channel (detailed).
  uint32_t dram_row_bytes = 2048; ///< Row (page) size per bank (detailed).
  double dram_trcd_ns = 18.0;     ///< Activate to column command (detailed).
  double dram_trp_ns = 18.0;      ///< Precharge (detailed).
  double dram_twtr_ns = 10.0;     ///< Write-to-read turnaround (detailed).
  double dram_trtw_ns = 10.0;     ///< Read-to-write turnaround (detailed).

  // DMA.
  /// Descriptors in flight per DMA queue (load, store): transfer i of a
  /// queue issues once transfer i - N of that queue has completed.
  uint32_t dma_outstanding_transfers = 4;

  // NPUs (docs/timing-model.md, "Two NPUs").
  /// NPUs sharing the one DRAM (optional, 1 .. 4): each has its own queues,
  /// matrix and vector units, DMA engine and `sram_bytes` of SRAM; every
  /// field above describes one NPU, the DRAM fields the shared DRAM.
  uint32_t npus = 1;
  /// Cycles a completion token takes to reach another NPU (optional): an
  /// instruction that depends on another NPU's instruction issues at the
  /// earliest npu_sync_cycles after that one completed.
  uint32_t npu_sync_cycles = 32;

  // Budget.
  double frame_budget_ms = 27.78; ///< 36 fps cameras: 1000/36 ms per frame.

  // Energy (docs/chip-config.md gives the source of each default).
  double energy_mac_int8_pj = 0.23;       ///< One INT8 multiply-accumulate.
  double energy_mac_fp16_pj = 1.5;        ///< One FP16 multiply-accumulate.
  double energy_mac_fp32_pj = 4.6;        ///< One FP32 multiply-accumulate.
  double energy_vector_op_pj = 4.6;       ///< One element of one vector pass.
  double energy_sram_pj_per_byte = 12.5;  ///< One byte read or written.
  double energy_dram_pj_per_byte = 162.5; ///< One byte on the DRAM bus.
  double static_power_w = 1.0;            ///< Leakage of the NPU while powered.

  /// True when dram_model is detailed.
  bool detailedDram() const { return dram_model == "detailed"; }
  /// True when matrix_dataflow is output_stationary.
  bool outputStationary() const {
    return matrix_dataflow == "output_stationary";
  }

  /// Derived: SRAM bytes per cycle across all banks.
  uint64_t sramBytesPerCycle() const {
    return uint64_t(sram_banks) * sram_bank_width_bytes;
  }
  /// Derived: DRAM bytes per core cycle at peak bandwidth.
  double dramBytesPerCycle() const { return dram_bandwidth_gbps / clock_ghz; }
  /// Derived: DRAM access latency in core cycles (rounded up).
  uint64_t dramLatencyCycles() const;
  /// Converts core cycles to milliseconds at the configured clock.
  double cyclesToMs(uint64_t cycles) const {
    return double(cycles) / (clock_ghz * 1e6);
  }

  /// The built-in reference chip (the defaults above).
  static ChipConfig reference();
  /// Parses a config file's text; `source` names it in error messages.
  /// Throws ContractError.
  static ChipConfig parse(const std::string &text, const std::string &source);
  /// Reads and parses a config file. Throws ContractError.
  static ChipConfig load(const std::string &path);
  /// Writes the config as TOML, one flat `field = value` per line in table
  /// order (parse(toText()) == *this).
  std::string toText() const;
  /// Field names in file order, for tools that list or sweep them.
  static std::vector<std::string> fieldNames();
};

/// The values a numeric field may take: [min, max], each end open or closed.
struct FieldRange {
  double min = 0;
  bool minInclusive = true;
  double max = std::numeric_limits<double>::infinity();
  bool maxInclusive = true;

  /// Sizes, counts and rates: > 0.
  static FieldRange positive() { return {0, false}; }
  /// Latencies: >= 0.
  static FieldRange nonNegative() { return {0, true}; }
  /// A closed physical range [lo, hi].
  static FieldRange between(double lo, double hi) {
    return {lo, true, hi, true};
  }
  bool contains(double v) const {
    return (minInclusive ? v >= min : v > min) &&
           (maxInclusive ? v <= max : v < max);
  }
};

/// One config field: its name in the file, the ChipConfig member it sets
/// (whose type gives the kind: text, real number, whole number, true/false),
/// its range (numbers) or allowed values (text), and whether a file must give
/// it (an optional field keeps the member's default).
struct ConfigField {
  using Member = std::variant<std::string ChipConfig::*, double ChipConfig::*,
                              uint32_t ChipConfig::*, uint64_t ChipConfig::*,
                              bool ChipConfig::*>;
  const char *name;
  Member member;
  FieldRange range = FieldRange::positive();
  /// For text fields with a fixed set of values; empty means any text.
  std::vector<std::string> choices = {};
  bool required = true;

  /// "text", "number", "whole number" or "true or false".
  const char *kindName() const;
};

/// Every chip config field, in file order.
const std::vector<ConfigField> &chipConfigFields();
/// The field called `name`, or null.
const ConfigField *findConfigField(const std::string &name);

} // namespace tessera::arch

#endif // TESSERA_ARCH_CHIPCONFIG_H
