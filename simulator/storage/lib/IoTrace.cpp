//===- IoTrace.cpp - I/O traces replayed by the storage models ------------===//
//
// Part of Tessera. Totals and validation of a reader's I/O trace.
//
//===----------------------------------------------------------------------===//

#include "tessera/Storage/IoTrace.h"

#include <limits>
#include <stdexcept>

namespace tessera {
namespace storage {

uint64_t SampleTrace::bytes() const {
  uint64_t total = 0;
  for (const IoOp &op : ops)
    total += op.bytes;
  return total;
}

uint64_t ReaderTrace::sampleOps() const {
  uint64_t total = 0;
  for (const SampleTrace &s : samples)
    total += s.ops.size();
  return total;
}

uint64_t ReaderTrace::sampleBytes() const {
  uint64_t total = 0;
  for (const SampleTrace &s : samples)
    total += s.bytes();
  return total;
}

uint64_t ReaderTrace::openBytes() const {
  uint64_t total = 0;
  for (const IoOp &op : openOps)
    total += op.bytes;
  return total;
}

static void checkOp(const ReaderTrace &trace, const IoOp &op,
                    const std::string &where) {
  if (op.file >= trace.files.size())
    throw std::invalid_argument("io trace: " + where + ": file index " +
                                std::to_string(op.file) + " out of range (" +
                                std::to_string(trace.files.size()) + " files)");
  if (op.bytes > std::numeric_limits<uint64_t>::max() - op.offset)
    throw std::invalid_argument("io trace: " + where +
                                ": offset + bytes overflows");
}

void ReaderTrace::validate() const {
  for (size_t i = 0; i < openOps.size(); ++i)
    checkOp(*this, openOps[i], "open op " + std::to_string(i));
  for (size_t s = 0; s < samples.size(); ++s)
    for (size_t i = 0; i < samples[s].ops.size(); ++i)
      checkOp(*this, samples[s].ops[i],
              "sample " + std::to_string(s) + " op " + std::to_string(i));
}

} // namespace storage
} // namespace tessera
