//===- Baseline.cpp - the list of baselines -------------------------------===//
//
// Part of Tessera.
//
//===----------------------------------------------------------------------===//

#include "Formats.h"

#include <dirent.h>
#include <sys/stat.h>

namespace tessera {
namespace baselines {

Reader::~Reader() = default;
Baseline::~Baseline() = default;

std::vector<std::unique_ptr<Baseline>> allBaselines() {
  std::vector<std::unique_ptr<Baseline>> all;
  all.push_back(makeCsvBaseline());
  all.push_back(makeJsonlBaseline());
  all.push_back(makeRowLogBaseline());
  all.push_back(makeHdf5Baseline());
  all.push_back(makeTfRecordBaseline());
  all.push_back(makeTarShardBaseline());
  for (unsigned gop : {1u, 30u, 250u})
    all.push_back(makeMp4Baseline(gop));
  return all;
}

std::unique_ptr<Baseline> makeBaseline(const std::string &name) {
  std::string names;
  for (auto &b : allBaselines()) {
    if (b->name() == name)
      return std::move(b);
    names += (names.empty() ? "" : ", ") + b->name();
  }
  throw BaselineError("unknown baseline '" + name + "' (known: " + names + ")");
}

uint64_t directoryBytes(const std::string &dir) {
  DIR *d = opendir(dir.c_str());
  if (!d)
    throw BaselineError(dir + ": cannot list directory");
  uint64_t total = 0;
  while (dirent *e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..")
      continue;
    struct stat st;
    std::string path = dir + "/" + name;
    if (stat(path.c_str(), &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode))
      total += directoryBytes(path);
    else if (S_ISREG(st.st_mode))
      total += static_cast<uint64_t>(st.st_size);
  }
  closedir(d);
  return total;
}

} // namespace baselines
} // namespace tessera
