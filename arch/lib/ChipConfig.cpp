//===- ChipConfig.cpp - Chip config fields, read from TOML with toml++ ----===//

#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Error.h"
#include "tessera/arch/FileIo.h"
#include "tessera/arch/Toml.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

using namespace tessera::arch;

const std::vector<ConfigField> &tessera::arch::chipConfigFields() {
  using C = ChipConfig;
  const FieldRange positive = FieldRange::positive();
  const FieldRange nonNegative = FieldRange::nonNegative();
  static const std::vector<ConfigField> all = {
      {"name", &C::name},
      {"clock_ghz", &C::clock_ghz, positive},
      {"matrix_rows", &C::matrix_rows, positive},
      {"matrix_cols", &C::matrix_cols, positive},
      {"matrix_fp16_rate_divisor", &C::matrix_fp16_rate_divisor, positive},
      {"matrix_dataflow",
       &C::matrix_dataflow,
       {},
       {"weight_stationary", "output_stationary"}},
      {"scale_sim_compatible", &C::scale_sim_compatible},
      {"matrix_accumulator_rows", &C::matrix_accumulator_rows, positive},
      {"vector_lanes", &C::vector_lanes, positive},
      {"vector_startup_cycles", &C::vector_startup_cycles, nonNegative},
      {"vector_elementwise_passes", &C::vector_elementwise_passes, positive},
      {"vector_layernorm_passes", &C::vector_layernorm_passes, positive},
      {"vector_softmax_passes", &C::vector_softmax_passes, positive},
      {"vector_gelu_passes", &C::vector_gelu_passes, positive},
      {"vector_transpose_passes", &C::vector_transpose_passes, positive},
      {"sram_bytes", &C::sram_bytes, positive},
      {"sram_banks", &C::sram_banks, positive},
      {"sram_bank_width_bytes", &C::sram_bank_width_bytes, positive},
      {"sram_access_cycles", &C::sram_access_cycles, nonNegative},
      {"sram_ports_per_bank",
       &C::sram_ports_per_bank,
       FieldRange::between(1, 2),
       {},
       /*required=*/false},
      {"dram_bandwidth_gbps", &C::dram_bandwidth_gbps, positive},
      {"dram_latency_ns", &C::dram_latency_ns, nonNegative},
      {"dram_burst_bytes", &C::dram_burst_bytes, positive},
      {"dram_model", &C::dram_model, {}, {"simple", "detailed"}},
      {"dram_channels", &C::dram_channels, positive},
      {"dram_banks", &C::dram_banks, positive},
      {"dram_row_bytes", &C::dram_row_bytes, positive},
      {"dram_trcd_ns", &C::dram_trcd_ns, nonNegative},
      {"dram_trp_ns", &C::dram_trp_ns, nonNegative},
      {"dram_twtr_ns", &C::dram_twtr_ns, nonNegative},
      {"dram_trtw_ns", &C::dram_trtw_ns, nonNegative},
      {"dma_outstanding_transfers", &C::dma_outstanding_transfers, positive},
      {"frame_budget_ms", &C::frame_budget_ms, positive},
      {"energy_mac_int8_pj", &C::energy_mac_int8_pj, nonNegative},
      {"energy_mac_fp16_pj", &C::energy_mac_fp16_pj, nonNegative},
      {"energy_mac_fp32_pj", &C::energy_mac_fp32_pj, nonNegative},
      {"energy_vector_op_pj", &C::energy_vector_op_pj, nonNegative},
      {"energy_sram_pj_per_byte", &C::energy_sram_pj_per_byte, nonNegative},
      {"energy_dram_pj_per_byte", &C::energy_dram_pj_per_byte, nonNegative},
      {"static_power_w", &C::static_power_w, nonNegative},
  };
  return all;
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

/// A bound as a person writes it (1e+30 -> 1e+30, 0.01 -> 0.01, 100 -> 100).
std::string bound(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

/// Checks that `v` (the value `got`) is in `field`'s range.
void checkRange(const ConfigField &field, double v, const std::string &got,
                const std::string &where) {
  const FieldRange &r = field.range;
  if (r.contains(v))
    return;
  std::string prefix = where + ": field '" + field.name + "' ";
  if (v < 0 && r.min >= 0)
    throw ContractError(prefix + "must not be negative, got " + got);
  if (v == 0 && r.min == 0 && !r.minInclusive)
    throw ContractError(prefix + "must be positive, got " + got);
  std::string range = std::string(r.minInclusive ? "[" : "(") + bound(r.min) +
                      ", " + bound(r.max) + (r.maxInclusive ? "]" : ")");
  throw ContractError(prefix + "must be in " + range + ", got " + got);
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
