//===- Formats.h - constructors of the individual baselines -----*- C++ -*-===//
//
// Part of Tessera (internal to TesseraBaselines).
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_BASELINES_LIB_FORMATS_H
#define TESSERA_BASELINES_LIB_FORMATS_H

#include "tessera/Baselines/Baseline.h"

#include <functional>
#include <memory>

namespace tessera {
namespace baselines {

std::unique_ptr<Baseline> makeCsvBaseline();
std::unique_ptr<Baseline> makeJsonlBaseline();
std::unique_ptr<Baseline> makeRowLogBaseline();
std::unique_ptr<Baseline> makeHdf5Baseline();
std::unique_ptr<Baseline> makeTfRecordBaseline();
std::unique_ptr<Baseline> makeTarShardBaseline();
std::unique_ptr<Baseline> makeMp4Baseline(unsigned gop);

} // namespace baselines
} // namespace tessera

#endif // TESSERA_BASELINES_LIB_FORMATS_H
