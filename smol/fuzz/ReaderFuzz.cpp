//===- ReaderFuzz.cpp - libFuzzer target for the .smol reader -------------===//
//
// Part of Tessera. Opens arbitrary bytes as a .smol file from memory and
// exercises everything a reader does with it: the index, every row and
// column (checksums, decryption with the fuzz key), prefix reads, early
// rejection on every scalar column, static columns, layout undoing, and
// verify(). smol::Error is the only acceptable failure; any other exception,
// a crash or a sanitizer report is a bug.
//
//===----------------------------------------------------------------------===//

#include "FuzzSeeds.h"

#include "tessera/Smol/Reader.h"

#include <cstddef>
#include <cstdint>

using namespace tessera::smol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const Keyring keys = fuzzKeyring();
  std::unique_ptr<Reader> r;
  try {
    ReaderOptions o;
    o.keys = keys;
    o.openPrefixBytes = 512; // exercise the second header read as well
    r = std::make_unique<Reader>(
        std::make_unique<MemoryFile>(data, size, "fuzz.smol"), o);
  } catch (const Error &) {
    return 0;
  }
  uint64_t rows = r->size() < 8 ? r->size() : 8;
  for (const Column &c : r->columns())
    if (c.spec.isStatic)
      (void)r->staticColumn(c.spec.name).logicalCopy();
  for (uint64_t i = 0; i < rows; ++i) {
    (void)r->findTimestamp(r->entries()[i].timestamp);
    try {
      Row row = r->readRow(i);
      for (uint32_t k = 0; k < r->dynamicColumns(); ++k) {
        try {
          TensorView v = row.column(k);
          volatile uint8_t sink = 0;
          for (size_t b = 0; b < v.bytes; b += 61)
            sink = sink ^ v.data[b];
          (void)v.logicalCopy();
        } catch (const Error &) {
        }
      }
    } catch (const Error &) {
    }
    try {
      Row head = r->readPrefix(i, 100);
      for (uint32_t k = 0; k < r->dynamicColumns(); ++k)
        if (head.has(r->columns()[k].spec.name))
          try {
            head.column(k);
          } catch (const Error &) {
          }
    } catch (const Error &) {
    }
    for (const Column &c : r->columns())
      if (!c.spec.isStatic && c.spec.elements() == 1 && !c.encrypted()) {
        Predicate p;
        p.column = c.spec.name;
        p.op = Predicate::Op::Ge;
        try {
          r->readIf(i, p);
        } catch (const Error &) {
        }
      }
  }
  (void)r->verify();
  return 0;
}
