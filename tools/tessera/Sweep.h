//===- Sweep.h - `tessera sweep`: run a design-space sweep ------*- C++ -*-===//
//
// Part of Tessera. Runs the points of a sweep file (SweepSpec.h) in parallel
// worker processes, each compiled and simulated timing-only, stores one result
// file per point under OUT/points/ (keyed by a hash of the point, so a rerun
// only runs what is missing), and joins them into OUT/results.csv and
// OUT/results.json; also shards (--shard i/N), Slurm job arrays (--slurm) and
// the merge of shard directories (--merge). docs/sweep.md is the user guide.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_TOOLS_SWEEP_H
#define TESSERA_TOOLS_SWEEP_H

#include "llvm/Support/CommandLine.h"

#include <string>

namespace tessera::tools {

/// The options of `tessera sweep` and `tessera budget` (for --help).
llvm::cl::OptionCategory &sweepCategory();

/// True when the command line selected `tessera sweep`.
bool sweepSelected();
/// Runs `tessera sweep` with the parsed options; returns the exit code
/// (0: every point ran or was already done; 1: an error in the sweep file or
/// the output directory; 3: some points failed, recorded in the results).
int sweepMain(const char *argv0);

/// True when the command line selected `tessera budget`.
bool budgetSelected();
/// Runs `tessera budget`; returns the exit code (0: within the baseline and
/// every required budget; 1: error; 4: a regression or a missed budget).
int budgetMain(const char *argv0);

/// Hex SHA-256 of `text`, shortened to `chars` characters.
std::string hashText(const std::string &text, size_t chars = 16);

} // namespace tessera::tools

#endif // TESSERA_TOOLS_SWEEP_H
