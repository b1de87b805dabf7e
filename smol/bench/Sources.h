//===- Sources.h - the drive log and .smol as the bench uses them -*- C++ -*-===//
//
// Part of Tessera. The bench's link to TesseraSmol (SmolSources.cpp): the
// synthetic drive-log generator as a ContentSource, and the .smol
// writer/reader as a Format whose reads are counted like the baselines'.
//
//===----------------------------------------------------------------------===//

#ifndef TESSERA_BENCH_SOURCES_H
#define TESSERA_BENCH_SOURCES_H

#include "Bench.h"

#include <map>
#include <memory>
#include <string>

namespace tessera {
namespace bench {

/// Options of the synthetic log, from the command line ("--log-<key> value").
using LogOptions = std::map<std::string, std::string>;

/// The seeded synthetic drive log of `records` timestamps. Throws
/// std::invalid_argument on a bad option.
std::unique_ptr<baselines::ContentSource>
makeDriveLog(uint64_t records, uint64_t seed, const LogOptions &options);

/// Human-readable summary of the log (cameras, sizes) for the table title.
std::string describeLog(const baselines::ContentSource &source);

/// .smol through TesseraSmol's writer and reader.
std::vector<Format> smolFormats();

} // namespace bench
} // namespace tessera

#endif // TESSERA_BENCH_SOURCES_H
