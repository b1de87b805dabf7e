//===- MovementKernels.cpp - Movement and CNN kernels: tilings, plans -----===//
//
// Part of Tessera. See MovementKernels.h, docs/lowering.md ("Kernels") and
// docs/cost-model.md ("Movement and CNN kernels").
//
//===----------------------------------------------------------------------===//
#include "tessera/CostModel/MovementKernels.h"

#include <algorithm>
#include <numeric>

using namespace tessera;
using namespace tessera::cost;
using arch::Opcode;

namespace {

uint64_t ceilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
uint64_t alignUp(uint64_t v, uint64_t a) { return ceilDiv(v, a) * a; }

/// A DMA as the code generator emits it: a single row is contiguous.
Transfer xfer(uint64_t rows, uint64_t rowBytes, uint64_t stride) {
  return {rows, rowBytes, rows > 1 ? stride : rowBytes};
}

Stream stream(const std::string &tensor, bool store, uint64_t bytes) {
  Stream s;
  s.tensor = tensor;
  s.store = store;
  s.tensorBytes = bytes;
  return s;
}

/// Appends `count` instructions of one shape, merged with the previous
/// class when it has the same shape (the step's compute time is their sum).
void compute(Step &s, Opcode op, uint64_t d0, uint64_t d1, uint64_t count = 1) {
  if (!count)
    return;
  if (!s.compute.empty() && s.compute.back().op == op &&
      s.compute.back().dims[0] == d0 && s.compute.back().dims[1] == d1) {
    s.compute.back().count += count;
    return;
  }
  ComputeClass c;
  c.op = op;
  c.dims[0] = d0;
  c.dims[1] = d1;
  c.count = count;
  s.compute.push_back(c);
}

bool sameTransfer(const Transfer &a, const Transfer &b) {
  return a.rows == b.rows && a.rowBytes == b.rowBytes &&
         a.dramStrideBytes == b.dramStrideBytes && a.gather == b.gather;
}

bool sameStep(const Step &a, const Step &b) {
  auto xs = [](const auto &x, const auto &y) {
    if (x.size() != y.size())
      return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (x[i].first != y[i].first || !sameTransfer(x[i].second, y[i].second))
        return false;
    return true;
  };
  if (!xs(a.loads, b.loads) || !xs(a.stores, b.stores) ||
      a.compute.size() != b.compute.size())
    return false;
  for (size_t i = 0; i < a.compute.size(); ++i)
    if (a.compute[i].op != b.compute[i].op ||
        a.compute[i].count != b.compute[i].count ||
        !std::equal(a.compute[i].dims, a.compute[i].dims + 3,
                    b.compute[i].dims))
      return false;
  return true;
}

/// The bands of a band kernel, each a sequence of steps (one per channel
/// block, per group); a band whose steps equal the previous band's becomes
/// a repeat of it, so the interior bands of a layer are one class.
struct BandSeq {
  Seq seq;
  std::vector<Step> prev; ///< The last band's distinct steps.
  Seq prevBody;
  uint64_t repeat = 0;
  void add(std::vector<Step> steps, Seq body) {
    bool same = repeat && steps.size() == prev.size();
    for (size_t i = 0; same && i < steps.size(); ++i)
      same = sameStep(steps[i], prev[i]);
    if (same) {
      ++repeat;
      return;
    }
    flush();
    prev = std::move(steps);
    prevBody = std::move(body);
    repeat = 1;
  }
  void flush() {
    if (repeat)
      seq.add(std::move(prevBody), repeat);
    prevBody = Seq();
    repeat = 0;
  }
};

/// d, ceil(d/2), ceil(ceil(d/2)/2), ... 1 (the heuristic's tiles), the
/// search's candidates for a dimension with unit 8, and 1, 2, 4; largest
/// first.
std::vector<uint64_t> bandCandidates(uint64_t d) {
  std::vector<uint64_t> v = tileCandidates(d, 8);
  for (uint64_t t = d; t > 1; t = (t + 1) / 2)
    v.push_back(t);
  for (uint64_t t : {1, 2, 4})
    if (t <= d)
      v.push_back(t);
  std::sort(v.rbegin(), v.rend());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

} // namespace

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

std::vector<int64_t>
tessera::cost::rowMajorStrides(const std::vector<int64_t> &s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t d = s.size(); d-- > 1;)
    st[d - 1] = st[d] * s[d];
  return st;
}

uint64_t CopyView::batch() const {
  uint64_t n = 1;
  for (int64_t d : outer)
    n *= uint64_t(d);
  return n;
}

MoveOp CopyView::move(const std::string &x, const std::string &out,
                      uint64_t e) const {
  MoveOp m;
  m.batch = batch();
  m.rows = uint64_t(rows);
  m.cols = uint64_t(cols);
  m.srcStrideBytes = uint64_t(rowSrc) * e;
  m.dstStrideBytes = uint64_t(rowDst) * e;
  m.x = x;
  m.out = out;
  return m;
}

CopyView tessera::cost::copyView(const std::vector<int64_t> &shape,
                                 const std::vector<int64_t> &srcStrides,
                                 const std::vector<int64_t> &dstStrides) {
  std::vector<int64_t> sh, ss, ds;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1)
      continue;
    if (!sh.empty() && ss.back() == srcStrides[d] * shape[d] &&
        ds.back() == dstStrides[d] * shape[d]) {
      sh.back() *= shape[d];
      ss.back() = srcStrides[d];
      ds.back() = dstStrides[d];
      continue;
    }
    sh.push_back(shape[d]);
    ss.push_back(srcStrides[d]);
    ds.push_back(dstStrides[d]);
  }
  if (sh.empty() || ss.back() != 1 || ds.back() != 1) {
    sh.push_back(1);
    ss.push_back(1);
    ds.push_back(1);
  }
  if (sh.size() == 1) {
    sh.insert(sh.begin(), 1);
    ss.insert(ss.begin(), 0);
    ds.insert(ds.begin(), 0);
  }
  size_t r = sh.size() - 2;
  CopyView v;
  v.outer.assign(sh.begin(), sh.begin() + r);
  v.outerSrc.assign(ss.begin(), ss.begin() + r);
  v.outerDst.assign(ds.begin(), ds.begin() + r);
  v.rows = sh[r];
  v.cols = sh.back();
  v.rowSrc = ss[r];
  v.rowDst = ds[r];
  return v;
}

CopyView tessera::cost::contiguousView(int64_t elements) {
  CopyView v;
  v.cols = elements % 64 == 0 ? 64 : elements;
  v.rows = elements / v.cols;
  v.rowSrc = v.rowDst = v.cols;
  return v;
}

TransposeView tessera::cost::transposeView(const std::vector<int64_t> &xs,
                                           const std::vector<int64_t> &perm) {
  TransposeView t;
  size_t rank = xs.size();
  // Moving only axes of extent 1 keeps the element order.
  std::vector<int64_t> kept;
  for (int64_t p : perm)
    if (xs[size_t(p)] != 1)
      kept.push_back(p);
  t.identity = std::is_sorted(kept.begin(), kept.end());
  if (t.identity)
    return t;
  std::vector<int64_t> os(rank);
  for (size_t i = 0; i < rank; ++i)
    os[i] = xs[size_t(perm[i])];
  std::vector<int64_t> inSt = rowMajorStrides(xs), outSt = rowMajorStrides(os);
  int64_t last = int64_t(rank) - 1;
  CopyView &v = t.view;
  if (perm[size_t(last)] == last) {
    // Whole rows of C elements move. The DMAs walk the longest other output
    // axis (a strided run on both sides); the remaining axes are iterated.
    int64_t rowsAxis = 0;
    for (int64_t d = 1; d < last; ++d)
      if (os[size_t(d)] >= os[size_t(rowsAxis)])
        rowsAxis = d;
    for (int64_t d = 0; d < last; ++d)
      if (d != rowsAxis) {
        v.outer.push_back(os[size_t(d)]);
        v.outerSrc.push_back(inSt[size_t(perm[size_t(d)])]);
        v.outerDst.push_back(outSt[size_t(d)]);
      }
    v.rows = os[size_t(rowsAxis)];
    v.cols = xs[size_t(last)];
    v.rowSrc = inSt[size_t(perm[size_t(rowsAxis)])];
    v.rowDst = outSt[size_t(rowsAxis)];
    return t;
  }
  // Out's last axis reads in axis q; in's last axis lands on out axis j.
  t.transpose = true;
  t.q = perm[size_t(last)];
  t.j = std::find(perm.begin(), perm.end(), last) - perm.begin();
  for (int64_t d = 0; d < int64_t(rank); ++d)
    if (d != t.j && d != last) {
      v.outer.push_back(os[size_t(d)]);
      v.outerSrc.push_back(inSt[size_t(perm[size_t(d)])]);
      v.outerDst.push_back(outSt[size_t(d)]);
    }
  v.rows = xs[size_t(t.q)];
  v.cols = xs[size_t(last)];
  v.rowSrc = inSt[size_t(t.q)];
  v.rowDst = outSt[size_t(t.j)];
  return t;
}

//===----------------------------------------------------------------------===//
// Heuristic tiles and searches
//===----------------------------------------------------------------------===//

std::optional<RowTiling> tessera::cost::cappedTile(uint64_t rows, uint64_t cols,
                                                   uint64_t bytesPerElem,
                                                   uint64_t fixed,
                                                   uint64_t budget,
                                                   const Constraints &c) {
  // Each of a kernel's (at most eight) buffers may lose up to align - 1
  // bytes to alignment.
  uint64_t slack = fixed + 8 * c.alignBytes;
  uint64_t avail = budget > slack ? budget - slack : 0;
  uint64_t maxElems =
      std::min(avail / bytesPerElem, kTileCapBytes / c.elementBytes);
  if (maxElems >= cols)
    return RowTiling{std::max<uint64_t>(1, std::min(rows, maxElems / cols)),
                     cols};
  if (maxElems < 32)
    return std::nullopt;
  return RowTiling{1, maxElems / 32 * 32};
}

std::optional<RowTiling>
tessera::cost::halvedTransposeTile(uint64_t rows, uint64_t cols,
                                   uint64_t budget, const Constraints &c) {
  // Square-ish blocks: input tile tr x tc, output tile tc x tr, two of each.
  uint64_t e = c.elementBytes;
  uint64_t usable = budget > 4 * c.alignBytes ? budget - 4 * c.alignBytes : 0;
  uint64_t maxElems = std::min(usable / (4 * e), kTileCapBytes / e);
  uint64_t tr = rows, tc = cols;
  while (tr * tc > maxElems && (tr > 1 || tc > 1)) {
    if (tr >= tc)
      tr = (tr + 1) / 2;
    else
      tc = (tc + 1) / 2;
  }
  if (tr * tc > maxElems)
    return std::nullopt;
  return RowTiling{tr, tc};
}

std::optional<uint64_t> tessera::cost::cappedGatherTile(uint64_t count,
                                                        uint64_t rowBytes,
                                                        uint64_t budget,
                                                        const Constraints &c) {
  uint64_t slack = 4 * c.alignBytes;
  uint64_t avail = budget > slack ? budget - slack : 0;
  uint64_t per = 2 * (4 + rowBytes); // Two index slots, two row slots.
  if (per > avail)
    return std::nullopt;
  return std::min(
      count,
      std::max<uint64_t>(1, std::min(avail / per, kTileCapBytes / rowBytes)));
}

std::optional<Choice<uint64_t>>
tessera::cost::searchGather(const arch::ChipConfig &chip, uint64_t count,
                            uint64_t rowBytes, const Constraints &c) {
  std::vector<uint64_t> tns = bandCandidates(count);
  if (std::optional<uint64_t> h =
          cappedGatherTile(count, rowBytes, c.budget(chip), c))
    tns.push_back(*h); // Visited last: ties keep the larger tiles.
  std::optional<Choice<uint64_t>> best;
  uint64_t n = 0;
  for (uint64_t tn : tns)
    consider(
        chip, c, tn,
        [&](uint64_t t) {
          return gatherKernel(count, t, rowBytes, "ids", "table", "out", c);
        },
        best, n);
  if (best)
    best->candidates = n;
  return best;
}

//===----------------------------------------------------------------------===//
// Conv and pooling
//===----------------------------------------------------------------------===//

std::pair<int64_t, int64_t>
tessera::cost::windowRange(int64_t from, int64_t to, int64_t stride,
                           int64_t pad, int64_t offset, int64_t extent) {
  int64_t lo = from, hi = to;
  while (lo < hi && lo * stride - pad + offset < 0)
    ++lo;
  while (hi > lo && (hi - 1) * stride - pad + offset >= extent)
    --hi;
  return {lo, hi};
}

uint64_t tessera::cost::im2colStagedRows(const ConvOp &op, uint64_t toh) {
  return std::min<uint64_t>(op.height, (toh - 1) * uint64_t(op.strideH) +
                                           (op.kernelH - 1) * op.dilationH + 1);
}

GemmOp tessera::cost::convGemm(const ConvOp &op) {
  GemmOp g;
  g.m = op.outChannels / op.groups;
  g.k = op.groupRows();
  g.n = op.positions();
  g.a = op.wmat;
  g.b = op.im2col;
  g.out = op.out;
  return g;
}

SramPlan tessera::cost::im2colSramPlan(const ConvOp &op, const BandTiling &t,
                                       const Constraints &c) {
  uint64_t e = c.elementBytes;
  uint64_t cb = std::min(t.cb, op.channelsPerGroup()),
           toh = std::min(t.toh, op.outH);
  SramPlan p;
  p.phases = {"load", "gather", "store"};
  auto carried = [&](const char *name, uint64_t bytes, unsigned slot) {
    p.buffers.push_back({name, slot, bytes, 0, 0, 2, true});
  };
  uint64_t stage = cb * im2colStagedRows(op, toh) * op.width * e;
  uint64_t tile = cb * op.taps() * toh * op.outW * e;
  // The emitter's order: the staged rows' ring, the tiles' ring, the row
  // of ones (filled and stored by the kernel's first step).
  carried("stage", stage, 0);
  carried("stage", stage, 1);
  carried("tile", tile, 0);
  carried("tile", tile, 1);
  carried("ones", std::min<uint64_t>(op.positions(), kTileCapBytes / e) * e, 0);
  allocateSram(p, c.alignBytes);
  return p;
}

Kernel tessera::cost::im2colKernel(const ConvOp &op, const BandTiling &t,
                                   const Constraints &c) {
  uint64_t e = c.elementBytes;
  int64_t H = int64_t(op.height), W = int64_t(op.width);
  int64_t OH = int64_t(op.outH), OW = int64_t(op.outW);
  int64_t KH = int64_t(op.kernelH), KW = int64_t(op.kernelW);
  int64_t sh = op.strideH, sw = op.strideW, dh = op.dilationH,
          dw = op.dilationW, pt = op.padTop, pl = op.padLeft;
  uint64_t Cg = op.channelsPerGroup(), G = op.groups, K1 = op.groupRows();
  uint64_t P = op.positions(), taps = op.taps();
  uint64_t cbT = std::min(t.cb, Cg);
  int64_t tohT = std::min<int64_t>(int64_t(t.toh), OH);
  SramPlan plan = im2colSramPlan(op, t, c);

  Kernel k;
  k.kind = "im2col";
  k.streams = {stream(op.x, false, op.channels * op.height * op.width * e),
               stream(op.im2col, true, G * K1 * P * e)};
  // The first step: the row of ones, stored into each group's last row.
  uint64_t ones = std::min<uint64_t>(P, kTileCapBytes / e);
  Step first;
  compute(first, Opcode::VecFill, 1, ones);
  for (uint64_t g = 0; g < G; ++g)
    for (uint64_t p = 0; p < P; p += ones)
      first.stores.push_back({1, xfer(1, std::min(ones, P - p) * e, P * e)});
  k.loop.add(first);

  BandSeq bands;
  for (int64_t oh0 = 0; oh0 < OH; oh0 += tohT) {
    int64_t toh = std::min(tohT, OH - oh0);
    int64_t ihLo = std::max<int64_t>(0, oh0 * sh - pt);
    int64_t ihHi = std::min(H, (oh0 + toh - 1) * sh - pt + (KH - 1) * dh + 1);
    uint64_t nih = uint64_t(std::max<int64_t>(ihHi - ihLo, 0));
    bool padded = false;
    for (int64_t ky = 0; ky < KH && !padded; ++ky)
      for (int64_t kx = 0; kx < KW && !padded; ++kx) {
        auto [a0, a1] = windowRange(oh0, oh0 + toh, sh, pt, ky * dh, H);
        auto [b0, b1] = windowRange(0, OW, sw, pl, kx * dw, W);
        padded = a0 != oh0 || a1 != oh0 + toh || b0 != 0 || b1 != OW;
      }
    auto step = [&](uint64_t cb) {
      Step s;
      if (nih > 0)
        s.loads.push_back(
            {0, xfer(cb, nih * op.width * e, op.height * op.width * e)});
      if (padded)
        compute(s, Opcode::VecFill, cb * taps, uint64_t(toh) * OW);
      for (int64_t ky = 0; ky < KH; ++ky)
        for (int64_t kx = 0; kx < KW; ++kx) {
          auto [a0, a1] = windowRange(oh0, oh0 + toh, sh, pt, ky * dh, H);
          auto [b0, b1] = windowRange(0, OW, sw, pl, kx * dw, W);
          if (a0 < a1 && b0 < b1)
            compute(s, Opcode::VecGather, uint64_t(a1 - a0), uint64_t(b1 - b0),
                    cb);
        }
      s.stores.push_back({1, xfer(cb * taps, uint64_t(toh) * OW * e, P * e)});
      return s;
    };
    uint64_t full = Cg / cbT, edge = Cg % cbT;
    std::vector<Step> distinct{step(cbT)};
    Seq group;
    group.add(distinct[0], full);
    if (edge) {
      distinct.push_back(step(edge));
      group.add(distinct[1], 1);
    }
    Seq band;
    band.add(std::move(group), G);
    bands.add(std::move(distinct), std::move(band));
  }
  bands.flush();
  for (Seq::Item &it : bands.seq.items)
    k.loop.items.push_back(std::move(it));

  k.sramBytes = plan.total;
  k.firstLoadSramEnd =
      plan.find("stage", 0)->offset + plan.find("stage")->bytes;
  k.storeSramBegin = plan.find("tile", 0)->offset;
  k.streams[0].firstNeedBytes = op.channels * op.height * op.width * e;
  finalizeKernel(k);
  return k;
}

Kernel tessera::cost::convKernel(const ConvOp &op, const BandTiling &t,
                                 const GemmTiling &g, const Constraints &c) {
  Kernel layer;
  GemmOp gemm = convGemm(op);
  for (uint64_t b = 0; b < op.batch; ++b) {
    appendPart(layer, im2colKernel(op, t, c));
    for (uint64_t gi = 0; gi < op.groups; ++gi)
      appendPart(layer, gemmKernel(gemm, g, c));
  }
  return layer;
}

std::optional<Choice<BandTiling>>
tessera::cost::searchIm2col(const arch::ChipConfig &chip, const ConvOp &op,
                            const Constraints &c) {
  std::optional<Choice<BandTiling>> best;
  uint64_t n = 0;
  for (uint64_t cb : bandCandidates(op.channelsPerGroup()))
    for (uint64_t toh : bandCandidates(op.outH))
      consider(
          chip, c, BandTiling{cb, toh},
          [&](const BandTiling &x) { return im2colKernel(op, x, c); }, best, n);
  if (best)
    best->candidates = n;
  return best;
}

bool PoolOp::global(int64_t padBottom, int64_t padRight) const {
  return !max && outH == 1 && outW == 1 && kernelH == height &&
         kernelW == width && padTop == 0 && padLeft == 0 && padBottom == 0 &&
         padRight == 0;
}

GemmOp tessera::cost::poolGemm(const PoolOp &op) {
  GemmOp g;
  g.m = op.planes;
  g.k = op.height * op.width;
  g.n = 1;
  g.a = op.x;
  g.b = op.divisors;
  g.out = op.out;
  return g;
}

namespace {
uint64_t poolStagedRows(const PoolOp &op, uint64_t toh) {
  return std::min<uint64_t>(op.height,
                            (toh - 1) * uint64_t(op.strideH) + op.kernelH);
}
} // namespace

SramPlan tessera::cost::poolSramPlan(const PoolOp &op, const BandTiling &t,
                                     const Constraints &c) {
  uint64_t e = c.elementBytes;
  uint64_t cb = std::min(t.cb, op.planes), toh = std::min(t.toh, op.outH);
  uint64_t stage = cb * poolStagedRows(op, toh) * op.width * e;
  uint64_t tile = cb * toh * op.outW;
  SramPlan p;
  // One step: the loads; per tap its gathers into `tap`, then its fold into
  // `acc` (the taps alternate: acc holds the partial result over all of
  // them); the rounding into the output slot; the store.
  p.phases = {"load", "taps", "fold", "round", "store"};
  auto carried = [&](const char *name, uint64_t bytes, unsigned slot) {
    p.buffers.push_back({name, slot, bytes, 0, 0, 4, true});
  };
  carried("stage", stage, 0);
  carried("stage", stage, 1);
  carried("out", tile * e, 0);
  carried("out", tile * e, 1);
  if (op.divides()) {
    carried("div", toh * op.outW * e, 0);
    carried("div", toh * op.outW * e, 1);
  }
  p.buffers.push_back({"tap", 0, tile * 4, 0, 1, 2, false});
  p.buffers.push_back({"acc", 0, tile * 4, 0, 1, 3, false});
  allocateSram(p, c.alignBytes);
  return p;
}

Kernel tessera::cost::poolKernel(const PoolOp &op, const BandTiling &t,
                                 const Constraints &c) {
  uint64_t e = c.elementBytes;
  int64_t H = int64_t(op.height), W = int64_t(op.width);
  int64_t OH = int64_t(op.outH), OW = int64_t(op.outW);
  int64_t KH = int64_t(op.kernelH), KW = int64_t(op.kernelW);
  int64_t sh = op.strideH, sw = op.strideW, pt = op.padTop, pl = op.padLeft;
  uint64_t NC = op.planes;
  uint64_t cbT = std::min(t.cb, NC);
  int64_t tohT = std::min<int64_t>(int64_t(t.toh), OH);
  SramPlan plan = poolSramPlan(op, t, c);

  Kernel k;
  k.kind = "pool";
  k.streams = {
      stream(op.x, false, NC * op.height * op.width * e),
      stream(op.divisors, false, op.divides() ? op.outH * op.outW * e : 0),
      stream(op.out, true, NC * op.outH * op.outW * e)};
  BandSeq bands;
  for (int64_t oh0 = 0; oh0 < OH; oh0 += tohT) {
    int64_t toh = std::min(tohT, OH - oh0);
    int64_t ihLo = std::max<int64_t>(0, oh0 * sh - pt);
    int64_t ihHi = std::min(H, (oh0 + toh - 1) * sh - pt + KH);
    uint64_t nih = uint64_t(std::max<int64_t>(ihHi - ihLo, 0));
    uint64_t cols = uint64_t(toh * OW);
    auto step = [&](uint64_t cb) {
      Step s;
      if (nih > 0)
        s.loads.push_back(
            {0, xfer(cb, nih * op.width * e, op.height * op.width * e)});
      bool first = true;
      for (int64_t ky = 0; ky < KH; ++ky)
        for (int64_t kx = 0; kx < KW; ++kx) {
          auto [a0, a1] = windowRange(oh0, oh0 + toh, sh, pt, ky, H);
          auto [b0, b1] = windowRange(0, OW, sw, pl, kx, W);
          bool full = a0 == oh0 && a1 == oh0 + toh && b0 == 0 && b1 == OW;
          if (!full)
            compute(s, Opcode::VecFill, cb, cols);
          if (a0 < a1 && b0 < b1) {
            // Per plane or per output row, whichever is fewer instructions.
            uint64_t rows = uint64_t(a1 - a0), span = uint64_t(b1 - b0);
            if (cb <= rows)
              compute(s, Opcode::VecGather, rows, span, cb);
            else
              compute(s, Opcode::VecGather, cb, span, rows);
          }
          compute(s,
                  first ? Opcode::VecCopy
                        : (op.max ? Opcode::VecMax : Opcode::VecAdd),
                  cb, cols);
          first = false;
        }
      compute(
          s, !op.max && op.countIncludePad ? Opcode::VecScale : Opcode::VecCopy,
          cb, cols);
      if (op.divides()) {
        s.loads.push_back({1, xfer(1, cols * e, cols * e)});
        compute(s, Opcode::VecMul, cb, cols);
      }
      s.stores.push_back({2, xfer(cb, cols * e, op.outH * op.outW * e)});
      return s;
    };
    uint64_t full = NC / cbT, edge = NC % cbT;
    std::vector<Step> distinct{step(cbT)};
    Seq band;
    band.add(distinct[0], full);
    if (edge) {
      distinct.push_back(step(edge));
      band.add(distinct[1], 1);
    }
    bands.add(std::move(distinct), std::move(band));
  }
  bands.flush();
  k.loop = std::move(bands.seq);
  k.sramBytes = plan.total;
  k.firstLoadSramEnd =
      plan.find("stage", 0)->offset + plan.find("stage")->bytes;
  k.storeSramBegin = plan.find("out", 0)->offset;
  k.streams[0].firstNeedBytes = NC * op.height * op.width * e;
  finalizeKernel(k);
  return k;
}

std::optional<Choice<BandTiling>>
tessera::cost::searchPool(const arch::ChipConfig &chip, const PoolOp &op,
                          const Constraints &c) {
  std::optional<Choice<BandTiling>> best;
  uint64_t n = 0;
  for (uint64_t cb : bandCandidates(op.planes))
    for (uint64_t toh : bandCandidates(op.outH))
      consider(
          chip, c, BandTiling{cb, toh},
          [&](const BandTiling &x) { return poolKernel(op, x, c); }, best, n);
  if (best)
    best->candidates = n;
  return best;
}

//===----------------------------------------------------------------------===//
// SRAM plans of the other kernels
//===----------------------------------------------------------------------===//

SramPlan tessera::cost::moveSramPlan(const MoveOp &op, const RowTiling &t,
                                     const Constraints &c) {
  uint64_t bytes =
      std::min(t.tr, op.rows) * std::min(t.tc, op.cols) * c.elementBytes;
  SramPlan p;
  if (op.transpose) {
    p.phases = {"load", "transpose", "store"};
    for (const char *name : {"in", "out"})
      for (unsigned s = 0; s < 2; ++s)
        p.buffers.push_back({name, s, bytes, 0, 0, 2, true});
  } else {
    // The store drains the slot the load filled.
    p.phases = {"load", "store"};
    for (unsigned s = 0; s < 2; ++s)
      p.buffers.push_back({"buf", s, bytes, 0, 0, 1, true});
  }
  allocateSram(p, c.alignBytes);
  return p;
}

SramPlan tessera::cost::gatherSramPlan(uint64_t count, uint64_t tn,
                                       uint64_t rowBytes,
                                       const Constraints &c) {
  tn = std::min(tn, count);
  SramPlan p;
  p.phases = {"load", "gather", "store"};
  for (unsigned s = 0; s < 2; ++s)
    p.buffers.push_back({"ids", s, tn * 4, 0, 0, 2, true});
  for (unsigned s = 0; s < 2; ++s)
    p.buffers.push_back({"rows", s, tn * rowBytes, 0, 0, 2, true});
  allocateSram(p, c.alignBytes);
  return p;
}

std::optional<Choice<RowTiling>>
tessera::cost::searchMove(const arch::ChipConfig &chip, const MoveOp &op,
                          const Constraints &c) {
  std::vector<uint64_t> rows = bandCandidates(op.rows);
  std::vector<uint64_t> cols = tileCandidates(op.cols, 64);
  std::reverse(cols.begin(), cols.end());
  std::vector<RowTiling> ts;
  for (uint64_t tr : rows)
    for (uint64_t tc : cols)
      ts.push_back({tr, tc});
  // The heuristic's tile, visited last (ties keep the grid's larger tiles).
  uint64_t budget = c.budget(chip);
  std::optional<RowTiling> h =
      op.transpose
          ? halvedTransposeTile(op.rows, op.cols, budget, c)
          : cappedTile(op.rows, op.cols, 2 * c.elementBytes, 0, budget, c);
  if (h)
    ts.push_back(*h);
  std::optional<Choice<RowTiling>> best;
  uint64_t n = 0;
  for (const RowTiling &t : ts)
    consider(
        chip, c, t, [&](const RowTiling &x) { return moveKernel(op, x, c); },
        best, n);
  if (best)
    best->candidates = n;
  return best;
}

SramPlan tessera::cost::stagedSramPlan(
    const std::vector<std::pair<std::string, SramPlan>> &parts) {
  SramPlan p;
  for (const auto &[name, part] : parts) {
    unsigned base = unsigned(p.phases.size());
    for (const std::string &ph : part.phases)
      p.phases.push_back(name + ":" + ph);
    for (SramBuffer b : part.buffers) {
      b.name = name + "." + b.name;
      b.first += base;
      b.last += base;
      b.carried = false;
      p.buffers.push_back(std::move(b));
    }
    p.total = std::max(p.total, part.total);
  }
  return p;
}

SramPlan tessera::cost::convSramPlan(const ConvOp &op, const BandTiling &band,
                                     const GemmOp &gemm, const GemmTiling &tile,
                                     const Constraints &c) {
  return stagedSramPlan({{"im2col", im2colSramPlan(op, band, c)},
                         {"gemm", gemmSramPlan(gemm, tile, c)}});
}

SramPlan tessera::cost::sequenceSramPlan(const std::vector<SramPlan> &parts,
                                         const Constraints &c) {
  SramPlan p;
  for (size_t i = 0; i < parts.size(); ++i) {
    unsigned base = unsigned(p.phases.size());
    for (const std::string &ph : parts[i].phases)
      p.phases.push_back(std::to_string(i) + ":" + ph);
    for (SramBuffer b : parts[i].buffers) {
      b.name = "in" + std::to_string(i) + "." + b.name;
      b.first += base;
      b.last += base;
      b.carried = false;
      b.offset = 0;
      p.buffers.push_back(std::move(b));
    }
  }
  allocateSram(p, c.alignBytes);
  return p;
}
