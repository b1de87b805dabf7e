//===- CostModel.cpp - SRAM/DRAM cost model of a tiled kernel -------------===//
//
// Part of Tessera. docs/cost-model.md states each formula below; every
// instruction is priced by the simulator's own timing functions
// (tessera/Sim/Timing.h), never by a second copy of them.
//
//===----------------------------------------------------------------------===//
#include "tessera/CostModel/CostModel.h"
#include "tessera/CostModel/SramPlan.h"

#include "tessera/Sim/Timing.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

using namespace tessera;
using namespace tessera::cost;
using arch::Opcode;

namespace timing = tessera::sim::timing;

namespace {

uint64_t ceilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
uint64_t alignUp(uint64_t v, uint64_t a) { return ceilDiv(v, a) * a; }

/// A DMA as the code generator emits it: a single row is contiguous.
Transfer xfer(uint64_t rows, uint64_t rowBytes, uint64_t stride) {
  return {rows, rowBytes, rows > 1 ? stride : rowBytes};
}

/// The extents of a dimension `d` cut into tiles of `t`: (extent, count) for
/// the full tiles and the ragged last one (count 0 when absent).
struct Extents {
  uint64_t full, fullCount, edge, edgeCount;
  uint64_t first() const { return fullCount ? full : edge; }
  uint64_t last() const { return edgeCount ? edge : full; }
  uint64_t tiles() const { return fullCount + edgeCount; }
  template <typename F> void each(F f) const {
    if (fullCount)
      f(full, fullCount);
    if (edgeCount)
      f(edge, edgeCount);
  }
};
Extents extents(uint64_t d, uint64_t t) {
  t = std::min(t, d);
  uint64_t n = ceilDiv(d, t), edge = d - (n - 1) * t;
  if (edge == t)
    return {t, n, 0, 0};
  return {t, n - 1, edge, 1};
}

void addTransfer(Stream &s, Transfer t, uint64_t count) {
  if (!count)
    return;
  for (TransferClass &c : s.classes)
    if (c.shape.rows == t.rows && c.shape.rowBytes == t.rowBytes &&
        c.shape.dramStrideBytes == t.dramStrideBytes &&
        c.shape.gather == t.gather) {
      c.count += count;
      return;
    }
  s.classes.push_back({t, count});
}

void addCompute(std::vector<ComputeClass> &v, const ComputeClass &n,
                uint64_t count) {
  if (!count)
    return;
  for (ComputeClass &c : v)
    if (c.op == n.op && c.dims[0] == n.dims[0] && c.dims[1] == n.dims[1] &&
        c.dims[2] == n.dims[2]) {
      c.count += count;
      return;
    }
  v.push_back(n);
  v.back().count = count;
}

ComputeClass instr(Opcode op, uint64_t d0, uint64_t d1, uint64_t d2 = 0) {
  ComputeClass c;
  c.op = op;
  c.dims[0] = d0;
  c.dims[1] = d1;
  c.dims[2] = d2;
  c.count = 1;
  return c;
}

Stream stream(const std::string &tensor, bool store, uint64_t bytes,
              bool prologue = false) {
  Stream s;
  s.tensor = tensor;
  s.store = store;
  s.prologue = prologue;
  s.tensorBytes = bytes;
  return s;
}

/// Fills the per-stream transfer classes, the compute classes and the step
/// count from the loop nest (each count a product of repeats).
void walk(Kernel &k, const Seq &seq, uint64_t times) {
  for (const Seq::Item &it : seq.items) {
    uint64_t n = times * it.repeat;
    if (it.body) {
      walk(k, *it.body, n);
      continue;
    }
    k.tiles += n;
    for (const auto &[i, t] : it.step.loads)
      addTransfer(k.streams[i], t, n);
    for (const auto &[i, t] : it.step.stores)
      addTransfer(k.streams[i], t, n);
    for (const ComputeClass &c : it.step.compute)
      addCompute(k.compute, c, n * c.count);
  }
}
void finalize(Kernel &k) {
  for (Stream &s : k.streams)
    s.classes.clear();
  k.compute.clear();
  k.tiles = 0;
  for (const auto &[i, t] : k.prologue)
    addTransfer(k.streams[i], t, 1);
  walk(k, k.loop, 1);
}

uint64_t dmaCycles(const arch::ChipConfig &chip, const Transfer &t,
                   bool store) {
  arch::Instr in;
  in.op = store ? Opcode::DmaStore : Opcode::DmaLoad;
  if (t.gather) {
    in.op = Opcode::DmaGather;
    in.dims[0] = uint32_t(t.rows);
    in.dims[1] = uint32_t(t.rowBytes);
    return timing::gatherCycles(chip, in);
  }
  in.dims[0] = uint32_t(t.rows);
  in.dims[1] = uint32_t(t.rowBytes);
  in.strides[0] = uint32_t(t.dramStrideBytes);
  in.strides[1] = uint32_t(t.rowBytes);
  return timing::dmaCycles(chip, in);
}

/// Burst-rounded DRAM bytes of one transfer (a gather's rows each their
/// own bursts).
uint64_t busBytesOf(const arch::ChipConfig &chip, const Transfer &t) {
  return t.gather ? timing::gatherBusBytes(chip, t.rows, t.rowBytes)
                  : timing::dramBusBytes(chip, t.rows, t.rowBytes,
                                         t.dramStrideBytes);
}

uint64_t computeCycles(const arch::ChipConfig &chip, const ComputeClass &c) {
  if (c.op == Opcode::MatMul)
    return timing::matmulCycles(chip, c.dims[0], c.dims[1], c.dims[2],
                                arch::DType::F16);
  return timing::vectorCycles(chip, c.op, c.dims[0], c.dims[1]);
}

//===----------------------------------------------------------------------===//
// The sequencer's recurrence in max-plus algebra
//===----------------------------------------------------------------------===//

constexpr int64_t kNegInf = std::numeric_limits<int64_t>::min() / 4;

/// What the recurrence carries from one instruction to the next
/// (docs/cost-model.md, "Latency"): per DMA queue the start of its last
/// transfer and the ends of its last N (the descriptor ring), the end of the
/// last compute, when the loads the next compute reads were done, when the
/// one DRAM data bus is next free, and two boundary waits set between
/// kernels.
struct Layout {
  int n; ///< dma_outstanding_transfers.
  int ls() const { return 0; }
  int le(int i) const { return 1 + i; } ///< i-th most recent load end.
  int c() const { return n + 1; }
  /// The latest load end before the step ahead's loads were issued: the
  /// loads of the step whose compute comes next.
  int lq() const { return n + 2; }
  int ss() const { return n + 3; }
  int se(int i) const { return n + 4 + i; }
  /// The DRAM data bus, shared by both queues in issue order.
  int bus() const { return 2 * n + 4; }
  int waitS() const { return 2 * n + 5; }
  int waitSp() const { return 2 * n + 6; }
  /// Scratch: a load's write-after-read dependency inside a group.
  int war() const { return 2 * n + 7; }
  /// The end of the load before the last one in lq's step.
  int lq2() const { return 2 * n + 8; }
  int size() const { return 2 * n + 9; }
};

/// A max-plus matrix: new[i] = max_j (m[i][j] + old[j]).
struct MaxPlus {
  int k = 0;
  std::vector<int64_t> m;
  static MaxPlus identity(int k) {
    MaxPlus r;
    r.k = k;
    r.m.assign(size_t(k) * k, kNegInf);
    for (int i = 0; i < k; ++i)
      r.m[size_t(i) * k + i] = 0;
    return r;
  }
  int64_t at(int i, int j) const { return m[size_t(i) * k + j]; }
  /// (this after o): applies o first.
  MaxPlus operator*(const MaxPlus &o) const {
    MaxPlus r = identity(k);
    for (int i = 0; i < k; ++i)
      for (int j = 0; j < k; ++j) {
        int64_t best = kNegInf;
        for (int l = 0; l < k; ++l) {
          int64_t a = at(i, l), b = o.at(l, j);
          if (a > kNegInf && b > kNegInf)
            best = std::max(best, a + b);
        }
        r.m[size_t(i) * k + j] = best;
      }
    return r;
  }
  MaxPlus pow(uint64_t e) const {
    MaxPlus r = identity(k), b = *this;
    for (; e; e >>= 1) {
      if (e & 1)
        r = b * r;
      if (e > 1)
        b = b * b;
    }
    return r;
  }
};

/// Builds the matrix of a straight-line piece of the recurrence by
/// assignments dst := max over (src + w), applied in order to the rows of a
/// transformation (each row says how a state component depends on the state
/// before the piece).
struct Builder {
  MaxPlus t;
  explicit Builder(int k) : t(MaxPlus::identity(k)) {}
  void set(int dst, std::initializer_list<std::pair<int, int64_t>> srcs) {
    setFrom(dst, std::vector<std::pair<int, int64_t>>(srcs));
  }
  void setFrom(int dst, const std::vector<std::pair<int, int64_t>> &srcs) {
    std::vector<int64_t> row(size_t(t.k), kNegInf);
    for (const auto &[src, w] : srcs)
      for (int j = 0; j < t.k; ++j) {
        int64_t v = t.at(src, j);
        if (v > kNegInf)
          row[size_t(j)] = std::max(row[size_t(j)], v + w);
      }
    std::copy(row.begin(), row.end(), t.m.begin() + size_t(dst) * t.k);
  }
  void copy(int dst, int src) { set(dst, {{src, 0}}); }
};

struct Pricer {
  const arch::ChipConfig &chip;
  const Kernel &k;
  const std::set<std::string> &kept;
  Layout lay;
  /// Streams whose first transfers wait for the previous kernel's last
  /// store (waitS) or the one before (waitSp), set between kernels.
  std::set<unsigned> waitS, waitSp;

  Pricer(const arch::ChipConfig &chip, const Kernel &k,
         const std::set<std::string> &kept)
      : chip(chip), k(k), kept(kept), lay{int(std::max<uint32_t>(
                                          1, chip.dma_outstanding_transfers))} {
  }

  bool keptStream(unsigned i) const {
    return kept.count(k.streams[i].tensor) != 0;
  }

  /// One transfer on a DMA queue: it issues after the queue's previous
  /// transfer has issued, the transfer N before it has completed (ring
  /// slot) and `dep` has completed; its DRAM data phase starts L after
  /// issue or when the bus is free, whichever is later, and holds the bus
  /// for its data cycles (both queues, in the order the groups below issue
  /// them).
  void dma(Builder &b, unsigned stream, const Transfer &t, bool store,
           int dep) const {
    if (keptStream(stream))
      return;
    uint64_t bytes = busBytesOf(chip, t);
    int64_t d = int64_t(timing::dramDataCycles(chip, bytes));
    int64_t lat = int64_t(chip.dramLatencyCycles());
    int64_t sram = int64_t(timing::sramAccessCycles(chip, t.bytes()));
    int n = lay.n;
    int start = store ? lay.ss() : lay.ls();
    auto end = [&](int i) { return store ? lay.se(i) : lay.le(i); };
    int bus = lay.bus();
    if (t.gather) {
      // The indices come first (their SRAM read delays both sides), and the
      // gather waits for the load of its own queue that wrote them.
      int64_t idx = int64_t(timing::sramAccessCycles(chip, 4 * t.rows));
      b.set(start, {{start, 0}, {end(n - 1), 0}, {dep, 0}, {end(0), 0}});
      for (int i = n - 1; i > 0; --i)
        b.copy(end(i), end(i - 1));
      b.set(end(0), {{start, idx + std::max(sram, lat + d)}, {bus, d}});
      b.set(bus, {{start, idx + lat + d}, {bus, d}});
      return;
    }
    if (!store && waitS.count(stream))
      b.set(start, {{start, 0}, {end(n - 1), 0}, {dep, 0}, {lay.waitS(), 0}});
    else if (!store && waitSp.count(stream))
      b.set(start, {{start, 0}, {end(n - 1), 0}, {dep, 0}, {lay.waitSp(), 0}});
    else
      b.set(start, {{start, 0}, {end(n - 1), 0}, {dep, 0}});
    for (int i = n - 1; i > 0; --i)
      b.copy(end(i), end(i - 1));
    b.set(end(0), {{start, std::max(sram, lat + d)}, {bus, d}});
    b.set(bus, {{start, lat + d}, {bus, d}});
  }

  /// A step whose store reads its load's buffer (a copy: a storing step
  /// without compute): its load slots are freed by the store two steps
  /// back, not by a compute.
  bool copyLike(const Step &s) const {
    return k.storeReadsLoadBuffer || (s.compute.empty() && !s.stores.empty());
  }

  void loadsOf(Builder &b, const Step &s, int war) const {
    for (const auto &[i, t] : s.loads)
      dma(b, i, t, false, war);
  }

  /// The compute cycles of a step.
  int64_t computeOf(const Step &s) const {
    int64_t c = 0;
    for (const ComputeClass &cc : s.compute)
      c += int64_t(computeCycles(chip, cc) * cc.count);
    return c;
  }

  /// How long before the end of step `s`'s compute its last reader of
  /// stream `i`'s load slot ends: the cycles of the instructions after it
  /// (ComputeClass::reads; an instruction without the mask reads every
  /// slot). When no instruction of `s` reads the slot, its last reader is
  /// older: the start of `s`'s compute bounds it.
  int64_t readTail(const Step &s, unsigned i) const {
    int64_t tail = 0;
    for (auto it = s.compute.rbegin(); it != s.compute.rend(); ++it) {
      if (!it->reads || (i < 64 && (it->reads >> i) & 1))
        return tail;
      tail += int64_t(computeCycles(chip, *it) * it->count);
    }
    return tail;
  }

  /// A step's compute: the in-order compute queue runs its instructions one
  /// after another, each once the loads it reads have ended
  /// (ComputeClass::reads) and the first once the store two stores back
  /// has drained its output slot (when the step stores). The step's last
  /// load ended at `lq`, the one before at `lq2` (an earlier one before
  /// that), so the compute ends at
  ///   max(C, lq + [from the first reader of the last load],
  ///          lq2 + [from the first reader of another load]) + ...
  /// where [from j] is the cycles of instruction j and those after it.
  void computeStep(Builder &b, const Step &s, bool stores) const {
    int64_t c = computeOf(s);
    std::vector<unsigned> ids;
    for (const auto &[i, t] : s.loads)
      if (!keptStream(i))
        ids.push_back(i);
    auto reads = [&](const ComputeClass &cc, unsigned i) {
      return !cc.reads || (i < 64 && ((cc.reads >> i) & 1));
    };
    int64_t fromLast = -1, fromOther = -1, rest = c;
    for (const ComputeClass &cc : s.compute) {
      if (fromLast < 0 && !ids.empty() && reads(cc, ids.back()))
        fromLast = rest;
      for (size_t x = 0; fromOther < 0 && x + 1 < ids.size(); ++x)
        if (reads(cc, ids[x]))
          fromOther = rest;
      rest -= int64_t(computeCycles(chip, cc) * cc.count);
    }
    std::vector<std::pair<int, int64_t>> srcs{{lay.c(), c}};
    if (stores)
      srcs.push_back({lay.se(1), c});
    if (fromLast >= 0)
      srcs.push_back({lay.lq(), fromLast});
    if (fromOther > fromLast)
      srcs.push_back({lay.lq2(), fromOther});
    b.setFrom(lay.c(), srcs);
  }

  /// One group of the recurrence (docs/cost-model.md, "Latency"): step i's
  /// compute (after its loads, whose end `lq` holds, and, when it writes an
  /// output slot, the store two stores back), its stores (after the
  /// compute, or its loads for a copy) and the loads of step i + 2
  /// (`ahead`, when there is one), each of which waits for the last
  /// instruction of step i that read its ring slot (for a copy, step i's
  /// store). The DRAM bus takes them in issue order: the loads whose slot
  /// was free before the compute ended first (a prefix of the load queue),
  /// then the stores, then the loads that issue with them when the compute
  /// ends (the stores first, which is the order the emitter's GEMMs run
  /// in). `lq` moves to the end of step i + 1's loads (the latest before
  /// step i + 2's) for the next group's compute.
  MaxPlus groupMatrix(const Step &s, const Step *ahead) const {
    Builder b(lay.size());
    bool stores = false;
    for (const auto &[i, t] : s.stores)
      stores |= !keptStream(i);
    if (!s.compute.empty())
      computeStep(b, s, stores);
    // A step without compute stores what it loaded: its stores wait for
    // its loads (lq, kept in the scratch row before lq moves on).
    int after = lay.c();
    if (s.compute.empty()) {
      b.copy(lay.war(), lay.lq());
      after = lay.war();
    }
    // Step i + 1's loads end here (read by the next group's compute).
    b.copy(lay.lq(), lay.le(0));
    b.copy(lay.lq2(), lay.le(std::min(1, lay.n - 1)));
    bool copy = ahead && copyLike(*ahead);
    size_t early = 0;
    if (ahead && !copy && !s.compute.empty())
      while (early < ahead->loads.size() &&
             readTail(s, ahead->loads[early].first) > 0)
        ++early;
    auto load = [&](size_t x) {
      const auto &[i, t] = ahead->loads[x];
      if (copy)
        return dma(b, i, t, false, lay.se(0));
      int64_t tail = s.compute.empty() ? 0 : readTail(s, i);
      if (!tail)
        return dma(b, i, t, false, lay.c());
      // The dependency as an offset from the compute's end, through a
      // scratch row of the state.
      b.set(lay.war(), {{lay.c(), -tail}});
      dma(b, i, t, false, lay.war());
    };
    for (size_t x = 0; x < early; ++x)
      load(x);
    for (const auto &[i, t] : s.stores)
      dma(b, i, t, true, after);
    for (size_t x = early; ahead && x < ahead->loads.size(); ++x)
      load(x);
    return b.t;
  }

  /// Appends the steps of the first `reps` repetitions of an item to `out`
  /// until it holds `k`.
  static void collect(const Seq::Item &it, std::vector<const Step *> &out,
                      size_t k, uint64_t reps) {
    for (uint64_t r = 0; r < reps && out.size() < k; ++r) {
      if (!it.body) {
        out.push_back(&it.step);
        continue;
      }
      size_t before = out.size();
      for (const Seq::Item &c : it.body->items)
        collect(c, out, k, c.repeat);
      if (out.size() == before)
        return; // An empty body: no steps in any repetition.
    }
  }

  /// The groups of `seq`'s steps, given the (up to two) steps that follow
  /// it: each step's group needs the step two ahead. An item repeated n
  /// times is one matrix to the power of its uniform repetitions (those
  /// whose following steps are the item's own first steps) and the last
  /// repetitions one by one (one, or two for a single-step item), whose
  /// following steps reach past the item.
  MaxPlus seqMatrix(const Seq &seq, const Step *f0, const Step *f1) const {
    auto key = std::make_tuple(&seq, f0, f1);
    auto memo = memo_.find(key);
    if (memo != memo_.end())
      return memo->second;
    MaxPlus m = MaxPlus::identity(lay.size());
    for (size_t i = 0; i < seq.items.size(); ++i) {
      const Seq::Item &it = seq.items[i];
      // The first two steps of one repetition; none: nothing to price.
      std::vector<const Step *> own;
      collect(it, own, 2, 1);
      if (own.empty() || !it.repeat)
        continue;
      // The two steps after this item.
      std::vector<const Step *> fol;
      for (size_t j = i + 1; j < seq.items.size() && fol.size() < 2; ++j)
        collect(seq.items[j], fol, 2, seq.items[j].repeat);
      for (const Step *f : {f0, f1})
        if (fol.size() < 2 && f)
          fol.push_back(f);
      fol.resize(2, nullptr);
      // One repetition with its two following steps.
      auto once = [&](const Step *a, const Step *b) {
        if (it.body)
          return seqMatrix(*it.body, a, b);
        return groupMatrix(it.step, b);
      };
      // The repetitions whose following steps are the item's own first two
      // (all but the last, or the last two when the item is one step).
      uint64_t tail = std::min<uint64_t>(own.size() >= 2 ? 1 : 2, it.repeat);
      if (it.repeat > tail) {
        std::vector<const Step *> uni;
        collect(it, uni, 2, 2);
        uni.resize(2, nullptr);
        m = once(uni[0], uni[1]).pow(it.repeat - tail) * m;
      }
      for (uint64_t q = tail; q >= 1; --q) {
        // q - 1 repetitions follow this one, then the item's followers.
        std::vector<const Step *> f;
        collect(it, f, 2, q - 1);
        for (const Step *x : fol)
          if (f.size() < 2 && x)
            f.push_back(x);
        f.resize(2, nullptr);
        m = once(f[0], f[1]) * m;
      }
    }
    memo_.emplace(key, m);
    return m;
  }

  /// The whole kernel: prologue loads (resident operands; their buffers
  /// come first, so they also wait for the latest compute) and the first
  /// two steps' loads (`lq` the end of the first's), then the loop's
  /// groups.
  MaxPlus kernelMatrix() const {
    Builder b(lay.size());
    for (const auto &[i, t] : k.prologue)
      dma(b, i, t, false, lay.c());
    std::vector<const Step *> first;
    for (const Seq::Item &it : k.loop.items)
      collect(it, first, 2, it.repeat);
    if (first.empty())
      return b.t;
    loadsOf(b, *first[0], copyLike(*first[0]) ? lay.se(1) : lay.c());
    b.copy(lay.lq(), lay.le(0));
    b.copy(lay.lq2(), lay.le(std::min(1, lay.n - 1)));
    if (first.size() > 1)
      loadsOf(b, *first[1], copyLike(*first[1]) ? lay.se(0) : lay.c());
    return seqMatrix(k.loop, nullptr, nullptr) * b.t;
  }

  mutable std::map<std::tuple<const Seq *, const Step *, const Step *>, MaxPlus>
      memo_;
};

/// Applies m to state x.
void applyTo(const MaxPlus &m, std::vector<int64_t> &x) {
  std::vector<int64_t> y(x.size(), kNegInf);
  for (int i = 0; i < m.k; ++i)
    for (int j = 0; j < m.k; ++j)
      if (m.at(i, j) > kNegInf && x[size_t(j)] > kNegInf)
        y[size_t(i)] = std::max(y[size_t(i)], m.at(i, j) + x[size_t(j)]);
  x = std::move(y);
}

/// The time of the last event in state x: the last load, compute or store.
uint64_t lastEvent(const Layout &lay, const std::vector<int64_t> &x) {
  int64_t t = std::max({x[size_t(lay.le(0))], x[size_t(lay.c())],
                        x[size_t(lay.se(0))], int64_t(0)});
  return uint64_t(t);
}

/// Prepares state x for kernel `k` after kernel `p` (docs/cost-model.md,
/// "Kernel boundaries"): its first load waits for p's last compute (SRAM is
/// reused from address 0), for p's last store when its first buffers reach
/// p's output slots, and a load of what p wrote waits for the store that
/// completes the bytes the first step reads (the last store or the one
/// before; an earlier one has long finished).
void crossKernel(const Kernel &p, Pricer &pk, const std::set<std::string> &kept,
                 std::vector<int64_t> &x) {
  const Layout &lay = pk.lay;
  const Kernel &k = pk.k;
  int64_t &ls = x[size_t(lay.ls())];
  ls = std::max(ls, x[size_t(lay.c())]);
  if (k.firstLoadSramEnd > p.storeSramBegin)
    ls = std::max(ls, x[size_t(lay.se(0))]);
  x[size_t(lay.waitS())] = x[size_t(lay.se(0))];
  x[size_t(lay.waitSp())] = x[size_t(lay.se(1))];
  for (const Stream &out : p.streams) {
    if (!out.store || kept.count(out.tensor))
      continue;
    uint64_t total = 0;
    for (const TransferClass &tc : out.classes)
      total += tc.count;
    for (unsigned i = 0; i < k.streams.size(); ++i) {
      const Stream &in = k.streams[i];
      if (in.store || in.tensor != out.tensor)
        continue;
      uint64_t need = total;
      if (out.storesPerBlock && out.blockBytes)
        need = std::min(total, ceilDiv(in.firstNeedBytes, out.blockBytes) *
                                   out.storesPerBlock);
      if (need >= total)
        pk.waitS.insert(i);
      else if (need + 1 == total)
        pk.waitSp.insert(i);
    }
  }
}

/// Every total of a kernel with the kept tensors removed (no latency).
Cost totals(const arch::ChipConfig &chip, const Kernel &k,
            const std::set<std::string> &kept, const Constraints &c) {
  Cost r;
  double bpc = chip.dramBytesPerCycle();
  uint64_t d = chip.matrix_fp16_rate_divisor;
  double pes = double(chip.matrix_rows) * chip.matrix_cols;
  r.sramBytes = k.sramBytes;
  for (const Stream &s : k.streams) {
    if (kept.count(s.tensor)) {
      r.sramBytes += alignUp(s.tensorBytes, c.alignBytes);
      continue;
    }
    for (const TransferClass &tc : s.classes) {
      uint64_t dma = dmaCycles(chip, tc.shape, s.store);
      uint64_t bus = busBytesOf(chip, tc.shape);
      (s.store ? r.storeQueueCycles : r.loadQueueCycles) += tc.count * dma;
      (s.store ? r.dramBytesWritten : r.dramBytesRead) +=
          tc.count * tc.shape.bytes();
      (s.store ? r.stores : r.loads) += tc.count;
      r.dramBusBytes += tc.count * bus;
      r.dramBusCycles += tc.count * timing::dramDataCycles(chip, bus);
    }
    r.roofline.unavoidableBytes += s.tensorBytes;
  }
  for (const ComputeClass &cc : k.compute) {
    uint64_t cyc = computeCycles(chip, cc) * cc.count;
    if (cc.op == Opcode::MatMul) {
      r.matrixCycles += cyc;
      uint64_t macs = cc.dims[0] * cc.dims[1] * cc.dims[2] * cc.count;
      r.macs += macs;
      r.roofline.computeCycles += double(macs) * d / pes;
    } else {
      r.vectorCycles += cyc;
      r.roofline.computeCycles += double(timing::vectorPasses(chip, cc.op) *
                                         cc.dims[0] * cc.dims[1] * cc.count) /
                                  chip.vector_lanes;
    }
  }
  r.computeQueueCycles = r.matrixCycles + r.vectorCycles;
  r.roofline.memoryCycles = double(r.roofline.unavoidableBytes) / bpc;
  return r;
}

/// The DRAM bus bound: the first access's latency, then every data phase
/// back to back on the one bus.
uint64_t busBound(const arch::ChipConfig &chip, const Cost &r) {
  return r.dramBusCycles ? chip.dramLatencyCycles() + r.dramBusCycles : 0;
}

/// Which resource sets the latency (for the report): the busiest queue or
/// the bus when it binds.
Bottleneck bottleneckOf(const arch::ChipConfig &chip, const Cost &r,
                        uint64_t recurrence) {
  if (busBound(chip, r) > recurrence)
    return Bottleneck::DramBus;
  uint64_t l = r.loadQueueCycles, cq = r.computeQueueCycles,
           s = r.storeQueueCycles;
  if (cq >= l && cq >= s)
    return Bottleneck::Compute;
  return l >= s ? Bottleneck::Load : Bottleneck::Store;
}

} // namespace

const char *tessera::cost::bottleneckName(Bottleneck b) {
  switch (b) {
  case Bottleneck::Load:
    return "load";
  case Bottleneck::Compute:
    return "compute";
  case Bottleneck::Store:
    return "store";
  case Bottleneck::DramBus:
    return "dram-bus";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// Builders
//===----------------------------------------------------------------------===//

Kernel tessera::cost::gemmKernel(const GemmOp &op, const GemmTiling &t,
                                 const Constraints &c) {
  uint64_t e = c.elementBytes, al = c.alignBytes;
  Extents em = extents(op.m, t.tm), ek = extents(op.k, t.tk),
          en = extents(op.n, t.tn);
  uint64_t nm = em.tiles(), nk = ek.tiles(), nn = en.tiles();
  uint64_t tm = em.first(), tk = ek.first(), tn = en.first();
  Kernel k;
  k.kind = "gemm";
  k.sramBytes = 2 * alignUp(tm * tk * e, al) + 2 * alignUp(tk * tn * e, al) +
                2 * alignUp(tm * tn * e, al) +
                (nk > 1 ? 2 * alignUp(tm * tn * 4, al) : 0);
  k.streams = {stream(op.a, false, op.batch * op.m * op.k * e),
               stream(op.b, false, op.batch * op.k * op.n * e),
               stream(op.out, true, op.batch * op.m * op.n * e)};
  // Two slots per operand, least recently used replaced, loop order
  // (i, j, l): A(i, l) stays for every j when a row of tiles has at most two
  // K steps; B(l, j) stays for every i when all of B is at most two tiles.
  bool aEveryJ = nk > 2, bEveryI = nk * nn > 2;
  // One output tile: its K steps, the last one storing.
  auto tile = [&](uint64_t xm, uint64_t xn, bool loadA, bool loadB) {
    Seq s;
    auto kstep = [&](uint64_t xk, bool last) {
      Step st;
      if (loadA)
        st.loads.push_back({0, xfer(xm, xk * e, op.k * e)});
      if (loadB)
        st.loads.push_back({1, xfer(xk, xn * e, op.n * e)});
      st.compute.push_back(instr(Opcode::MatMul, xm, xk, xn));
      if (last)
        st.stores.push_back({2, xfer(xm, xn * e, op.n * e)});
      return st;
    };
    if (ek.edgeCount) {
      s.add(kstep(ek.full, false), ek.fullCount);
      s.add(kstep(ek.edge, true));
    } else {
      s.add(kstep(ek.full, false), ek.fullCount - 1);
      s.add(kstep(ek.full, true));
    }
    return s;
  };
  // A row of output tiles: j = 0 loads A, the others only if A is evicted.
  auto row = [&](uint64_t xm, bool loadB) {
    Seq s;
    s.add(tile(xm, en.first(), true, loadB));
    uint64_t fullAfter = en.fullCount ? en.fullCount - 1 : 0;
    s.add(tile(xm, en.full, aEveryJ, loadB), fullAfter);
    if (en.edgeCount && en.fullCount)
      s.add(tile(xm, en.edge, aEveryJ, loadB));
    return s;
  };
  Seq matrix;
  matrix.add(row(em.first(), true));
  uint64_t fullAfter = em.fullCount ? em.fullCount - 1 : 0;
  matrix.add(row(em.full, bEveryI), fullAfter);
  if (em.edgeCount && em.fullCount)
    matrix.add(row(em.edge, bEveryI));
  k.loop.add(std::move(matrix), op.batch);
  (void)nm;
  // Per slot: A, B, out, the FP32 accumulator.
  k.firstLoadSramEnd = alignUp(tm * tk * e, al) + tk * tn * e;
  k.storeSramBegin = alignUp(tm * tk * e, al) + alignUp(tk * tn * e, al);
  k.streams[0].firstNeedBytes = (tm - 1) * op.k * e + tk * e;
  k.streams[1].firstNeedBytes = (tk - 1) * op.n * e + tn * e;
  k.streams[2].blockBytes = tm * op.n * e;
  k.streams[2].storesPerBlock = nn;
  finalize(k);
  return k;
}

Kernel tessera::cost::vectorKernel(const VectorOp &op, const RowTiling &t,
                                   const Constraints &c) {
  uint64_t e = c.elementBytes, al = c.alignBytes;
  Extents er = extents(op.rows, t.tr), ec = extents(op.cols, t.tc);
  uint64_t tr = er.first(), tc = ec.first();
  uint64_t tile = alignUp(tr * tc * e, al), total = op.rows * op.cols * e;
  uint64_t rowBytes = op.cols * e;
  bool ln = op.op == Opcode::VecLayerNorm;
  Kernel k;
  k.kind = "vector";
  auto resident = [&](const std::string &name, uint64_t bytes) {
    k.streams.push_back(stream(name, false, bytes, true));
    k.prologue.push_back(
        {unsigned(k.streams.size() - 1), xfer(1, bytes, bytes)});
  };
  Operand2 second = ln ? Operand2::None : op.second;
  if (ln) {
    k.sramBytes = 2 * alignUp(rowBytes, al) + 4 * tile;
    resident(op.y, rowBytes);
    resident(op.beta, rowBytes);
  } else if (second == Operand2::Row || second == Operand2::Scalar) {
    uint64_t bytes = second == Operand2::Row ? rowBytes : e;
    k.sramBytes = alignUp(bytes, al) + 4 * tile;
    resident(op.y, bytes);
  } else if (second == Operand2::Full) {
    k.sramBytes = 6 * tile;
  } else if (second == Operand2::Col) {
    k.sramBytes = 4 * tile + 2 * alignUp(tr * e, al);
  } else {
    k.sramBytes = 4 * tile;
  }
  unsigned xi = unsigned(k.streams.size());
  k.streams.push_back(stream(op.x, false, total));
  bool perTileY = second == Operand2::Full || second == Operand2::Col;
  if (perTileY)
    k.streams.push_back(
        stream(op.y, false, second == Operand2::Full ? total : op.rows * e));
  unsigned oi = unsigned(k.streams.size());
  k.streams.push_back(stream(op.out, true, total));

  auto step = [&](uint64_t xr, uint64_t xc) {
    Step s;
    Transfer tt = xfer(xr, xc * e, op.cols * e);
    s.loads.push_back({xi, tt});
    if (second == Operand2::Full)
      s.loads.push_back({xi + 1, tt});
    else if (second == Operand2::Col)
      s.loads.push_back({xi + 1, xfer(1, xr * e, e)});
    s.compute.push_back(instr(op.op, xr, xc));
    s.stores.push_back({oi, tt});
    return s;
  };
  auto row = [&](uint64_t xr) {
    Seq s;
    s.add(step(xr, ec.full), ec.fullCount);
    s.add(step(xr, ec.edge), ec.edgeCount);
    return s;
  };
  k.loop.add(row(er.full), er.fullCount);
  k.loop.add(row(er.edge), er.edgeCount);
  // Resident operands, two input slots, two slots of a per-tile second
  // operand, two output slots.
  uint64_t pro = 0;
  for (const auto &[i, t] : k.prologue)
    pro += alignUp(t.bytes(), al);
  uint64_t yBuf = second == Operand2::Full  ? tile
                  : second == Operand2::Col ? alignUp(tr * e, al)
                                            : 0;
  k.firstLoadSramEnd = pro + 2 * tile + yBuf;
  k.storeSramBegin = pro + 2 * tile + 2 * yBuf;
  k.streams[xi].firstNeedBytes = (tr - 1) * op.cols * e + tc * e;
  if (perTileY)
    k.streams[xi + 1].firstNeedBytes =
        second == Operand2::Full ? k.streams[xi].firstNeedBytes : tr * e;
  k.streams[oi].blockBytes = tr * op.cols * e;
  k.streams[oi].storesPerBlock = ec.tiles();
  finalize(k);
  return k;
}

Kernel tessera::cost::moveKernel(const MoveOp &op, const RowTiling &t,
                                 const Constraints &c) {
  uint64_t e = c.elementBytes, al = c.alignBytes;
  Extents er = extents(op.rows, t.tr), ec = extents(op.cols, t.tc);
  uint64_t tr = er.first(), tc = ec.first();
  uint64_t total = op.batch * op.rows * op.cols * e;
  Kernel k;
  k.kind = op.transpose ? "transpose" : "copy";
  k.sramBytes = (op.transpose ? 4 : 2) * alignUp(tr * tc * e, al);
  k.storeReadsLoadBuffer = !op.transpose;
  k.streams = {stream(op.x, false, total), stream(op.out, true, total)};
  auto step = [&](uint64_t xr, uint64_t xc) {
    Step s;
    s.loads.push_back({0, xfer(xr, xc * e, op.srcStrideBytes)});
    if (op.transpose) {
      // A transposed tile lands as xc rows of xr elements.
      s.compute.push_back(instr(Opcode::VecTranspose, xr, xc));
      s.stores.push_back({1, xfer(xc, xr * e, op.dstStrideBytes)});
    } else {
      s.stores.push_back({1, xfer(xr, xc * e, op.dstStrideBytes)});
    }
    return s;
  };
  auto row = [&](uint64_t xr) {
    Seq s;
    s.add(step(xr, ec.full), ec.fullCount);
    s.add(step(xr, ec.edge), ec.edgeCount);
    return s;
  };
  Seq slice;
  slice.add(row(er.full), er.fullCount);
  slice.add(row(er.edge), er.edgeCount);
  k.loop.add(std::move(slice), op.batch);
  uint64_t tile = alignUp(tr * tc * e, al);
  k.firstLoadSramEnd = tr * tc * e;
  // A copy's store reads the load's slot; a transpose's its output ring.
  k.storeSramBegin = op.transpose ? 2 * tile : 0;
  k.streams[0].firstNeedBytes = (tr - 1) * op.srcStrideBytes + tc * e;
  // Stores land in tensor order only for a contiguous copy.
  if (!op.transpose && op.batch == 1 && op.dstStrideBytes == op.cols * e) {
    k.streams[1].blockBytes = tr * op.cols * e;
    k.streams[1].storesPerBlock = ec.tiles();
  }
  finalize(k);
  return k;
}

void tessera::cost::finalizeKernel(Kernel &k) { finalize(k); }

void tessera::cost::appendPart(Kernel &layer, Kernel part) {
  if (layer.kind.empty()) {
    layer = std::move(part);
    return;
  }
  if (layer.parts.empty()) {
    Kernel first = std::move(layer);
    layer = Kernel();
    layer.kind = "parts";
    layer.sramBytes = first.sramBytes;
    layer.parts.push_back(std::move(first));
  }
  layer.sramBytes = std::max(layer.sramBytes, part.sramBytes);
  layer.parts.push_back(std::move(part));
}

Kernel tessera::cost::chainKernel(const ChainOp &op, const RowTiling &t,
                                  const Constraints &c) {
  uint64_t al = c.alignBytes;
  Extents er = extents(op.rows, t.tr), ec = extents(op.cols, t.tc);
  uint64_t tr = er.first(), tc = ec.first();
  Kernel k;
  k.kind = "chain";
  uint64_t inBufs = 0;
  for (size_t i = 0; i < op.inputs.size(); ++i) {
    k.streams.push_back(
        stream(op.inputs[i], false, op.rows * op.cols * op.inputBytes[i]));
    inBufs += 2 * alignUp(tr * tc * op.inputBytes[i], al);
  }
  unsigned oi = unsigned(k.streams.size());
  k.streams.push_back(stream(op.out, true, op.rows * op.cols * op.outBytes));
  k.sramBytes = inBufs + op.workSlots * alignUp(tr * tc * op.workBytes, al);
  auto step = [&](uint64_t xr, uint64_t xc) {
    Step s;
    for (size_t i = 0; i < op.inputs.size(); ++i)
      s.loads.push_back({unsigned(i), xfer(xr, xc * op.inputBytes[i],
                                           op.cols * op.inputBytes[i])});
    for (Opcode o : op.chain)
      s.compute.push_back(instr(o, xr, xc));
    s.stores.push_back({oi, xfer(xr, xc * op.outBytes, op.cols * op.outBytes)});
    return s;
  };
  auto row = [&](uint64_t xr) {
    Seq s;
    s.add(step(xr, ec.full), ec.fullCount);
    s.add(step(xr, ec.edge), ec.edgeCount);
    return s;
  };
  k.loop.add(row(er.full), er.fullCount);
  k.loop.add(row(er.edge), er.edgeCount);
  // Buffers in the emitter's order: the inputs' rings, then the work (or
  // output) ring the stores read.
  uint64_t firstIn = 0;
  for (size_t i = 0; i < op.inputs.size(); ++i)
    firstIn += (i + 1 < op.inputs.size() ? 2 : 1) *
               alignUp(tr * tc * op.inputBytes[i], al);
  k.firstLoadSramEnd = firstIn;
  k.storeSramBegin = inBufs;
  for (size_t i = 0; i < op.inputs.size(); ++i)
    k.streams[i].firstNeedBytes = ((tr - 1) * op.cols + tc) * op.inputBytes[i];
  k.streams[oi].blockBytes = tr * op.cols * op.outBytes;
  k.streams[oi].storesPerBlock = ec.tiles();
  finalize(k);
  return k;
}

Kernel tessera::cost::reduceKernel(Opcode op, uint64_t rows, uint64_t cols,
                                   uint64_t tr, const std::string &x,
                                   const std::string &out,
                                   const Constraints &c) {
  uint64_t e = c.elementBytes, al = c.alignBytes;
  Extents er = extents(rows, tr);
  tr = er.first();
  Kernel k;
  k.kind = "reduce";
  k.streams = {stream(x, false, rows * cols * e), stream(out, true, rows * e)};
  k.sramBytes = 2 * alignUp(tr * cols * e, al) + 2 * alignUp(tr * e, al);
  auto step = [&](uint64_t xr) {
    Step s;
    s.loads.push_back({0, xfer(xr, cols * e, cols * e)});
    s.compute.push_back(instr(op, xr, cols));
    s.stores.push_back({1, xfer(1, xr * e, xr * e)});
    return s;
  };
  k.loop.add(step(er.full), er.fullCount);
  k.loop.add(step(er.edge), er.edgeCount);
  k.firstLoadSramEnd = tr * cols * e;
  k.storeSramBegin = 2 * alignUp(tr * cols * e, al);
  k.streams[0].firstNeedBytes = tr * cols * e;
  k.streams[1].blockBytes = tr * e;
  k.streams[1].storesPerBlock = 1;
  finalize(k);
  return k;
}

Kernel tessera::cost::gatherKernel(uint64_t count, uint64_t tn,
                                   uint64_t rowBytes, const std::string &ids,
                                   const std::string &table,
                                   const std::string &out,
                                   const Constraints &c) {
  uint64_t al = c.alignBytes;
  Extents et = extents(count, tn);
  tn = et.first();
  Kernel k;
  k.kind = "gather";
  // Only the gathered rows of the table are unavoidable.
  k.streams = {stream(ids, false, count * 4),
               stream(table, false, count * rowBytes),
               stream(out, true, count * rowBytes)};
  k.sramBytes = 2 * alignUp(tn * 4, al) + 2 * alignUp(tn * rowBytes, al);
  auto step = [&](uint64_t xn) {
    Step s;
    s.loads.push_back({0, xfer(1, xn * 4, xn * 4)});
    Transfer g{xn, rowBytes, rowBytes};
    g.gather = true;
    s.loads.push_back({1, g});
    s.stores.push_back({2, xfer(xn, rowBytes, rowBytes)});
    return s;
  };
  k.loop.add(step(et.full), et.fullCount);
  k.loop.add(step(et.edge), et.edgeCount);
  k.firstLoadSramEnd = 2 * alignUp(tn * 4, al) + tn * rowBytes;
  k.storeSramBegin = 2 * alignUp(tn * 4, al);
  k.streams[0].firstNeedBytes = tn * 4;
  k.streams[2].blockBytes = tn * rowBytes;
  k.streams[2].storesPerBlock = 1;
  finalize(k);
  return k;
}

//===----------------------------------------------------------------------===//
// Evaluation
//===----------------------------------------------------------------------===//

Cost tessera::cost::evaluate(const arch::ChipConfig &chip, const Kernel &k,
                             const std::set<std::string> &keptInSram,
                             const Constraints &c) {
  if (!k.parts.empty()) {
    SequenceCost seq = evaluateSequence(chip, {k}, keptInSram, c);
    Cost r = seq.kernels[0];
    r.latencyCycles = seq.latencyCycles;
    r.bottleneck = bottleneckOf(chip, r, seq.latencyCycles);
    return r;
  }
  Cost r = totals(chip, k, keptInSram, c);
  Pricer pk(chip, k, keptInSram);
  std::vector<int64_t> x(size_t(pk.lay.size()), 0);
  applyTo(pk.kernelMatrix(), x);
  uint64_t rec = lastEvent(pk.lay, x);
  r.latencyCycles = std::max(rec, busBound(chip, r));
  r.bottleneck = bottleneckOf(chip, r, rec);
  return r;
}

SequenceCost tessera::cost::evaluateSequence(
    const arch::ChipConfig &chip, const std::vector<Kernel> &layers,
    const std::set<std::string> &keptInSram, const Constraints &c) {
  bool composite = false;
  for (const Kernel &k : layers)
    composite |= !k.parts.empty();
  if (composite) {
    // A kernel of parts is its parts in sequence: price the flat sequence,
    // then give each layer the sum of its parts (the simulator attributes a
    // layer's cycles the same way: its end minus the previous layer's end).
    std::vector<Kernel> flat;
    std::vector<size_t> owner;
    for (size_t i = 0; i < layers.size(); ++i) {
      if (layers[i].parts.empty()) {
        flat.push_back(layers[i]);
        owner.push_back(i);
      }
      for (const Kernel &p : layers[i].parts) {
        flat.push_back(p);
        owner.push_back(i);
      }
    }
    SequenceCost f = evaluateSequence(chip, flat, keptInSram, c);
    SequenceCost r;
    r.kernels.resize(layers.size());
    r.endCycles.assign(layers.size(), 0);
    r.attributedCycles.assign(layers.size(), 0);
    for (size_t j = 0; j < flat.size(); ++j) {
      size_t i = owner[j];
      Cost &dst = r.kernels[i];
      const Cost &src = f.kernels[j];
      dst.sramBytes = std::max(dst.sramBytes, src.sramBytes);
      dst.dramBytesRead += src.dramBytesRead;
      dst.dramBytesWritten += src.dramBytesWritten;
      dst.dramBusBytes += src.dramBusBytes;
      dst.loads += src.loads;
      dst.stores += src.stores;
      dst.macs += src.macs;
      dst.matrixCycles += src.matrixCycles;
      dst.vectorCycles += src.vectorCycles;
      dst.loadQueueCycles += src.loadQueueCycles;
      dst.computeQueueCycles += src.computeQueueCycles;
      dst.storeQueueCycles += src.storeQueueCycles;
      dst.dramBusCycles += src.dramBusCycles;
      dst.latencyCycles += src.latencyCycles;
      dst.roofline += src.roofline;
      r.endCycles[i] = f.endCycles[j];
      r.attributedCycles[i] += f.attributedCycles[j];
    }
    r.latencyCycles = f.latencyCycles;
    r.roofline = f.roofline;
    return r;
  }
  const std::vector<Kernel> &kernels = layers;
  SequenceCost r;
  Layout lay{int(std::max<uint32_t>(1, chip.dma_outstanding_transfers))};
  std::vector<int64_t> x(size_t(lay.size()), 0);
  uint64_t prevEnd = 0, bus = 0;
  for (size_t i = 0; i < kernels.size(); ++i) {
    const Kernel &k = kernels[i];
    r.kernels.push_back(evaluate(chip, k, keptInSram, c));
    r.roofline += r.kernels.back().roofline;
    bus += r.kernels.back().dramBusCycles;
    Pricer pk(chip, k, keptInSram);
    if (i > 0)
      crossKernel(kernels[i - 1], pk, keptInSram, x);
    applyTo(pk.kernelMatrix(), x);
    uint64_t end = lastEvent(lay, x);
    r.endCycles.push_back(end);
    r.attributedCycles.push_back(end > prevEnd ? end - prevEnd : 0);
    prevEnd = std::max(prevEnd, end);
  }
  r.latencyCycles = std::max(prevEnd, bus ? chip.dramLatencyCycles() + bus : 0);
  return r;
}

Cost tessera::cost::evaluate(const arch::ChipConfig &chip, const FusedGroup &g,
                             const Constraints &c) {
  SequenceCost seq = evaluateSequence(chip, g.members, g.keptInSram, c);
  Cost sum;
  for (const Cost &m : seq.kernels) {
    // Buffers of every member coexist in the fused kernel.
    sum.sramBytes += m.sramBytes;
    sum.dramBytesRead += m.dramBytesRead;
    sum.dramBytesWritten += m.dramBytesWritten;
    sum.dramBusBytes += m.dramBusBytes;
    sum.loads += m.loads;
    sum.stores += m.stores;
    sum.macs += m.macs;
    sum.matrixCycles += m.matrixCycles;
    sum.vectorCycles += m.vectorCycles;
    sum.loadQueueCycles += m.loadQueueCycles;
    sum.computeQueueCycles += m.computeQueueCycles;
    sum.storeQueueCycles += m.storeQueueCycles;
    sum.dramBusCycles += m.dramBusCycles;
    sum.roofline += m.roofline;
  }
  // A kept tensor was counted by each member that touches it; it is
  // resident once.
  for (const std::string &name : g.keptInSram) {
    uint64_t bytes = 0, times = 0;
    for (const Kernel &k : g.members)
      for (const Stream &s : k.streams)
        if (s.tensor == name) {
          bytes = alignUp(s.tensorBytes, c.alignBytes);
          ++times;
          break;
        }
    if (times > 1)
      sum.sramBytes -= (times - 1) * bytes;
  }
  sum.latencyCycles = seq.latencyCycles;
  sum.bottleneck = bottleneckOf(chip, sum, seq.latencyCycles);
  return sum;
}

std::optional<std::string>
tessera::cost::checkFits(const arch::ChipConfig &chip, const Kernel &k,
                         const Constraints &c) {
  uint64_t budget = c.budget(chip);
  if (k.sramBytes > budget)
    return "needs " + std::to_string(k.sramBytes) +
           " bytes of SRAM, the budget is " + std::to_string(budget);
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Search
//===----------------------------------------------------------------------===//

std::vector<uint64_t> tessera::cost::tileCandidates(uint64_t d, uint64_t unit) {
  std::vector<uint64_t> v{d};
  // Multiples of the unit: every one up to 16, then a geometric ladder, so
  // the search stays small for long dimensions.
  for (uint64_t m = 1; m * unit < d;
       m = m < 16 ? m + 1 : (m % 3 == 0 ? m / 3 * 4 : m / 2 * 3))
    v.push_back(m * unit);
  for (uint64_t t = unit / 2; t >= 8; t /= 2)
    if (t < d)
      v.push_back(t);
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

bool tessera::cost::betterCost(const Cost &a, const Cost &b) {
  return std::make_tuple(a.latencyCycles, a.dramBusBytes, a.sramBytes) <
         std::make_tuple(b.latencyCycles, b.dramBusBytes, b.sramBytes);
}

std::optional<Cost> tessera::cost::priceCandidate(const arch::ChipConfig &chip,
                                                  const Kernel &k,
                                                  const Constraints &c,
                                                  const Cost *best) {
  if (k.sramBytes > c.budget(chip))
    return std::nullopt;
  if (best && k.parts.empty()) {
    // A lower bound without the recurrence: the compute queue runs its
    // instructions one at a time and the bus its data phases back to back,
    // so a candidate bounded above the best so far cannot win (nor tie).
    // Skipping it leaves the choice unchanged and saves the max-plus
    // pricing of most candidates.
    Cost lb = totals(chip, k, {}, c);
    if (std::max(lb.computeQueueCycles, busBound(chip, lb)) >
        best->latencyCycles)
      return std::nullopt;
  }
  return evaluate(chip, k, {}, c);
}

std::optional<Choice<GemmTiling>>
tessera::cost::searchGemm(const arch::ChipConfig &chip, const GemmOp &op,
                          const Constraints &c) {
  std::vector<uint64_t> ms = tileCandidates(op.m, 32);
  for (uint64_t t : {16, 8})
    if (t < op.m && !std::count(ms.begin(), ms.end(), t))
      ms.push_back(t);
  // A weight-stationary product streams at most matrix_accumulator_rows
  // rows of A (docs/timing-model.md, "Accumulators").
  ms.erase(std::remove_if(
               ms.begin(), ms.end(),
               [&](uint64_t t) { return t > chip.matrix_accumulator_rows; }),
           ms.end());
  std::vector<uint64_t> ks = tileCandidates(op.k, chip.matrix_rows),
                        ns = tileCandidates(op.n, chip.matrix_cols);
  std::sort(ms.rbegin(), ms.rend());
  std::sort(ks.rbegin(), ks.rend());
  std::sort(ns.rbegin(), ns.rend());
  std::optional<Choice<GemmTiling>> best;
  uint64_t n = 0;
  for (uint64_t tm : ms)
    for (uint64_t tk : ks)
      for (uint64_t tn : ns)
        consider(
            chip, c, GemmTiling{tm, tk, tn},
            [&](const GemmTiling &t) { return gemmKernel(op, t, c); }, best, n);
  if (best)
    best->candidates = n;
  return best;
}

const char *tessera::cost::gemmSplitAxisName(int axis) {
  switch (axis) {
  case 0:
    return "batch";
  case 1:
    return "rows";
  case 2:
    return "cols";
  default:
    return "";
  }
}

GemmSplit tessera::cost::divideGemm(const arch::ChipConfig &chip,
                                    const GemmOp &op, const GemmTiling &t,
                                    unsigned parts) {
  auto ceilDiv = [](uint64_t a, uint64_t b) { return (a + b - 1) / b; };
  uint64_t nmT = ceilDiv(op.m, t.tm), nnT = ceilDiv(op.n, t.tn);
  GemmSplit split;
  split.tiling = t;
  Kernel whole = gemmKernel(op, t);
  Cost wholeCost = evaluate(chip, whole);
  uint64_t units = 0, tilesPerUnit = 0;
  if (op.batch >= 2)
    split.axis = 0, units = op.batch, tilesPerUnit = nmT * nnT;
  else if (nmT >= 2)
    split.axis = 1, units = nmT, tilesPerUnit = nnT;
  else if (nnT >= 2)
    split.axis = 2, units = nnT, tilesPerUnit = 1;
  if (parts < 2 || split.axis < 0) {
    split.axis = -1;
    split.starts = {0, op.batch * nmT * nnT};
    split.cycles = wholeCost.latencyCycles;
    split.dramBytes = wholeCost.dramBytes();
    split.longest = std::move(whole);
    return split;
  }
  uint64_t per = ceilDiv(units, std::min<uint64_t>(parts, units));
  split.parts = unsigned(ceilDiv(units, per));
  uint64_t longest = 0, bus = 0;
  for (uint64_t q = 0; q < split.parts; ++q) {
    uint64_t u0 = q * per, u1 = std::min(units, u0 + per);
    GemmOp part = op;
    if (split.axis == 0)
      part.batch = u1 - u0;
    else if (split.axis == 1)
      part.m = std::min<uint64_t>(op.m, u1 * t.tm) - u0 * t.tm;
    else
      part.n = std::min<uint64_t>(op.n, u1 * t.tn) - u0 * t.tn;
    Kernel k = gemmKernel(part, t);
    Cost c = evaluate(chip, k);
    if (c.latencyCycles > longest || q == 0) {
      longest = c.latencyCycles;
      split.longest = std::move(k);
    }
    bus += c.dramBusCycles;
    split.dramBytes += c.dramBytes();
    split.starts.push_back(u0 * tilesPerUnit);
  }
  split.starts.push_back(op.batch * nmT * nnT);
  // The parts run at once but share the DRAM bus; the first waits for the
  // token of the other NPU's previous kernel. Operands both parts load (the
  // weights of a row split) add bus cycles, which the neighbouring kernels
  // lose too: they count once more.
  uint64_t extra =
      bus > wholeCost.dramBusCycles ? bus - wholeCost.dramBusCycles : 0;
  split.cycles = std::max(longest, bus) + extra + chip.npu_sync_cycles;
  return split;
}

GemmSplit tessera::cost::chooseGemmSplit(const arch::ChipConfig &chip,
                                         const GemmOp &op,
                                         const GemmTiling &t) {
  GemmSplit none = divideGemm(chip, op, t, 1);
  if (chip.npus < 2)
    return none;
  // Only a product the matrix unit bounds gains from a second NPU: one the
  // load or store queue or the DRAM bus bounds would share the bus.
  if (evaluate(chip, none.longest).bottleneck != Bottleneck::Compute)
    return none;
  std::optional<GemmSplit> best;
  for (unsigned parts = 2; parts <= chip.npus; ++parts) {
    std::vector<GemmTiling> tilings{t};
    if (op.batch == 1 && t.tm >= op.m && op.m >= 16) {
      uint64_t rows = (op.m + parts - 1) / parts;
      tilings.push_back({(rows + 7) / 8 * 8, t.tk, t.tn});
    }
    for (const GemmTiling &p : tilings) {
      GemmSplit split = divideGemm(chip, op, p, parts);
      if (split.parts >= 2 && (!best || split.cycles < best->cycles))
        best = std::move(split);
    }
  }
  return best && best->cycles < none.cycles ? *best : none;
}

namespace {

std::vector<uint64_t> rowCandidates(uint64_t rows) {
  std::vector<uint64_t> v = tileCandidates(rows, 8);
  for (uint64_t t : {1, 2, 4})
    if (t < rows)
      v.push_back(t);
  std::sort(v.rbegin(), v.rend());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

/// The former emitter's tile buffer cap (docs/lowering.md, "SRAM
/// allocation").
constexpr uint64_t kFormerTileCap = 128 << 10;

/// The row counts near the largest that fits for whole-row tiles (tc =
/// the row): the largest whose kernel (`footprint(tr)` bytes) fits the
/// budget and the eight below it, and the largest whose tile of `rowBytes`
/// rows stays within 128 KiB. The tiles the code generator chose before
/// the search (the largest that fit, less a few rows of alignment slack,
/// under that cap) are among them, so the search never models a kernel
/// slower than they did. Descending; those rowCandidates already has are
/// left out.
template <typename Footprint>
std::vector<uint64_t> largestRows(const arch::ChipConfig &chip,
                                  const Constraints &c, uint64_t rows,
                                  uint64_t rowBytes, Footprint footprint) {
  std::vector<uint64_t> base = rowCandidates(rows), v;
  uint64_t budget = c.budget(chip);
  // The footprint grows with tr: the largest that fits, by bisection.
  uint64_t lo = 0, hi = rows;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo + 1) / 2;
    if (footprint(mid) <= budget)
      lo = mid;
    else
      hi = mid - 1;
  }
  for (uint64_t k = 0; k <= 8 && k < lo; ++k)
    v.push_back(lo - k);
  uint64_t capped = rowBytes ? kFormerTileCap / rowBytes : 0;
  if (capped >= 1 && capped < lo)
    v.push_back(capped);
  std::sort(v.rbegin(), v.rend());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  v.erase(std::remove_if(v.begin(), v.end(),
                         [&](uint64_t t) {
                           return std::count(base.begin(), base.end(), t);
                         }),
          v.end());
  return v;
}

/// The vector family's searches (searchVector, searchReduce, searchChain;
/// docs/cost-model.md, "Tiling search"): every candidate of at most
/// kVectorTileElements that fits is priced, and among those whose modelled
/// latency is within kVectorTolerancePercent of the lowest, whole-row tiles
/// win over partial rows, then the fewest tiles (then the lowest latency,
/// fewer bus bytes, the smaller footprint, the earlier candidate). The
/// model prices a kernel alone and underprices the fixed costs of a tile
/// (an instruction's startup, a short transfer's latency behind the
/// descriptors in flight, short strided DMA rows): left to the lowest
/// latency alone it takes many small tiles the simulator runs slower (the
/// 40-layer perception network's GELU [768, 1792]: 128 x 32 tiles modelled
/// 162 824 cycles, whole-row 36 x 1792 tiles 165 303; simulated 177 222 and
/// 158 125; the unfused frame 128 504 234 -> 129 512 453 cycles), and
/// without the cap a few very large tiles whose last store the next
/// kernel's loads wait behind (128 624 340). With the cap, the 5% band and
/// whole rows first: 128 499 978.
constexpr uint64_t kVectorTolerancePercent = 5;
/// The largest tile of the vector family's searches but for one row (which
/// may be longer): 64 Ki elements, 128 KiB of FP16, the code generator's
/// cap before the search.
constexpr uint64_t kVectorTileElements = 64 << 10;
template <typename Build> struct VectorSearch {
  const arch::ChipConfig &chip;
  const Constraints &c;
  Build build;
  struct Priced {
    RowTiling tiling;
    Cost cost;
    uint64_t tiles;
  };
  std::vector<Priced> fit;
  uint64_t lowest = UINT64_MAX, n = 0;
  bool within(uint64_t cycles) const {
    return lowest == UINT64_MAX ||
           cycles * 100 <= lowest * (100 + kVectorTolerancePercent);
  }
  void add(const RowTiling &t) {
    ++n;
    // A tile of at most 64 Ki elements (128 KiB of FP16), but for a single
    // row: see kVectorTileElements.
    if (t.tr > 1 && t.tr * t.tc > kVectorTileElements)
      return;
    Kernel k = build(t);
    if (k.sramBytes > c.budget(chip))
      return;
    // The lower bound of consider(): a candidate bounded above the
    // tolerance cannot be picked.
    Cost lb = totals(chip, k, {}, c);
    if (!within(std::max(lb.computeQueueCycles, busBound(chip, lb))))
      return;
    Cost cost = evaluate(chip, k, {}, c);
    lowest = std::min(lowest, cost.latencyCycles);
    fit.push_back({t, cost, k.tiles});
  }
  std::optional<Choice<RowTiling>> result(uint64_t cols) const {
    const Priced *pick = nullptr;
    auto key = [&](const Priced &p) {
      return std::make_tuple(p.tiling.tc != cols, p.tiles);
    };
    for (const Priced &p : fit) {
      if (!within(p.cost.latencyCycles))
        continue;
      if (!pick || key(p) < key(*pick) ||
          (key(p) == key(*pick) && betterCost(p.cost, pick->cost)))
        pick = &p;
    }
    if (!pick)
      return std::nullopt;
    return Choice<RowTiling>{pick->tiling, pick->cost, n};
  }
};
template <typename Build>
VectorSearch<Build> vectorSearch(const arch::ChipConfig &chip,
                                 const Constraints &c, Build build) {
  return VectorSearch<Build>{chip, c, build, {}, UINT64_MAX, 0};
}

} // namespace

std::optional<Choice<RowTiling>>
tessera::cost::searchVector(const arch::ChipConfig &chip, const VectorOp &op,
                            const Constraints &c) {
  std::vector<uint64_t> cols{op.cols};
  if (!op.rowWise()) {
    std::vector<uint64_t> more = tileCandidates(op.cols, 64);
    cols.assign(more.rbegin(), more.rend());
  }
  auto build = [&](const RowTiling &t) { return vectorKernel(op, t, c); };
  auto search = vectorSearch(chip, c, build);
  for (uint64_t tr : rowCandidates(op.rows))
    for (uint64_t tc : cols)
      search.add({tr, tc});
  for (uint64_t tr : largestRows(chip, c, op.rows, op.cols * c.elementBytes,
                                 [&](uint64_t tr) {
                                   return build({tr, op.cols}).sramBytes;
                                 }))
    search.add({tr, op.cols});
  return search.result(op.cols);
}

std::optional<Choice<RowTiling>>
tessera::cost::searchReduce(const arch::ChipConfig &chip, Opcode op,
                            uint64_t rows, uint64_t cols,
                            const Constraints &c) {
  auto build = [&](const RowTiling &t) {
    return reduceKernel(op, rows, cols, t.tr, "x", "out", c);
  };
  auto search = vectorSearch(chip, c, build);
  for (uint64_t tr : rowCandidates(rows))
    search.add({tr, cols});
  for (uint64_t tr :
       largestRows(chip, c, rows, cols * c.elementBytes, [&](uint64_t tr) {
         return build({tr, cols}).sramBytes;
       }))
    search.add({tr, cols});
  return search.result(cols);
}

std::optional<Choice<RowTiling>>
tessera::cost::searchChain(const arch::ChipConfig &chip, const ChainOp &op,
                           const Constraints &c) {
  std::vector<uint64_t> more = tileCandidates(op.cols, 64);
  std::vector<uint64_t> cols(more.rbegin(), more.rend());
  uint64_t elemBytes = 0;
  for (uint64_t b : op.inputBytes)
    elemBytes = std::max(elemBytes, b);
  auto build = [&](const RowTiling &t) { return chainKernel(op, t, c); };
  auto search = vectorSearch(chip, c, build);
  for (uint64_t tr : rowCandidates(op.rows))
    for (uint64_t tc : cols)
      search.add({tr, tc});
  for (uint64_t tr :
       largestRows(chip, c, op.rows, op.cols * elemBytes, [&](uint64_t tr) {
         return build({tr, op.cols}).sramBytes;
       }))
    search.add({tr, op.cols});
  return search.result(op.cols);
}

RowTiling tessera::cost::smallestRowTiling(uint64_t rows, uint64_t cols,
                                           bool wholeRows) {
  return {std::min<uint64_t>(rows, 1),
          wholeRows ? cols : std::min<uint64_t>(cols, 8)};
}

//===----------------------------------------------------------------------===//
// Fused kernels
//===----------------------------------------------------------------------===//

std::vector<ColumnSegment>
tessera::cost::columnSegments(const ResidentKv &kv, uint64_t row, uint64_t c0,
                              uint64_t cn, const Constraints &c) {
  // The kept column ranges with their region blocks, by column.
  struct Range {
    uint64_t col, sram;
  };
  std::vector<Range> kept;
  for (uint64_t h = 0; h < kv.heads; ++h) {
    kept.push_back({kv.kColumn + h * kv.headDim, kv.kAddr(h, c)});
    kept.push_back({kv.vColumn + h * kv.headDim, kv.vAddr(h, c)});
  }
  std::sort(kept.begin(), kept.end(),
            [](const Range &x, const Range &y) { return x.col < y.col; });
  std::vector<ColumnSegment> segs;
  uint64_t col = c0, end = c0 + cn;
  while (col < end) {
    ColumnSegment s;
    s.col = col;
    const Range *in = nullptr;
    uint64_t next = end; // The next kept range's start after `col`.
    for (const Range &r : kept) {
      if (r.col <= col && col < r.col + kv.headDim)
        in = &r;
      else if (r.col > col)
        next = std::min(next, r.col);
    }
    if (in) {
      s.cols = std::min(end, in->col + kv.headDim) - col;
      s.kept = true;
      s.sram = in->sram + (row * kv.headDim + (col - in->col)) * c.elementBytes;
      s.sramStride = kv.headDim;
    } else {
      s.cols = next - col;
    }
    segs.push_back(s);
    col += s.cols;
  }
  return segs;
}

uint64_t tessera::cost::attentionSramBytes(const AttentionOp &op,
                                           const AttentionTiling &t,
                                           const Constraints &c) {
  return attentionSramPlan(op, t, c).total;
}

Kernel tessera::cost::attentionKernel(const AttentionOp &op,
                                      const AttentionTiling &t,
                                      const Constraints &c) {
  uint64_t e = c.elementBytes, hd = op.headDim;
  Extents eq = extents(op.sq, t.tq);
  uint64_t tq = eq.first();
  uint64_t perHead = op.batch * op.heads;
  Kernel k;
  k.kind = "attention";
  uint64_t cols = op.heads * hd;
  // Heads h < kv.heads read K_h and V_h from the resident region (batch 1).
  uint64_t resident = std::min(op.kv.heads, op.heads);
  uint64_t kvCols = (op.heads - resident) * hd;
  k.streams = {stream(op.q, false, op.batch * op.sq * cols * e),
               stream(op.k, false, op.batch * op.sk * kvCols * e),
               stream(op.v, false, op.batch * op.sk * kvCols * e),
               stream(op.out, true, op.batch * op.sq * cols * e)};
  // One tile of query rows; the head's first tile loads K_h and V_h (not
  // for a resident head).
  auto tile = [&](uint64_t xq, bool first) {
    Step st;
    if (first) {
      st.loads.push_back({1, xfer(op.sk, hd * e, op.kRowStride * e)});
      st.loads.push_back({2, xfer(op.sk, hd * e, op.vRowStride * e)});
    }
    st.loads.push_back({0, xfer(xq, hd * e, op.qRowStride * e)});
    // The load slots each instruction reads (ComputeClass::reads): the
    // scale Q, the score product K, the context product V.
    auto reading = [](ComputeClass cc, uint64_t mask) {
      cc.reads = mask ? mask : ComputeClass::kReadsNoSlot;
      return cc;
    };
    st.compute.push_back(reading(instr(Opcode::VecScale, xq, hd), 1));
    st.compute.push_back(reading(instr(Opcode::MatMul, xq, hd, op.sk), 2));
    st.compute.push_back(reading(instr(Opcode::VecSoftmax, xq, op.sk), 0));
    st.compute.push_back(reading(instr(Opcode::MatMul, xq, op.sk, hd), 4));
    st.stores.push_back({3, xfer(xq, hd * e, op.outRowStride * e)});
    return st;
  };
  auto headSeq = [&](bool loadKv) {
    Seq head;
    head.add(tile(eq.first(), loadKv));
    uint64_t fullAfter = eq.fullCount ? eq.fullCount - 1 : 0;
    head.add(tile(eq.full, false), fullAfter);
    if (eq.edgeCount && eq.fullCount)
      head.add(tile(eq.edge, false));
    return head;
  };
  k.loop.add(headSeq(false), resident);
  k.loop.add(headSeq(true), perHead - resident);
  // The first step loads K_h, V_h and Q into slot 0; the stores read the
  // output slots (the plan the emitter places its buffers by, SramPlan.h).
  SramPlan plan = attentionSramPlan(op, t, c);
  k.sramBytes = plan.total;
  k.firstLoadSramEnd = plan.find("q")->offset + tq * hd * e;
  if (!resident)
    k.firstLoadSramEnd =
        std::max({k.firstLoadSramEnd, plan.find("k")->offset + op.sk * hd * e,
                  plan.find("v")->offset + op.sk * hd * e});
  k.storeSramBegin =
      std::min(plan.find("o", 0)->offset, plan.find("o", 1)->offset);
  k.streams[0].firstNeedBytes =
      op.qOffset * e + (tq - 1) * op.qRowStride * e + hd * e;
  k.streams[1].firstNeedBytes = op.kOffset * e +
                                (op.sk - 1) * op.kRowStride * e +
                                (resident + 1) * hd * e;
  k.streams[2].firstNeedBytes = op.vOffset * e +
                                (op.sk - 1) * op.vRowStride * e +
                                (resident + 1) * hd * e;
  // Each head writes its own columns: rows are complete only at the end.
  k.streams[3].storesPerBlock = 0;
  finalize(k);
  return k;
}

std::optional<Choice<AttentionTiling>>
tessera::cost::searchAttention(const arch::ChipConfig &chip,
                               const AttentionOp &op, const Constraints &c) {
  std::vector<uint64_t> tqs = tileCandidates(op.sq, 32);
  std::sort(tqs.rbegin(), tqs.rend());
  std::optional<Choice<AttentionTiling>> best;
  uint64_t n = 0;
  for (uint64_t tq : tqs) {
    if (tq > chip.matrix_accumulator_rows)
      continue;
    consider(
        chip, c, AttentionTiling{tq},
        [&](const AttentionTiling &t) { return attentionKernel(op, t, c); },
        best, n);
  }
  if (best)
    best->candidates = n;
  return best;
}

uint64_t tessera::cost::onlineAttentionSramBytes(const AttentionOp &op,
                                                 const OnlineAttentionTiling &t,
                                                 const Constraints &c) {
  return onlineAttentionSramPlan(op, t, c).total;
}

Kernel tessera::cost::onlineAttentionKernel(const AttentionOp &op,
                                            const OnlineAttentionTiling &t,
                                            const Constraints &c) {
  uint64_t e = c.elementBytes, hd = op.headDim;
  Extents eq = extents(op.sq, t.tq), ek = extents(op.sk, t.tk);
  uint64_t tq = eq.first(), nk = ek.tiles();
  Kernel k;
  k.kind = "attention";
  uint64_t cols = op.heads * hd;
  k.streams = {stream(op.q, false, op.batch * op.sq * cols * e),
               stream(op.k, false, op.batch * op.sk * cols * e),
               stream(op.v, false, op.batch * op.sk * cols * e),
               stream(op.out, true, op.batch * op.sq * cols * e)};
  // One K/V step of a query tile of xq rows over xk keys (the emitter's
  // instructions in its order). The first step loads the Q tile and scales
  // it, and starts m, l and O from its own tile; every later one rescales
  // them; the last divides O by l and stores the context.
  auto step = [&](uint64_t xq, uint64_t xk, bool first, bool last) {
    Step st;
    if (first)
      st.loads.push_back({0, xfer(xq, hd * e, op.qRowStride * e)});
    st.loads.push_back({1, xfer(xk, hd * e, op.kRowStride * e)});
    st.loads.push_back({2, xfer(xk, hd * e, op.vRowStride * e)});
    if (first)
      st.compute.push_back(instr(Opcode::VecScale, xq, hd));
    st.compute.push_back(instr(Opcode::MatMul, xq, hd, xk));
    st.compute.push_back(instr(Opcode::VecReduceMax, xq, xk));
    if (!first)
      st.compute.push_back(instr(Opcode::VecMax, xq, 1));
    st.compute.push_back(instr(Opcode::VecSub, xq, xk));
    st.compute.push_back(instr(Opcode::VecExp, xq, xk));
    st.compute.push_back(instr(Opcode::VecReduceSum, xq, xk));
    if (!first) {
      st.compute.push_back(instr(Opcode::VecSub, xq, 1));
      st.compute.push_back(instr(Opcode::VecExp, xq, 1));
      st.compute.push_back(instr(Opcode::VecMul, xq, 1));
      st.compute.push_back(instr(Opcode::VecAdd, xq, 1));
      st.compute.push_back(instr(Opcode::VecMul, xq, hd));
    }
    st.compute.push_back(instr(Opcode::MatMul, xq, xk, hd));
    if (last) {
      st.compute.push_back(instr(Opcode::VecDiv, xq, hd));
      st.stores.push_back({3, xfer(xq, hd * e, op.outRowStride * e)});
    }
    return st;
  };
  // A query tile: the first K tile (full unless there is only the edge),
  // nk - 2 full ones, the last (the edge when there is one).
  auto queryTile = [&](uint64_t xq) {
    Seq s;
    s.add(step(xq, ek.first(), true, nk == 1));
    if (nk >= 2) {
      s.add(step(xq, ek.full, false, false), nk - 2);
      s.add(step(xq, ek.last(), false, true));
    }
    return s;
  };
  Seq head;
  eq.each([&](uint64_t xq, uint64_t count) { head.add(queryTile(xq), count); });
  k.loop.add(std::move(head), op.batch * op.heads);
  SramPlan plan = onlineAttentionSramPlan(op, t, c);
  uint64_t xk0 = ek.first();
  k.sramBytes = plan.total;
  k.firstLoadSramEnd = std::max({plan.find("k")->offset + xk0 * hd * e,
                                 plan.find("v")->offset + xk0 * hd * e,
                                 plan.find("q")->offset + tq * hd * e});
  // The context is stored from the Q slots.
  k.storeSramBegin =
      std::min(plan.find("q", 0)->offset, plan.find("q", 1)->offset);
  k.streams[0].firstNeedBytes =
      op.qOffset * e + (tq - 1) * op.qRowStride * e + hd * e;
  k.streams[1].firstNeedBytes =
      op.kOffset * e + (xk0 - 1) * op.kRowStride * e + hd * e;
  k.streams[2].firstNeedBytes =
      op.vOffset * e + (xk0 - 1) * op.vRowStride * e + hd * e;
  k.streams[3].storesPerBlock = 0;
  finalize(k);
  return k;
}

std::optional<std::string> tessera::cost::checkOnlineAttention(
    const arch::ChipConfig &chip, const AttentionOp &op,
    const OnlineAttentionTiling &t, const Constraints &c) {
  if (t.tq < 1 || t.tq > op.sq)
    return "tq = " + std::to_string(t.tq) + " is not a tile of the " +
           std::to_string(op.sq) + " query rows";
  if (t.tq > chip.matrix_accumulator_rows)
    return "tq = " + std::to_string(t.tq) + " exceeds the " +
           std::to_string(chip.matrix_accumulator_rows) +
           " accumulator rows (matrix_accumulator_rows)";
  if (t.tk < 1 || t.tk > op.sk)
    return "tk = " + std::to_string(t.tk) + " is not a tile of the " +
           std::to_string(op.sk) + " key rows";
  uint64_t bytes = onlineAttentionSramBytes(op, t, c);
  if (bytes > c.budget(chip))
    return "tile " + std::to_string(t.tq) + "x" + std::to_string(t.tk) +
           " needs " + std::to_string(bytes) +
           " bytes of SRAM, the budget is " + std::to_string(c.budget(chip));
  return std::nullopt;
}

OnlineAttentionTiling
tessera::cost::onlineAttentionMinTiling(const AttentionOp &op) {
  return {std::min<uint64_t>(8, op.sq), std::min<uint64_t>(8, op.sk)};
}

std::optional<Choice<OnlineAttentionTiling>>
tessera::cost::searchOnlineAttention(const arch::ChipConfig &chip,
                                     const AttentionOp &op,
                                     const Constraints &c) {
  std::vector<uint64_t> tqs = tileCandidates(op.sq, 32),
                        tks = tileCandidates(op.sk, chip.matrix_cols);
  for (uint64_t x : {uint64_t(16), uint64_t(8)}) {
    if (x < op.sq && !std::count(tqs.begin(), tqs.end(), x))
      tqs.push_back(x);
    if (x < op.sk && !std::count(tks.begin(), tks.end(), x))
      tks.push_back(x);
  }
  std::sort(tqs.rbegin(), tqs.rend());
  std::sort(tks.rbegin(), tks.rend());
  std::optional<Choice<OnlineAttentionTiling>> best;
  uint64_t n = 0;
  for (uint64_t tq : tqs) {
    if (tq > chip.matrix_accumulator_rows)
      continue;
    for (uint64_t tk : tks)
      consider(
          chip, c, OnlineAttentionTiling{tq, tk},
          [&](const OnlineAttentionTiling &t) {
            return onlineAttentionKernel(op, t, c);
          },
          best, n);
  }
  if (best)
    best->candidates = n;
  return best;
}

uint64_t tessera::cost::matmulGroupSramBytes(const MatMulGroupOp &op,
                                             const GemmTiling &t,
                                             const Constraints &c) {
  return matmulGroupSramPlan(op, t, c).total;
}

Kernel tessera::cost::matmulGroupKernel(const MatMulGroupOp &op,
                                        const GemmTiling &t,
                                        const Constraints &c) {
  uint64_t e = c.elementBytes;
  Extents em = extents(op.m, t.tm), ek = extents(op.k, t.tk),
          en = extents(op.n, t.tn);
  uint64_t nk = ek.tiles(), nn = en.tiles();
  uint64_t tm = em.first(), tk = ek.first(), tn = en.first();
  Kernel k;
  k.kind = "matmul-group";
  SramPlan plan = matmulGroupSramPlan(op, t, c);
  k.sramBytes = plan.total;
  uint64_t keptCols = 2 * op.kv.heads * op.kv.headDim;
  k.streams = {stream(op.a, false, op.m * op.k * e),
               stream(op.b, false, op.k * op.n * e),
               stream(op.out, true, op.m * (op.n - keptCols) * e)};
  auto add = [&](const std::string &name, uint64_t bytes, bool prologue) {
    k.streams.push_back(stream(name, false, bytes, prologue));
    return unsigned(k.streams.size() - 1);
  };
  // The resident rows, loaded before the loop in the emitter's order.
  bool fold = op.bias && op.foldBias;
  if (op.bias && !fold)
    k.prologue.push_back(
        {add(op.biasTensor, op.n * e, true), xfer(1, op.n * e, op.n * e)});
  if (op.layernorm) {
    k.prologue.push_back(
        {add(op.gamma, op.k * e, true), xfer(1, op.k * e, op.k * e)});
    k.prologue.push_back(
        {add(op.beta, op.k * e, true), xfer(1, op.k * e, op.k * e)});
  }
  unsigned res =
      op.residual ? add(op.residualTensor, op.m * op.n * e, false) : 0;
  // The folded bias: a segment of the row after each last-step B load.
  unsigned biasRow = fold ? add(op.biasTensor, op.n * e, false) : 0;
  Opcode act = op.tanhGelu ? Opcode::VecGeluTanh : Opcode::VecGelu;
  // As gemmKernel: two slots per operand, loop order (i, j, l).
  bool aEveryJ = nk > 2, bEveryI = nk * nn > 2;
  // The epilogue in order; the last instruction runs per column segment,
  // writing kept columns into the resident region (a vec.copy when there
  // is no epilogue).
  std::vector<Opcode> epi;
  if (op.bias && !fold)
    epi.push_back(Opcode::VecAdd);
  if (op.gelu)
    epi.push_back(act);
  if (op.residual)
    epi.push_back(Opcode::VecAdd);
  uint64_t storesPerRow = 0;
  // `fills`: the kernel's first step, which fills the A slots' column of
  // ones of a folded bias (vec.fill of tm x 1 per slot) before its loads.
  auto tile = [&](uint64_t xm, uint64_t c0, uint64_t xn, bool loadA,
                  bool loadB, bool fills) {
    std::vector<ColumnSegment> segs = columnSegments(op.kv, 0, c0, xn, c);
    Seq s;
    auto kstep = [&](uint64_t xk, bool last, bool fillsNow) {
      Step st;
      if (fillsNow && fold)
        for (uint64_t slot = 0; slot < (em.tiles() * nk > 1 ? 2 : 1);
             ++slot) {
          st.compute.push_back(instr(Opcode::VecFill, tm, 1));
          st.compute.back().reads = ComputeClass::kReadsNoSlot;
        }
      if (loadA)
        st.loads.push_back({0, xfer(xm, xk * e, op.k * e)});
      if (loadB)
        st.loads.push_back({1, xfer(xk, xn * e, op.n * e)});
      if (last && loadB && fold)
        st.loads.push_back({biasRow, xfer(1, xn * e, op.n * e)});
      if (last && op.residual)
        st.loads.push_back({res, xfer(xm, xn * e, op.n * e)});
      // Which load slots each instruction reads (ComputeClass::reads): the
      // layernorm A, the product A and B, the residual add its tile; the
      // bias add and the activation only resident and output data.
      auto reading = [](ComputeClass cc, uint64_t mask) {
        cc.reads = mask ? mask : ComputeClass::kReadsNoSlot;
        return cc;
      };
      if (loadA && op.layernorm)
        st.compute.push_back(
            reading(instr(Opcode::VecLayerNorm, xm, xk), uint64_t(1) << 0));
      st.compute.push_back(reading(
          instr(Opcode::MatMul, xm, xk + (last && fold ? 1 : 0), xn),
          uint64_t(3) | (last && fold ? uint64_t(1) << biasRow : 0)));
      if (last) {
        uint64_t lastReads = op.residual ? uint64_t(1) << res : 0;
        for (size_t x = 0; x + 1 < epi.size(); ++x)
          st.compute.push_back(reading(instr(epi[x], xm, xn), 0));
        for (const ColumnSegment &g : segs)
          if (!epi.empty())
            st.compute.push_back(
                reading(instr(epi.back(), xm, g.cols), lastReads));
          else if (g.kept)
            st.compute.push_back(
                reading(instr(Opcode::VecCopy, xm, g.cols), 0));
        for (const ColumnSegment &g : segs)
          if (!g.kept)
            st.stores.push_back({2, xfer(xm, g.cols * e, op.n * e)});
      }
      return st;
    };
    uint64_t before = ek.edgeCount ? ek.fullCount : ek.fullCount - 1;
    if (before && fills) {
      s.add(kstep(ek.full, false, true));
      s.add(kstep(ek.full, false, false), before - 1);
    } else {
      s.add(kstep(ek.full, false, false), before);
    }
    s.add(kstep(ek.edgeCount ? ek.edge : ek.full, true, fills && !before));
    return s;
  };
  auto row = [&](uint64_t xm, bool loadB, bool fills) {
    Seq s;
    if (op.kv.heads) {
      // Kept columns: each column tile has its own segments.
      for (uint64_t j = 0; j < nn; ++j) {
        uint64_t c0 = j * en.first();
        s.add(tile(xm, c0, std::min(en.first(), op.n - c0), !j || aEveryJ,
                   loadB, fills && !j));
      }
      return s;
    }
    s.add(tile(xm, 0, en.first(), true, loadB, fills));
    uint64_t fullAfter = en.fullCount ? en.fullCount - 1 : 0;
    s.add(tile(xm, 0, en.full, aEveryJ, loadB, false), fullAfter);
    if (en.edgeCount && en.fullCount)
      s.add(tile(xm, 0, en.edge, aEveryJ, loadB, false));
    return s;
  };
  for (uint64_t j = 0; j < nn; ++j) {
    uint64_t c0 = j * en.first();
    for (const ColumnSegment &g :
         columnSegments(op.kv, 0, c0, std::min(en.first(), op.n - c0), c))
      storesPerRow += !g.kept;
  }
  Seq matrix;
  matrix.add(row(em.first(), true, true));
  uint64_t fullAfter = em.fullCount ? em.fullCount - 1 : 0;
  matrix.add(row(em.full, bEveryI, false), fullAfter);
  if (em.edgeCount && em.fullCount)
    matrix.add(row(em.edge, bEveryI, false));
  k.loop.add(std::move(matrix));
  // Where the first step's loads end and the first output slot begins, in
  // the plan the emitter places its buffers by (SramPlan.h).
  const SramBuffer &b0 = *plan.find("b"), &out0 = *plan.find("out");
  k.firstLoadSramEnd = op.residual && nk == 1
                           ? plan.find("res")->offset + tm * tn * e
                           : b0.offset + (tk + (fold && nk == 1)) * tn * e;
  k.storeSramBegin = out0.offset;
  k.streams[0].firstNeedBytes = (tm - 1) * op.k * e + tk * e;
  k.streams[1].firstNeedBytes = (tk - 1) * op.n * e + tn * e;
  k.streams[2].blockBytes = tm * op.n * e;
  k.streams[2].storesPerBlock = storesPerRow;
  for (Stream &s : k.streams)
    if (s.prologue)
      s.firstNeedBytes = s.tensorBytes;
  if (op.residual)
    k.streams[res].firstNeedBytes = (tm - 1) * op.n * e + tn * e;
  finalize(k);
  return k;
}

std::optional<std::string>
tessera::cost::checkMatMulGroup(const arch::ChipConfig &chip,
                                const MatMulGroupOp &op, const GemmTiling &t,
                                const Constraints &c) {
  auto dims = [&] {
    return std::to_string(t.tm) + "x" + std::to_string(t.tk) + "x" +
           std::to_string(t.tn);
  };
  if (!t.tm || !t.tk || !t.tn || t.tm > op.m || t.tk > op.k || t.tn > op.n)
    return "tile " + dims() + " is not within the " + std::to_string(op.m) +
           "x" + std::to_string(op.k) + "x" + std::to_string(op.n) + " product";
  if (op.layernorm && t.tk != op.k)
    return "a layernorm prologue normalizes whole rows: tk must be K = " +
           std::to_string(op.k) + ", got " + std::to_string(t.tk);
  if (t.tm > chip.matrix_accumulator_rows)
    return "tm " + std::to_string(t.tm) + " exceeds matrix_accumulator_rows " +
           std::to_string(chip.matrix_accumulator_rows);
  uint64_t need = matmulGroupSramBytes(op, t, c), budget = c.budget(chip);
  if (need > budget)
    return "tiling " + dims() + " needs " + std::to_string(need) +
           " bytes of SRAM, the budget is " + std::to_string(budget);
  return std::nullopt;
}

namespace {
/// The search's candidates per dimension, largest first.
struct GroupCandidates {
  std::vector<uint64_t> ms, ks, ns;
  GroupCandidates(const arch::ChipConfig &chip, const MatMulGroupOp &op) {
    ms = tileCandidates(op.m, 32);
    for (uint64_t t : {16, 8})
      if (t < op.m && !std::count(ms.begin(), ms.end(), t))
        ms.push_back(t);
    ms.erase(std::remove_if(
                 ms.begin(), ms.end(),
                 [&](uint64_t t) { return t > chip.matrix_accumulator_rows; }),
             ms.end());
    ks = op.layernorm ? std::vector<uint64_t>{op.k}
                      : tileCandidates(op.k, chip.matrix_rows);
    ns = tileCandidates(op.n, chip.matrix_cols);
    std::sort(ms.rbegin(), ms.rend());
    std::sort(ks.rbegin(), ks.rend());
    std::sort(ns.rbegin(), ns.rend());
  }
};
} // namespace

uint64_t tessera::cost::matmulGroupMinSramBytes(const arch::ChipConfig &chip,
                                                const MatMulGroupOp &op,
                                                const Constraints &c) {
  GroupCandidates g(chip, op);
  if (g.ms.empty())
    return 0;
  return matmulGroupSramBytes(op, {g.ms.back(), g.ks.back(), g.ns.back()}, c);
}

std::optional<Choice<GemmTiling>>
tessera::cost::searchMatMulGroup(const arch::ChipConfig &chip,
                                 const MatMulGroupOp &op,
                                 const Constraints &c) {
  GroupCandidates g(chip, op);
  const std::vector<uint64_t> &ms = g.ms, &ks = g.ks, &ns = g.ns;
  std::optional<Choice<GemmTiling>> best;
  uint64_t n = 0;
  for (uint64_t tm : ms)
    for (uint64_t tk : ks)
      for (uint64_t tn : ns)
        consider(
            chip, c, GemmTiling{tm, tk, tn},
            [&](const GemmTiling &t) { return matmulGroupKernel(op, t, c); },
            best, n);
  if (best)
    best->candidates = n;
  return best;
}

GemmSplit tessera::cost::divideMatMulGroup(const arch::ChipConfig &chip,
                                           const MatMulGroupOp &op,
                                           const GemmTiling &t, unsigned parts,
                                           const Constraints &c) {
  GemmSplit split;
  split.tiling = t;
  split.longest = matmulGroupKernel(op, t, c);
  Cost whole = evaluate(chip, split.longest);
  split.cycles = whole.latencyCycles;
  split.dramBytes = whole.dramBytes();
  uint64_t nm = (op.m + t.tm - 1) / t.tm;
  split.starts = {0, nm};
  if (parts < 2 || op.kv.heads)
    return split;
  GemmTiling pt = t;
  // One row tile is re-tiled into one per part (rows a multiple of 8).
  if (nm < parts && op.m >= 16) {
    pt.tm = ((op.m + parts - 1) / parts + 7) / 8 * 8;
    nm = (op.m + pt.tm - 1) / pt.tm;
  }
  if (nm < 2)
    return split;
  uint64_t per = (nm + parts - 1) / parts, longest = 0, bus = 0, bytes = 0;
  std::vector<uint64_t> starts;
  Kernel longestK;
  for (uint64_t r0 = 0; r0 < nm; r0 += per) {
    MatMulGroupOp part = op;
    part.m = std::min(op.m, (r0 + per) * pt.tm) - r0 * pt.tm;
    Kernel pk = matmulGroupKernel(part, pt, c);
    Cost pc = evaluate(chip, pk);
    if (pc.latencyCycles > longest || starts.empty()) {
      longest = pc.latencyCycles;
      longestK = std::move(pk);
    }
    bus += pc.dramBusCycles;
    bytes += pc.dramBytes();
    starts.push_back(r0);
  }
  uint64_t extra = bus > whole.dramBusCycles ? bus - whole.dramBusCycles : 0;
  split.tiling = pt;
  split.parts = unsigned(starts.size());
  split.axis = 1;
  starts.push_back(nm);
  split.starts = std::move(starts);
  split.longest = std::move(longestK);
  split.cycles = std::max(longest + extra, bus) + chip.npu_sync_cycles;
  split.dramBytes = bytes;
  return split;
}

GemmSplit tessera::cost::chooseMatMulGroupSplit(const arch::ChipConfig &chip,
                                                const MatMulGroupOp &op,
                                                const GemmTiling &t,
                                                const Constraints &c) {
  GemmSplit none = divideMatMulGroup(chip, op, t, 1, c);
  // Not with a resident region (the attention reads it on NPU 0), and only
  // a product the matrix unit bounds gains from a second NPU.
  if (chip.npus < 2 || op.kv.heads ||
      evaluate(chip, none.longest).bottleneck != Bottleneck::Compute)
    return none;
  GemmSplit best = none;
  // (Recorded as npus = the parts a candidate made, which may be fewer
  // than asked: ceil(nm / ceil(nm / per)) = per, so dividing the recorded
  // tile into that many parts gives the same parts.)
  for (unsigned parts = 2; parts <= chip.npus; ++parts) {
    GemmSplit split = divideMatMulGroup(chip, op, t, parts, c);
    if (split.parts >= 2 && split.cycles < best.cycles)
      best = std::move(split);
  }
  return best;
}
