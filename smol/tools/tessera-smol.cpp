//===- tessera-smol.cpp - the .smol command-line tool ---------------------===//
//
// Part of Tessera. `tessera-smol pack|inspect|verify|cat|bench|keygen` (also
// reachable as `tessera smol ...`). See docs/smol.md.
//
//===----------------------------------------------------------------------===//

#include "tessera/Smol/DriveLog.h"
#include "tessera/Smol/Reader.h"

#include <algorithm>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <unistd.h>

using namespace tessera::smol;

namespace {

const char *kUsage = R"(usage: tessera-smol <command> [options]

Commands:
  pack OUT.smol [--records N] [--seed S] [--width W] [--height H]
                [--cameras C] [--proprio] [--joints J] [--planar]
                [--encrypt COL[,COL...] --key-file KEYS] [--force]
                [--row-alignment A]
      write the seeded synthetic drive log as a .smol file
  keygen KEYS [--id ID]
      write a new random key file (mode 0600) for --encrypt
  inspect FILE [--direct]
      preamble, schema (stored order), segment sizes, index statistics
  verify FILE [--key-file KEYS] [--direct]
      check every checksum and that the padding between columns is zero
      (and, with keys, every encrypted tensor's tag); exit status 3 if some
      encrypted tensors could not be authenticated (missing key ids)
  clean DIR [--min-age SECONDS] [--dry-run]
      remove the hidden .NAME.smol.tmp.XXXXXX files killed writers left in
      DIR: only files no live writer holds, unmodified for --min-age
      seconds (default 600)
  cat FILE (--timestamp T | --row I | --first | --last) [--columns A,B]
           [--values N] [--key-file KEYS] [--static] [--direct]
      print one timestamp's columns (dtype, shape, first N values)
  bench FILE [--samples N] [--seed S] [--where "speed > 25"]
             [--open-prefix BYTES] [--direct]
      reads per open and per uniformly random row, and early rejection
  bench --table [tessera-storage-bench options]
      the comparison table against the baselines (runs tessera-storage-bench)

--direct reads with O_DIRECT (no page cache; rows are 4 KiB-aligned).

Exit status: 0 success, 1 a bad or damaged file (or a failed check),
2 bad command-line usage, 3 verify could not authenticate every encrypted
tensor (missing keys).
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// "--key value" and "--flag" options after the positional arguments.
class Args {
public:
  Args(int argc, char **argv, int from, const std::vector<std::string> &valued,
       const std::vector<std::string> &flags) {
    for (int i = from; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) {
        positional.push_back(a);
        continue;
      }
      if (std::find(flags.begin(), flags.end(), a) != flags.end()) {
        values[a] = "";
        continue;
      }
      if (std::find(valued.begin(), valued.end(), a) == valued.end())
        throw UsageError("unknown option " + a);
      if (i + 1 >= argc)
        throw UsageError(a + ": missing value");
      values[a] = argv[++i];
    }
  }
  bool has(const std::string &k) const { return values.count(k); }
  std::string get(const std::string &k, const std::string &d = "") const {
    auto it = values.find(k);
    return it == values.end() ? d : it->second;
  }
  uint64_t count(const std::string &k, uint64_t d, uint64_t min = 0,
                 uint64_t max = UINT64_MAX) const {
    if (!has(k))
      return d;
    std::string v = get(k);
    char *end = nullptr;
    errno = 0;
    unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || *end || errno || v[0] == '-' || n < min || n > max)
      throw UsageError(k + ": expected an integer in " + std::to_string(min) +
                       ".." + std::to_string(max) + ", got '" + v + "'");
    return n;
  }
  int64_t integer(const std::string &k) const {
    std::string v = get(k);
    char *end = nullptr;
    errno = 0;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end || errno)
      throw UsageError(k + ": expected an integer, got '" + v + "'");
    return n;
  }
  std::vector<std::string> positional;

private:
  std::map<std::string, std::string> values;
};

std::vector<std::string> splitList(const std::string &s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty())
      out.push_back(item);
  return out;
}

std::string shapeText(const std::vector<uint32_t> &shape) {
  if (shape.empty())
    return "scalar";
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

std::string bytesText(uint64_t b) {
  char buf[64];
  if (b >= (1ull << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / double(1ull << 30));
  else if (b >= (1ull << 20))
    std::snprintf(buf, sizeof buf, "%.2f MiB", b / double(1ull << 20));
  else if (b >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%" PRIu64 " B", b);
  return buf;
}

ReaderOptions readerOptions(const Args &args) {
  ReaderOptions o;
  if (args.has("--key-file"))
    o.keys = Keyring::loadFile(args.get("--key-file"));
  o.openPrefixBytes =
      args.count("--open-prefix", o.openPrefixBytes, 0, 1ull << 32);
  return o;
}

std::string onePositional(const Args &args, const char *what) {
  if (args.positional.size() != 1)
    throw UsageError(std::string("expected one ") + what + ", got " +
                     std::to_string(args.positional.size()));
  return args.positional[0];
}

//===----------------------------------------------------------------------===//
// Commands
//===----------------------------------------------------------------------===//

int pack(int argc, char **argv) {
  Args args(argc, argv, 2,
            {"--records", "--seed", "--width", "--height", "--cameras",
             "--joints", "--encrypt", "--key-file", "--row-alignment"},
            {"--proprio", "--planar", "--force", "--quiet"});
  std::string out = onePositional(args, "output file");
  DriveLogOptions o;
  o.records = args.count("--records", 1000, 0, 100000000);
  o.seed = args.count("--seed", 1);
  o.width = static_cast<uint32_t>(args.count("--width", 64, 2, 4096));
  o.height = static_cast<uint32_t>(args.count("--height", 48, 2, 4096));
  o.cameras = static_cast<unsigned>(args.count("--cameras", 8, 1, 16));
  o.proprioception = args.has("--proprio");
  o.joints = static_cast<unsigned>(args.count("--joints", 7, 1, 64));
  o.planarCameras = args.has("--planar");
  WriterOptions w;
  w.overwrite = args.has("--force");
  w.rowAlignment = static_cast<uint32_t>(
      args.count("--row-alignment", kDefaultRowAlignment, 1, 1u << 20));
  if (w.rowAlignment & (w.rowAlignment - 1))
    throw UsageError("--row-alignment: expected a power of two, got " +
                     std::to_string(w.rowAlignment));
  std::vector<std::string> encrypt = splitList(args.get("--encrypt"));
  if (!encrypt.empty() && !args.has("--key-file"))
    throw UsageError("--encrypt needs --key-file (make one with "
                     "'tessera-smol keygen')");
  if (args.has("--key-file"))
    w.keys = Keyring::loadFile(args.get("--key-file"));
  DriveLog log(o);
  bool quiet = args.has("--quiet") || !isatty(2);
  auto t0 = std::chrono::steady_clock::now();
  writeDriveLog(
      log, out, std::move(w), encrypt, [&](uint64_t done, uint64_t total) {
        if (!quiet && (done % 256 == 0 || done == total))
          std::fprintf(stderr, "\rpacking: %" PRIu64 "/%" PRIu64, done, total);
      });
  if (!quiet && o.records)
    std::fprintf(stderr, "\n");
  double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  auto reader = Reader::open(out);
  std::printf("%s: %" PRIu64 " rows, %s, written in %.2f s\n", out.c_str(),
              reader->size(), bytesText(reader->preamble().fileBytes).c_str(),
              s);
  return 0;
}

int keygen(int argc, char **argv) {
  Args args(argc, argv, 2, {"--id"}, {});
  std::string path = onePositional(args, "key file");
  std::string id = args.get("--id", "key0");
  if (id.empty() || id.size() > 255 ||
      id.find_first_of(" \t#") != std::string::npos)
    throw UsageError("--id: expected 1..255 bytes without blanks or '#'");
  Keyring::saveNewFile(path, id, Keyring::generate());
  std::printf("%s: new key '%s'\n", path.c_str(), id.c_str());
  return 0;
}

int inspect(int argc, char **argv) {
  Args args(argc, argv, 2, {"--open-prefix"}, {"--direct"});
  std::string path = onePositional(args, "file");
  Reader r(std::make_unique<PosixFile>(path, args.has("--direct")),
           readerOptions(args));
  const Preamble &p = r.preamble();
  std::printf("file        %s\n", path.c_str());
  std::printf("version     %u.%u   flags 0x%08x%s%s\n", p.versionMajor,
              p.versionMinor, p.flags,
              p.flags & kFlagEncrypted ? " encrypted" : "",
              p.flags & kFlagProprioception ? " proprioception" : "");
  std::printf("file id     %s\n", hex(p.fileId.data(), 16).c_str());
  std::printf("size        %" PRIu64 " bytes (%s)\n", p.fileBytes,
              bytesText(p.fileBytes).c_str());
  std::printf("alignment   rows %u, columns %u\n", p.rowAlignment,
              p.columnAlignment);
  std::printf("\nsegment   offset        bytes\n");
  auto seg = [](const char *n, uint64_t o, uint64_t b) {
    std::printf("%-9s %-13" PRIu64 " %" PRIu64 "\n", n, o, b);
  };
  seg("preamble", 0, kPreambleBytes);
  seg("schema", p.schemaOffset, p.schemaBytes);
  seg("static", p.staticOffset, p.staticBytes);
  seg("index", p.indexOffset, p.rowCount * kIndexEntryBytes);
  seg("rows", p.dataOffset, p.fileBytes - p.dataOffset);
  std::printf("\nopen: %" PRIu64 " read(s), %" PRIu64 " bytes (prefix %" PRIu64
              ", header ends at %" PRIu64 ")\n",
              r.openStats().ops, r.openStats().bytes,
              readerOptions(args).openPrefixBytes, p.headerEnd());

  std::printf("\ncolumns (stored order: dynamic by size, then static)\n");
  std::printf("%-3s %-20s %-7s %-5s %-12s %-8s %-8s %-10s %-9s %s\n", "#",
              "name", "kind", "dtype", "shape", "layout", "role", "offset",
              "bytes", "encryption");
  for (const Column &c : r.columns()) {
    std::string layout = "row-major";
    if (!c.spec.perm.empty()) {
      layout = "perm";
      for (uint8_t q : c.spec.perm)
        layout += std::to_string(q);
    }
    std::printf("%-3u %-20s %-7s %-5s %-12s %-8s %-8s %-10" PRIu64 " %-9" PRIu64
                " %s\n",
                c.storedIndex, c.spec.name.c_str(),
                c.spec.isStatic ? "static" : "dynamic", dtypeName(c.spec.dtype),
                shapeText(c.spec.shape).c_str(), layout.c_str(),
                roleName(c.spec.role), c.offset, c.storedBytes,
                c.encrypted()
                    ? ("xchacha20poly1305 key '" + c.spec.keyId + "'").c_str()
                    : "-");
  }
  uint64_t payload = 0;
  for (const Column &c : r.columns())
    if (!c.spec.isStatic)
      payload += c.storedBytes;
  std::printf("\nrows: %" PRIu64 " of %" PRIu64 " bytes (stride %" PRIu64
              "; %" PRIu64 " bytes of tensors, %" PRIu64 " of header, %" PRIu64
              " of alignment padding)\n",
              r.size(), p.rowBytes, p.rowStride(), payload,
              rowHeaderBytes(r.dynamicColumns()),
              p.rowStride() - payload - rowHeaderBytes(r.dynamicColumns()));
  const auto &e = r.entries();
  if (!e.empty()) {
    int64_t minGap = INT64_MAX, maxGap = 0;
    for (size_t i = 1; i < e.size(); ++i) {
      minGap = std::min(minGap, e[i].timestamp - e[i - 1].timestamp);
      maxGap = std::max(maxGap, e[i].timestamp - e[i - 1].timestamp);
    }
    std::printf("index: %zu entries (%s), timestamps %" PRId64 " .. %" PRId64,
                e.size(), bytesText(e.size() * kIndexEntryBytes).c_str(),
                e.front().timestamp, e.back().timestamp);
    if (e.size() > 1)
      std::printf(
          ", gaps %" PRId64 " .. %" PRId64 " (mean %.1f)", minGap, maxGap,
          double(e.back().timestamp - e.front().timestamp) / (e.size() - 1));
    std::printf("\n");
  } else {
    std::printf("index: empty\n");
  }
  return 0;
}

int verify(int argc, char **argv) {
  Args args(argc, argv, 2, {"--key-file", "--open-prefix"}, {"--direct"});
  std::string path = onePositional(args, "file");
  Reader r(std::make_unique<PosixFile>(path, args.has("--direct")),
           readerOptions(args));
  VerifyReport v = r.verify();
  for (const std::string &p : v.problems)
    std::printf("FAIL %s\n", p.c_str());
  std::string missing;
  for (const std::string &id : v.missingKeyIds)
    missing += (missing.empty() ? "'" : ", '") + id + "'";
  std::string status =
      !v.problems.empty()
          ? std::to_string(v.problems.size()) + " problem(s)"
          : (v.columnsUnauthenticated ? "INCOMPLETE" : "ok");
  std::printf("%s: preamble, header and index checksums ok; %" PRIu64
              " rows, %" PRIu64 " column checksums, %" PRIu64
              " padding bytes zero, %" PRIu64
              " encrypted tensors authenticated",
              path.c_str(), v.rowsChecked, v.columnsChecked,
              v.paddingBytesChecked, v.columnsAuthenticated);
  if (v.columnsUnauthenticated)
    std::printf(", %" PRIu64 " NOT authenticated (no key for key id %s)",
                v.columnsUnauthenticated, missing.c_str());
  std::printf(": %s\n", status.c_str());
  std::fflush(stdout);
  if (!v.problems.empty()) {
    std::fprintf(stderr, "tessera-smol verify: error: %s: %zu problem(s)\n",
                 path.c_str(), v.problems.size());
    return 1;
  }
  if (v.columnsUnauthenticated) {
    // Not a damaged file, not a clean bill of health either.
    std::fprintf(stderr,
                 "tessera-smol verify: incomplete: %s: %" PRIu64
                 " encrypted tensors could not be authenticated: no key for "
                 "key id %s (pass a --key-file that has it)\n",
                 path.c_str(), v.columnsUnauthenticated, missing.c_str());
    return 3;
  }
  return 0;
}

/// `clean DIR`: removes the temporary files killed writers left behind
/// (`.NAME.smol.tmp.XXXXXX`). A file is removed only if it matches that
/// pattern exactly, is a regular file owned by this user, has not been
/// modified for --min-age seconds, and no process holds its writer lock (a
/// live writer keeps an exclusive flock on its temporary file).
int clean(int argc, char **argv) {
  Args args(argc, argv, 2, {"--min-age"}, {"--dry-run"});
  std::string dir = onePositional(args, "directory");
  uint64_t minAge = args.count("--min-age", 600, 0, 10ull * 365 * 86400);
  bool dryRun = args.has("--dry-run");
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    throw Error(dir + ": cannot open directory: " + std::strerror(errno));
  std::vector<std::string> names;
  while (struct dirent *e = ::readdir(d))
    names.push_back(e->d_name);
  ::closedir(d);
  std::sort(names.begin(), names.end());
  uint64_t removed = 0, kept = 0;
  time_t now = ::time(nullptr);
  for (const std::string &name : names) {
    // ".<base>.smol.tmp.XXXXXX": six characters from mkstemp.
    size_t tag = name.rfind(".smol.tmp.");
    if (name.size() < 2 || name[0] != '.' || tag == std::string::npos ||
        tag < 2 || name.size() - (tag + 10) != 6)
      continue;
    std::string path = dir + "/" + name;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
                                      O_NONBLOCK);
    if (fd < 0)
      continue;
    struct stat st;
    bool stale = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                 st.st_uid == ::geteuid() &&
                 uint64_t(now - st.st_mtime) >= minAge &&
                 ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (!stale) {
      ::close(fd);
      ++kept;
      std::printf("kept    %s (in use, recent or not ours)\n", path.c_str());
      continue;
    }
    bool ok = dryRun || ::unlink(path.c_str()) == 0;
    ::close(fd);
    if (!ok)
      throw Error(path + ": cannot remove: " + std::strerror(errno));
    ++removed;
    std::printf("%s %s (%s)\n", dryRun ? "stale  " : "removed", path.c_str(),
                bytesText(uint64_t(st.st_size)).c_str());
  }
  std::printf("%s: %" PRIu64 " stale temporary file(s) %s, %" PRIu64
              " kept\n",
              dir.c_str(), removed, dryRun ? "found" : "removed", kept);
  return 0;
}

void printValues(const TensorView &t, uint64_t n) {
  uint32_t size = dtypeSize(t.dtype());
  uint64_t elements = t.bytes / size;
  std::printf("[");
  for (uint64_t i = 0; i < std::min(n, elements); ++i) {
    const uint8_t *e = t.data + i * size;
    if (t.dtype() == DType::I64)
      std::printf("%s%" PRId64, i ? ", " : "", int64_t(le::get64(e)));
    else if (t.dtype() == DType::U64)
      std::printf("%s%" PRIu64, i ? ", " : "", le::get64(e));
    else
      std::printf("%s%.9g", i ? ", " : "", elementAsDouble(t.dtype(), e));
  }
  std::printf("%s]", elements > n ? ", ..." : "");
}

int cat(int argc, char **argv) {
  Args args(argc, argv, 2,
            {"--timestamp", "--row", "--columns", "--values", "--key-file",
             "--open-prefix"},
            {"--first", "--last", "--static", "--direct"});
  std::string path = onePositional(args, "file");
  Reader r(std::make_unique<PosixFile>(path, args.has("--direct")),
           readerOptions(args));
  int chosen = args.has("--timestamp") + args.has("--row") +
               args.has("--first") + args.has("--last");
  if (chosen != 1)
    throw UsageError("give exactly one of --timestamp, --row, --first, --last");
  if (r.size() == 0)
    throw Error(path + ": the file has no rows");
  uint64_t row;
  if (args.has("--timestamp")) {
    int64_t ts = args.integer("--timestamp");
    auto i = r.findTimestamp(ts);
    if (!i)
      throw Error(path + ": no row with timestamp " + std::to_string(ts) +
                  " (rows span " +
                  std::to_string(r.entries().front().timestamp) + " .. " +
                  std::to_string(r.entries().back().timestamp) + ")");
    row = *i;
  } else if (args.has("--row")) {
    row = args.count("--row", 0);
    if (row >= r.size())
      throw Error(path + ": row " + std::to_string(row) + " out of range (" +
                  std::to_string(r.size()) + " rows)");
  } else {
    row = args.has("--first") ? 0 : r.size() - 1;
  }
  uint64_t n = args.count("--values", 8);
  std::vector<std::string> wanted = splitList(args.get("--columns"));
  for (const std::string &w : wanted)
    if (!r.find(w))
      throw Error(path + ": no column '" + w + "'");
  Row rw = r.readRow(row);
  std::printf("row %" PRIu64 " timestamp %" PRId64 " (1 read, %" PRIu64
              " bytes)\n",
              row, rw.timestamp(), rw.bytesRead());
  int failures = 0;
  for (const Column &c : r.columns()) {
    if (!wanted.empty() &&
        std::find(wanted.begin(), wanted.end(), c.spec.name) == wanted.end())
      continue;
    if (c.spec.isStatic && wanted.empty() && !args.has("--static"))
      continue;
    std::printf("%-20s %-5s %-12s ", c.spec.name.c_str(),
                dtypeName(c.spec.dtype), shapeText(c.storedShape()).c_str());
    try {
      TensorView t = c.spec.isStatic ? r.staticColumn(c.spec.name)
                                     : rw.column(c.storedIndex);
      printValues(t, n);
      std::printf("\n");
    } catch (const Error &e) {
      ++failures;
      std::printf("ERROR %s\n", e.what());
    }
  }
  if (failures)
    std::fprintf(stderr,
                 "tessera-smol cat: error: %d column(s) could not be "
                 "read (see ERROR lines)\n",
                 failures);
  return failures ? 1 : 0;
}

int benchFile(int argc, char **argv) {
  Args args(argc, argv, 2,
            {"--samples", "--seed", "--where", "--open-prefix", "--key-file"},
            {"--direct"});
  std::string path = onePositional(args, "file");
  uint64_t samples = args.count("--samples", 1000, 1, 100000000);
  std::mt19937_64 rng(args.count("--seed", 1));
  std::optional<Predicate> where;
  if (args.has("--where"))
    where = Predicate::parse(args.get("--where"));
  auto file = std::make_unique<PosixFile>(path, args.has("--direct"));
  PosixFile *f = file.get();
  Reader r(std::move(file), readerOptions(args));
  if (where)
    r.checkPredicate(*where); // a bad column fails before any sample
  IoStats open = f->stats();
  std::printf("%s: %" PRIu64 " rows of %" PRIu64 " bytes\n", path.c_str(),
              r.size(), r.preamble().rowBytes);
  std::printf("open:   %" PRIu64 " read(s), %" PRIu64 " bytes%s\n", open.ops,
              open.bytes, f->direct() ? " (O_DIRECT, whole 4 KiB blocks)" : "");
  if (r.size() == 0)
    return 0;
  std::uniform_int_distribution<uint64_t> pick(0, r.size() - 1);
  IoStats before = f->stats();
  auto t0 = std::chrono::steady_clock::now();
  uint64_t maxOps = 0;
  for (uint64_t s = 0; s < samples; ++s) {
    uint64_t ops0 = f->stats().ops;
    Row row = r.readRow(pick(rng));
    for (uint32_t k = 0; k < r.dynamicColumns(); ++k)
      if (!r.columns()[k].encrypted() ||
          readerOptions(args).keys.find(r.columns()[k].spec.keyId))
        row.column(k);
    maxOps = std::max(maxOps, f->stats().ops - ops0);
  }
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  std::printf("sample: %.2f read(s) per random row (max %" PRIu64
              "), %.0f bytes per row, %.1f us per row to verified views\n",
              double(f->stats().ops - before.ops) / samples, maxOps,
              double(f->stats().bytes - before.bytes) / samples,
              secs * 1e6 / samples);
  if (where) {
    const Predicate &p = *where;
    RejectStats st;
    for (uint64_t s = 0; s < samples; ++s)
      r.readIf(pick(rng), p, &st);
    std::printf(
        "where %s: %" PRIu64 " of %" PRIu64
        " rows rejected on a %.0f-byte prefix read; %.2f reads and "
        "%.0f bytes per row; %s saved (%.1f%% of a full read)\n",
        p.str().c_str(), st.rowsRejected, st.rowsTested,
        double(r.prefixFor(p.column)), double(st.ops) / samples,
        double(st.bytesRead) / samples, bytesText(st.bytesSaved).c_str(),
        100.0 * st.bytesSaved / (double(r.preamble().rowBytes) * samples));
  }
  return 0;
}

[[noreturn]] void execStorageBench(int argc, char **argv) {
  std::string self = "/proc/self/exe";
  char buf[4096];
  ssize_t n = ::readlink(self.c_str(), buf, sizeof buf - 1);
  std::string dir = ".";
  if (n > 0) {
    buf[n] = 0;
    dir = buf;
    dir = dir.substr(0, dir.rfind('/'));
  }
  std::string tool = dir + "/tessera-storage-bench";
  std::vector<char *> a;
  a.push_back(const_cast<char *>(tool.c_str()));
  for (int i = 3; i < argc; ++i)
    a.push_back(argv[i]);
  a.push_back(nullptr);
  ::execv(tool.c_str(), a.data());
  std::fprintf(stderr,
               "tessera-smol: error: %s: cannot run the storage "
               "bench: %s\n",
               tool.c_str(), std::strerror(errno));
  std::exit(1);
}

int run(const std::string &cmd, int argc, char **argv);

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "tessera-smol: usage: expected a command (pack, "
                         "keygen, inspect, verify, clean, cat, bench); see "
                         "--help\n");
    return 2;
  }
  std::string cmd = argv[1];
  int status = 0;
  if (cmd == "--help" || cmd == "-h" || cmd == "help")
    std::fputs(kUsage, stdout);
  else
    status = run(cmd, argc, argv);
  // Every report goes to stdout: a write that failed (a full disk, a closed
  // pipe) is an error, not a silent success.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "tessera-smol %s: error: standard output: write "
                         "error: %s\n",
                 cmd.c_str(), std::strerror(errno));
    return 1;
  }
  return status;
}

namespace {
int run(const std::string &cmd, int argc, char **argv) {
  try {
    if (cmd == "pack")
      return pack(argc, argv);
    if (cmd == "keygen")
      return keygen(argc, argv);
    if (cmd == "inspect")
      return inspect(argc, argv);
    if (cmd == "verify")
      return verify(argc, argv);
    if (cmd == "clean")
      return clean(argc, argv);
    if (cmd == "cat")
      return cat(argc, argv);
    if (cmd == "bench") {
      if (argc > 2 && !std::strcmp(argv[2], "--table"))
        execStorageBench(argc, argv);
      return benchFile(argc, argv);
    }
    throw UsageError("unknown command '" + cmd +
                     "' (pack, keygen, inspect, verify, clean, cat, bench; see "
                     "--help)");
  } catch (const UsageError &e) {
    std::fprintf(stderr, "tessera-smol %s: usage: %s\n", cmd.c_str(), e.what());
    return 2;
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "tessera-smol %s: error: %s: out of memory\n",
                 cmd.c_str(), argc > 2 ? argv[2] : "");
    return 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "tessera-smol %s: error: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
} // namespace
