//===- ChipConfig.cpp - Parsing and printing chip config files ------------===//

#include "tessera/arch/ChipConfig.h"
#include "tessera/arch/Error.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

using namespace tessera::arch;

namespace {

/// One config field: how to read it from and write it to a ChipConfig.
struct Field {
  const char *name;
  enum Kind { String, Double, U32, U64, Bool } kind;
  std::function<void *(ChipConfig &)> ref;
};

const std::vector<Field> &fields() {
  static const std::vector<Field> all = {
#define TSR_FIELD(NAME, KIND)                                                  \
  Field {                                                                      \
#NAME, Field::KIND, [](ChipConfig & c) -> void * { return &c.NAME; }       \
  }
      TSR_FIELD(name, String),
      TSR_FIELD(clock_ghz, Double),
      TSR_FIELD(matrix_rows, U32),
      TSR_FIELD(matrix_cols, U32),
      TSR_FIELD(matrix_fp16_rate_divisor, U32),
      TSR_FIELD(matrix_dataflow, String),
      TSR_FIELD(scale_sim_compatible, Bool),
      TSR_FIELD(matrix_accumulator_rows, U32),
      TSR_FIELD(vector_lanes, U32),
      TSR_FIELD(vector_startup_cycles, U32),
      TSR_FIELD(vector_elementwise_passes, U32),
      TSR_FIELD(vector_layernorm_passes, U32),
      TSR_FIELD(vector_softmax_passes, U32),
      TSR_FIELD(vector_gelu_passes, U32),
      TSR_FIELD(vector_transpose_passes, U32),
      TSR_FIELD(sram_bytes, U64),
      TSR_FIELD(sram_banks, U32),
      TSR_FIELD(sram_bank_width_bytes, U32),
      TSR_FIELD(sram_access_cycles, U32),
      TSR_FIELD(dram_bandwidth_gbps, Double),
      TSR_FIELD(dram_latency_ns, Double),
      TSR_FIELD(dram_burst_bytes, U32),
      TSR_FIELD(dram_model, String),
      TSR_FIELD(dram_channels, U32),
      TSR_FIELD(dram_banks, U32),
      TSR_FIELD(dram_row_bytes, U32),
      TSR_FIELD(dram_trcd_ns, Double),
      TSR_FIELD(dram_trp_ns, Double),
      TSR_FIELD(dram_twtr_ns, Double),
      TSR_FIELD(dram_trtw_ns, Double),
      TSR_FIELD(dma_outstanding_transfers, U32),
      TSR_FIELD(frame_budget_ms, Double),
      TSR_FIELD(energy_mac_int8_pj, Double),
      TSR_FIELD(energy_mac_fp16_pj, Double),
      TSR_FIELD(energy_mac_fp32_pj, Double),
      TSR_FIELD(energy_vector_op_pj, Double),
      TSR_FIELD(energy_sram_pj_per_byte, Double),
      TSR_FIELD(energy_dram_pj_per_byte, Double),
      TSR_FIELD(static_power_w, Double),
#undef TSR_FIELD
  };
  return all;
}

/// Fields that may be zero (a latency can be zero; a size or rate cannot).
bool mayBeZero(const std::string &name) {
  return name == "vector_startup_cycles" || name == "sram_access_cycles" ||
         name == "dram_latency_ns" || name.rfind("energy_", 0) == 0 ||
         name == "static_power_w" || name == "dram_trcd_ns" ||
         name == "dram_trp_ns" || name == "dram_twtr_ns" ||
         name == "dram_trtw_ns";
}

/// The values an enumerated text field accepts (empty: free text).
std::vector<std::string> choicesOf(const std::string &name) {
  if (name == "matrix_dataflow")
    return {"weight_stationary", "output_stationary"};
  if (name == "dram_model")
    return {"simple", "detailed"};
  return {};
}

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

[[noreturn]] void fail(const std::string &source, unsigned line,
                       const std::string &msg) {
  std::ostringstream os;
  os << source;
  if (line)
    os << ":" << line;
  os << ": " << msg;
  throw ContractError(os.str());
}

} // namespace

uint64_t ChipConfig::dramLatencyCycles() const {
  return uint64_t(std::ceil(dram_latency_ns * clock_ghz - 1e-9));
}

ChipConfig ChipConfig::reference() { return ChipConfig(); }

std::vector<std::string> ChipConfig::fieldNames() {
  std::vector<std::string> names;
  for (const Field &f : fields())
    names.push_back(f.name);
  return names;
}

ChipConfig ChipConfig::parse(const std::string &text,
                             const std::string &source) {
  ChipConfig cfg;
  std::map<std::string, unsigned> seen;
  std::istringstream in(text);
  std::string raw;
  unsigned lineNo = 0;
  while (std::getline(in, raw)) {
    ++lineNo;
    std::string line = trim(raw.substr(0, raw.find('#')));
    if (line.empty())
      continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos)
      fail(source, lineNo, "expected 'field = value', got '" + line + "'");
    std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    const Field *field = nullptr;
    for (const Field &f : fields())
      if (key == f.name)
        field = &f;
    if (!field)
      fail(source, lineNo, "unknown field '" + key + "'");
    if (seen.count(key))
      fail(source, lineNo,
           "field '" + key + "' given twice (first on line " +
               std::to_string(seen[key]) + ")");
    seen[key] = lineNo;
    if (value.empty())
      fail(source, lineNo, "field '" + key + "' has no value");
    void *dst = field->ref(cfg);
    if (field->kind == Field::String) {
      std::vector<std::string> choices = choicesOf(key);
      if (!choices.empty() &&
          std::find(choices.begin(), choices.end(), value) == choices.end()) {
        std::string list;
        for (const std::string &c : choices)
          list += (list.empty() ? "" : " or ") + c;
        fail(source, lineNo,
             "field '" + key + "' expects " + list + ", got '" + value + "'");
      }
      *static_cast<std::string *>(dst) = value;
      continue;
    }
    if (field->kind == Field::Bool) {
      if (value != "true" && value != "false")
        fail(source, lineNo,
             "field '" + key + "' expects true or false, got '" + value + "'");
      *static_cast<bool *>(dst) = value == "true";
      continue;
    }
    const char *begin = value.c_str();
    char *end = nullptr;
    errno = 0;
    double number = std::strtod(begin, &end);
    if (end == begin || *end != '\0' || errno == ERANGE ||
        !std::isfinite(number))
      fail(source, lineNo,
           "field '" + key + "' expects a number, got '" + value + "'");
    if (number < 0)
      fail(source, lineNo,
           "field '" + key + "' must not be negative, got " + value);
    if (number == 0 && !mayBeZero(key))
      fail(source, lineNo,
           "field '" + key + "' must be positive, got " + value);
    if (field->kind == Field::Double) {
      *static_cast<double *>(dst) = number;
      continue;
    }
    if (number != std::floor(number))
      fail(source, lineNo,
           "field '" + key + "' expects a whole number, got " + value);
    double limit = field->kind == Field::U32 ? 4294967295.0 : 1.8e19;
    if (number > limit)
      fail(source, lineNo, "field '" + key + "' is too large: " + value);
    if (field->kind == Field::U32)
      *static_cast<uint32_t *>(dst) = uint32_t(number);
    else
      *static_cast<uint64_t *>(dst) = uint64_t(number);
  }
  for (const Field &f : fields())
    if (!seen.count(f.name))
      fail(source, 0, std::string("missing field '") + f.name + "'");
  return cfg;
}

ChipConfig ChipConfig::load(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ContractError(path + ": cannot open chip config");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

std::string ChipConfig::toText() const {
  std::ostringstream os;
  os.precision(17);
  ChipConfig copy = *this;
  for (const Field &f : fields()) {
    void *p = f.ref(copy);
    os << f.name << " = ";
    switch (f.kind) {
    case Field::String:
      os << *static_cast<std::string *>(p);
      break;
    case Field::Double:
      os << *static_cast<double *>(p);
      break;
    case Field::U32:
      os << *static_cast<uint32_t *>(p);
      break;
    case Field::U64:
      os << *static_cast<uint64_t *>(p);
      break;
    case Field::Bool:
      os << (*static_cast<bool *>(p) ? "true" : "false");
      break;
    }
    os << "\n";
  }
  return os.str();
}
