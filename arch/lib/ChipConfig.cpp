//===- ChipConfig.cpp - Chip config fields, read from TOML with toml++ ----===//

#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Error.h"
#include "tessera/arch/FileIo.h"
#include "tessera/arch/Ranges.h"
#include "tessera/arch/Toml.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

using namespace tessera::arch;

const std::vector<ConfigField> &tessera::arch::chipConfigFields() {
  using C = ChipConfig;
  // Physical ranges: every chip worth simulating is inside them, and they
  // bound every timing figure (docs/chip-config.md gives the units and
  // docs/timing-model.md the bound they guarantee). The ends are generous
  // around today's parts: a 10 MHz microcontroller to a 100 GHz core, a
  // 0.1 GB/s serial flash to 10 TB/s of stacked memory.
  auto in = FieldRange::between;
  static const std::vector<ConfigField> all = {
      {"name", &C::name},
      {"clock_ghz", &C::clock_ghz, in(0.01, 100)},
      {"matrix_rows", &C::matrix_rows, in(1, 4096)},
      {"matrix_cols", &C::matrix_cols, in(1, 4096)},
      {"matrix_fp16_rate_divisor", &C::matrix_fp16_rate_divisor, in(1, 64)},
      {"matrix_dataflow",
       &C::matrix_dataflow,
       {},
       {"weight_stationary", "output_stationary"}},
      {"scale_sim_compatible", &C::scale_sim_compatible},
      {"matrix_accumulator_rows", &C::matrix_accumulator_rows, in(1, 1 << 20)},
      {"vector_lanes", &C::vector_lanes, in(1, 65536)},
      {"vector_startup_cycles", &C::vector_startup_cycles, in(0, 100000)},
      {"vector_elementwise_passes", &C::vector_elementwise_passes, in(1, 64)},
      {"vector_layernorm_passes", &C::vector_layernorm_passes, in(1, 64)},
      {"vector_softmax_passes", &C::vector_softmax_passes, in(1, 64)},
      {"vector_gelu_passes", &C::vector_gelu_passes, in(1, 64)},
      {"vector_transpose_passes", &C::vector_transpose_passes, in(1, 64)},
      {"sram_bytes", &C::sram_bytes, in(1024, 1 << 30)},
      {"sram_banks", &C::sram_banks, in(1, 4096)},
      {"sram_bank_width_bytes", &C::sram_bank_width_bytes, in(1, 4096)},
      {"sram_access_cycles", &C::sram_access_cycles, in(0, 100000)},
      {"sram_ports_per_bank",
       &C::sram_ports_per_bank,
       in(1, 2),
       {},
       /*required=*/false},
      {"dram_bandwidth_gbps", &C::dram_bandwidth_gbps, in(0.1, 10000)},
      {"dram_latency_ns", &C::dram_latency_ns, in(0, 10000)},
      {"dram_burst_bytes", &C::dram_burst_bytes, in(1, 4096)},
      {"dram_model", &C::dram_model, {}, {"simple", "detailed"}},
      {"dram_channels", &C::dram_channels, in(1, 256)},
      {"dram_banks", &C::dram_banks, in(1, 256)},
      {"dram_row_bytes", &C::dram_row_bytes, in(1, 1 << 20)},
      {"dram_trcd_ns", &C::dram_trcd_ns, in(0, 1000)},
      {"dram_trp_ns", &C::dram_trp_ns, in(0, 1000)},
      {"dram_twtr_ns", &C::dram_twtr_ns, in(0, 1000)},
      {"dram_trtw_ns", &C::dram_trtw_ns, in(0, 1000)},
      {"dma_outstanding_transfers", &C::dma_outstanding_transfers, in(1, 1024)},
      {"npus", &C::npus, in(1, 4), {}, /*required=*/false},
      {"npu_sync_cycles",
       &C::npu_sync_cycles,
       in(0, 100000),
       {},
       /*required=*/false},
      {"frame_budget_ms", &C::frame_budget_ms, in(0.001, 1e6)},
      {"energy_mac_int8_pj", &C::energy_mac_int8_pj, in(0, 1e6)},
      {"energy_mac_fp16_pj", &C::energy_mac_fp16_pj, in(0, 1e6)},
      {"energy_mac_fp32_pj", &C::energy_mac_fp32_pj, in(0, 1e6)},
      {"energy_vector_op_pj", &C::energy_vector_op_pj, in(0, 1e6)},
      {"energy_sram_pj_per_byte", &C::energy_sram_pj_per_byte, in(0, 1e6)},
      {"energy_dram_pj_per_byte", &C::energy_dram_pj_per_byte, in(0, 1e6)},
      {"static_power_w", &C::static_power_w, in(0, 10000)},
  };
  return all;
}

std::string tessera::arch::rangeText(const FieldRange &r) {
  // Whole numbers in full (1073741824, not 1.07374e+09), others as written.
  auto num = [](double v) {
    std::ostringstream os;
    if (v == std::floor(v) && std::fabs(v) < 1e15)
      os << int64_t(v);
    else
      os << std::setprecision(15) << v;
    return os.str();
  };
  if (r.minInclusive && r.maxInclusive && std::isfinite(r.max))
    return num(r.min) + " .. " + num(r.max);
  return std::string(r.minInclusive ? "[" : "(") + num(r.min) + ", " +
         num(r.max) + (r.maxInclusive ? "]" : ")");
}

const ConfigField *tessera::arch::findConfigField(const std::string &name) {
  for (const ConfigField &f : chipConfigFields())
    if (name == f.name)
      return &f;
  return nullptr;
}

const char *ConfigField::kindName() const {
  switch (member.index()) {
  case 0:
    return "text";
  case 1:
    return "number";
  case 4:
    return "true or false";
  default:
    return "whole number";
  }
}

namespace {

/// Checks that `v` (the value `got`) is in `field`'s range; the error names
/// the range.
void checkRange(const ConfigField &field, double v, const std::string &got,
                const std::string &where) {
  const FieldRange &r = field.range;
  if (r.contains(v))
    return;
  std::string prefix = where + ": field '" + field.name + "' ";
  std::string range = rangeText(r);
  if (v < 0 && r.min >= 0)
    throw ContractError(prefix + "must not be negative (its range is " + range +
                        "), got " + got);
  if (v == 0 && r.min >= 0)
    throw ContractError(prefix + "must be positive (its range is " + range +
                        "), got " + got);
  throw ContractError(prefix + "must be in its range " + range + ", got " +
                      got);
}

} // namespace

void tessera::arch::setConfigField(ChipConfig &config, const ConfigField &field,
                                   const toml::node &value,
                                   const std::string &where) {
  std::string got = tomlRepr(value);
  std::string prefix = where + ": field '" + field.name + "' ";
  auto expects = [&](const char *what) {
    return ContractError(prefix + "expects " + what + ", got " + got);
  };

  if (auto m = std::get_if<std::string ChipConfig::*>(&field.member)) {
    const toml::value<std::string> *text = value.as_string();
    if (!text)
      throw expects("quoted text");
    if (!field.choices.empty() &&
        std::find(field.choices.begin(), field.choices.end(), text->get()) ==
            field.choices.end()) {
      std::string list;
      for (const std::string &c : field.choices)
        list += (list.empty() ? "" : " or ") + c;
      throw ContractError(prefix + "expects " + list + ", got " + got);
    }
    config.*(*m) = text->get();
    return;
  }
  if (auto m = std::get_if<bool ChipConfig::*>(&field.member)) {
    if (!value.is_boolean())
      throw expects("true or false");
    config.*(*m) = value.as_boolean()->get();
    return;
  }

  // Numbers: a TOML integer (decimal only) or float.
  double number;
  if (const toml::value<int64_t> *i = value.as_integer()) {
    if (!!(i->flags() & toml::value_flags::format_as_hexadecimal) ||
        !!(i->flags() & toml::value_flags::format_as_octal) ||
        !!(i->flags() & toml::value_flags::format_as_binary))
      throw expects("a decimal number");
    number = double(i->get());
  } else if (const toml::value<double> *d = value.as_floating_point()) {
    number = d->get();
    if (!std::isfinite(number))
      throw expects("a finite number");
  } else {
    throw expects("a number");
  }
  checkRange(field, number, got, where);

  if (auto m = std::get_if<double ChipConfig::*>(&field.member)) {
    config.*(*m) = number;
    return;
  }
  if (number != std::floor(number))
    throw expects("a whole number");
  if (auto m = std::get_if<uint32_t ChipConfig::*>(&field.member)) {
    if (number > 4294967295.0)
      throw ContractError(prefix + "is too large: " + got);
    config.*(*m) = uint32_t(number);
    return;
  }
  auto m = std::get<uint64_t ChipConfig::*>(field.member);
  if (value.is_integer())
    config.*m = uint64_t(value.as_integer()->get());
  else if (number < 1.8e19)
    config.*m = uint64_t(number);
  else
    throw ContractError(prefix + "is too large: " + got);
}

namespace {

/// A value in the file with the flat field name it sets.
struct Entry {
  std::string name;
  const toml::node *value;
  toml::source_region at; // of the key
};

/// Collects the values of `table`, naming a value in section `[s]` (or a
/// dotted key `s.x`) by its flat name `s_x`.
void flatten(const toml::table &table, const std::string &prefix,
             std::vector<Entry> &out) {
  for (auto &&[key, value] : table) {
    std::string name = prefix + std::string(key.str());
    if (value.is_table() && !findConfigField(name))
      flatten(*value.as_table(), name + "_", out);
    else
      out.push_back({name, &value, key.source()});
  }
}

} // namespace

ChipConfig tessera::arch::chipConfigFromToml(const toml::table &table,
                                             const std::string &source) {
  std::vector<Entry> entries;
  flatten(table, "", entries);
  // toml++ keeps a table's keys sorted by name; report in file order.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry &a, const Entry &b) {
                     return a.at.begin.line < b.at.begin.line;
                   });
  ChipConfig config;
  std::map<std::string, unsigned> seen;
  for (const Entry &e : entries) {
    std::string where = tomlWhere(source, e.at);
    const ConfigField *field = findConfigField(e.name);
    if (!field)
      throw ContractError(where + ": unknown field '" + e.name + "'");
    auto [it, fresh] = seen.emplace(e.name, e.at.begin.line);
    if (!fresh)
      throw ContractError(where + ": field '" + e.name +
                          "' given twice (first on line " +
                          std::to_string(it->second) + ")");
    setConfigField(config, *field, *e.value, where);
  }
  for (const ConfigField &f : chipConfigFields())
    if (f.required && !seen.count(f.name))
      throw ContractError(source + ": missing field '" + f.name + "'");
  return config;
}

uint64_t ChipConfig::dramLatencyCycles() const {
  return uint64_t(std::ceil(dram_latency_ns * clock_ghz - 1e-9));
}

ChipConfig ChipConfig::reference() { return ChipConfig(); }

std::vector<std::string> ChipConfig::fieldNames() {
  std::vector<std::string> names;
  for (const ConfigField &f : chipConfigFields())
    names.push_back(f.name);
  return names;
}

ChipConfig ChipConfig::parse(const std::string &text,
                             const std::string &source) {
  auto isText = [](std::string_view key) {
    const ConfigField *f = findConfigField(std::string(key));
    return f && f->member.index() == 0;
  };
  return chipConfigFromToml(parseToml(text, source, isText), source);
}

ChipConfig ChipConfig::load(const std::string &path) {
  return parse(readInputFile(path, kMaxChipConfigBytes, "chip config"), path);
}

std::string ChipConfig::toText() const {
  std::ostringstream os;
  for (const ConfigField &f : chipConfigFields()) {
    os << f.name << " = ";
    std::visit(
        [&](auto member) {
          using T = std::decay_t<decltype(this->*member)>;
          const T &v = this->*member;
          if constexpr (std::is_same_v<T, std::string>)
            os << tomlString(v);
          else if constexpr (std::is_same_v<T, double>)
            os << tomlDouble(v);
          else if constexpr (std::is_same_v<T, bool>)
            os << (v ? "true" : "false");
          else
            os << v;
        },
        f.member);
    os << "\n";
  }
  return os.str();
}
