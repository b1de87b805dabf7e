//===- SramPlan.cpp - SRAM allocation of a fused kernel by liveness -------===//
//
// Part of Tessera. See SramPlan.h and docs/lowering.md ("SRAM allocation").
//
//===----------------------------------------------------------------------===//
#include "tessera/CostModel/SramPlan.h"

#include <algorithm>
#include <numeric>

using namespace tessera;
using namespace tessera::cost;

namespace {
uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
} // namespace

const SramBuffer *SramPlan::find(const std::string &name, unsigned slot) const {
  for (const SramBuffer &b : buffers)
    if (b.name == name && b.slot == slot)
      return &b;
  return nullptr;
}

std::string tessera::cost::sramBufferName(const SramBuffer &b,
                                          const SramPlan &plan) {
  bool ring = b.slot || plan.find(b.name, 1);
  return ring ? b.name + "[" + std::to_string(b.slot) + "]" : b.name;
}

void tessera::cost::allocateSram(SramPlan &plan, uint64_t align) {
  std::vector<SramBuffer> &bs = plan.buffers;
  std::vector<size_t> order(bs.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    if (bs[x].fixed != bs[y].fixed)
      return bs[x].fixed;
    if (bs[x].carried != bs[y].carried)
      return bs[x].carried;
    if (bs[x].carried)
      return false; // Listing order.
    return bs[x].bytes > bs[y].bytes;
  });
  std::vector<size_t> placed;
  plan.total = 0;
  for (size_t i : order) {
    SramBuffer &b = bs[i];
    if (b.fixed) {
      placed.push_back(i);
      plan.total = std::max(plan.total, alignUp(b.offset + b.bytes, align));
      continue;
    }
    // The placed buffers live at the same time, by offset.
    std::vector<size_t> live;
    for (size_t j : placed)
      if (bs[j].liveWith(b))
        live.push_back(j);
    std::sort(live.begin(), live.end(),
              [&](size_t x, size_t y) { return bs[x].offset < bs[y].offset; });
    uint64_t at = 0;
    for (size_t j : live) {
      if (at + b.bytes <= bs[j].offset)
        break;
      at = std::max(at, alignUp(bs[j].offset + bs[j].bytes, align));
    }
    b.offset = at;
    placed.push_back(i);
    plan.total = std::max(plan.total, alignUp(at + b.bytes, align));
  }
}

std::optional<std::string> tessera::cost::checkSramPlan(const SramPlan &plan,
                                                        uint64_t capacity) {
  const std::vector<SramBuffer> &bs = plan.buffers;
  auto range = [](const SramBuffer &b) {
    return "[" + std::to_string(b.offset) + ", " +
           std::to_string(b.offset + b.bytes) + ")";
  };
  for (const SramBuffer &b : bs) {
    std::string name = "'" + sramBufferName(b, plan) + "'";
    if (b.first > b.last || b.last >= plan.phases.size())
      return "buffer " + name + " is live over phases " +
             std::to_string(b.first) + ".." + std::to_string(b.last) +
             ", the kernel has " + std::to_string(plan.phases.size());
    if (b.bytes == 0)
      return "buffer " + name + " has no bytes";
    if (b.offset + b.bytes > capacity || b.offset + b.bytes < b.offset)
      return "buffer " + name + " at " + range(b) + " ends past the " +
             std::to_string(capacity) + " bytes of SRAM";
  }
  for (size_t i = 0; i < bs.size(); ++i)
    for (size_t j = i + 1; j < bs.size(); ++j)
      if (bs[i].name == bs[j].name && bs[i].slot == bs[j].slot)
        return "buffer '" + sramBufferName(bs[i], plan) + "' is listed twice";
  for (size_t i = 0; i < bs.size(); ++i)
    for (size_t j = i + 1; j < bs.size(); ++j)
      if (bs[i].liveWith(bs[j]) && bs[i].overlaps(bs[j])) {
        unsigned p = std::max(bs[i].first, bs[j].first);
        return "buffers '" + sramBufferName(bs[i], plan) + "' " + range(bs[i]) +
               " and '" + sramBufferName(bs[j], plan) + "' " + range(bs[j]) +
               " overlap while both are live (phase '" + plan.phases[p] + "')";
      }
  return std::nullopt;
}

SramPlan tessera::cost::attentionSramPlan(const AttentionOp &op,
                                          const AttentionTiling &t,
                                          const Constraints &c) {
  uint64_t e = c.elementBytes, hd = op.headDim, sk = op.sk;
  uint64_t tq = std::min(t.tq, op.sq);
  SramPlan p;
  // One iteration of the loop: per head (K_h, V_h), per query tile.
  p.phases = {"load_kv", "load_q",  "scale", "scores",
              "softmax", "context", "store"};
  unsigned last = unsigned(p.phases.size() - 1);
  auto ring = [&](const char *name, uint64_t bytes, unsigned slot) {
    p.buffers.push_back({name, slot, bytes, 0, 0, last, true});
  };
  // The emitter's order: K, V, Q of slot 0, then slot 1, then the output
  // tiles. K_h/V_h alternate per head, Q and the output per query tile.
  // When every head's K and V are resident (tsr-keep-kv), no K/V slots.
  bool kvSlots = op.kv.heads < op.heads || op.batch > 1;
  for (unsigned s = 0; s < 2; ++s) {
    if (kvSlots) {
      ring("k", sk * hd * e, s);
      ring("v", sk * hd * e, s);
    }
    ring("q", tq * hd * e, s);
  }
  ring("o", tq * hd * e, 0);
  ring("o", tq * hd * e, 1);
  // The compute queue's own: scaled Q (scale -> scores), FP32 scores
  // (scores -> softmax), FP16 probabilities (softmax -> context).
  p.buffers.push_back({"qs", 0, tq * hd * e, 0, 2, 3, false});
  p.buffers.push_back({"s", 0, tq * sk * 4, 0, 3, 4, false});
  p.buffers.push_back({"p", 0, tq * sk * e, 0, 4, 5, false});
  allocateSram(p, c.alignBytes);
  return p;
}

SramPlan tessera::cost::withResidentKv(SramPlan plan, const ResidentKv &kv,
                                       const Constraints &c) {
  if (!kv.heads)
    return plan;
  SramBuffer r;
  r.name = kResidentKvBuffer;
  r.bytes = kv.bytes(c);
  r.offset = kv.offset;
  r.first = 0;
  r.last = unsigned(plan.phases.size() - 1);
  r.carried = r.fixed = true;
  plan.buffers.insert(plan.buffers.begin(), r);
  allocateSram(plan, c.alignBytes);
  return plan;
}

SramPlan tessera::cost::onlineAttentionSramPlan(const AttentionOp &op,
                                                const OnlineAttentionTiling &t,
                                                const Constraints &c) {
  uint64_t e = c.elementBytes, hd = op.headDim;
  uint64_t tq = std::min(t.tq, op.sq), tk = std::min(t.tk, op.sk);
  SramPlan p;
  // One K/V step of a query tile (FusedKernels.cpp, emitOnlineAttention):
  // its loads; the scores and their new row maximum; the shifted exp and
  // its row sums; the rescale of l and O; O += P V; on the tile's last
  // step O / l; the store.
  p.phases = {"load",    "scores",    "exp",  "rescale",
              "context", "normalize", "store"};
  unsigned last = unsigned(p.phases.size() - 1);
  auto carried = [&](const char *name, uint64_t bytes, unsigned slot) {
    p.buffers.push_back({name, slot, bytes, 0, 0, last, true});
  };
  // The DMA rings: K and V tiles alternate per K step, Q per query tile.
  // The Q slot also holds the scaled Q (in place) and, after the tile's
  // last score product, its FP16 context O / l, which the store drains:
  // no output slots of their own. The accumulator, the running maximum
  // (the new one and the old, alternating) and the running sum live over a
  // query tile's K steps.
  for (unsigned s = 0; s < 2; ++s) {
    carried("k", tk * hd * e, s);
    carried("v", tk * hd * e, s);
    carried("q", tq * hd * e, s);
  }
  carried("acc", tq * hd * 4, 0);
  carried("m", tq * 4, 0);
  carried("m", tq * 4, 1);
  carried("l", tq * 4, 0);
  // The compute queue's own, within one step: FP32 scores (scores -> exp),
  // FP16 probabilities (exp -> context), row sums (exp -> rescale), the
  // rescale factor (rescale).
  p.buffers.push_back({"s", 0, tq * tk * 4, 0, 1, 2, false});
  p.buffers.push_back({"p", 0, tq * tk * e, 0, 2, 4, false});
  p.buffers.push_back({"rs", 0, tq * 4, 0, 2, 3, false});
  p.buffers.push_back({"alpha", 0, tq * 4, 0, 3, 3, false});
  allocateSram(p, c.alignBytes);
  return p;
}

SramPlan tessera::cost::matmulGroupSramPlan(const MatMulGroupOp &op,
                                            const GemmTiling &t,
                                            const Constraints &c) {
  uint64_t e = c.elementBytes;
  uint64_t tm = std::min(t.tm, op.m), tk = std::min(t.tk, op.k),
           tn = std::min(t.tn, op.n);
  uint64_t nk = tk ? (op.k + tk - 1) / tk : 1;
  SramPlan p;
  // The prologue loads the resident rows; then per output tile and K step.
  p.phases = {"prologue", "load", "layernorm", "matmul", "epilogue", "store"};
  unsigned last = unsigned(p.phases.size() - 1);
  auto add = [&](const char *name, uint64_t bytes, unsigned slot,
                 unsigned first) {
    p.buffers.push_back({name, slot, bytes, 0, first, last, true});
  };
  if (op.bias && !op.foldBias)
    add("bias", op.n * e, 0, 0);
  if (op.layernorm) {
    add("gamma", op.k * e, 0, 0);
    add("beta", op.k * e, 0, 0);
  }
  // Two slots of each operand, output and residual tile (the DMA queues
  // fill and drain one while the compute queue works on the other); with
  // the bias folded into the product, A's column of ones and B's bias row.
  uint64_t fold = op.foldBias ? 1 : 0;
  for (unsigned s = 0; s < 2; ++s) {
    add("a", tm * (tk + fold) * e, s, 1);
    add("b", (tk + fold) * tn * e, s, 1);
    add("out", tm * tn * e, s, 1);
    if (op.residual)
      add("res", tm * tn * e, s, 1);
  }
  // The FP32 partial sums of one output tile: written by its first K step,
  // read by its last, the compute queue's alone: one slot.
  if (nk > 1)
    p.buffers.push_back({"acc", 0, tm * tn * 4, 0, 3, 3, false});
  allocateSram(p, c.alignBytes);
  return p;
}

//===----------------------------------------------------------------------===//
// Bare kernels
//===----------------------------------------------------------------------===//

namespace {
/// A plan of carried buffers over the phases load, <compute>, store, placed
/// in listing order.
struct CarriedPlan {
  SramPlan p;
  explicit CarriedPlan(const char *compute) {
    p.phases = {"load", compute, "store"};
  }
  void add(const std::string &name, uint64_t bytes, unsigned slot = 0) {
    p.buffers.push_back({name, slot, bytes, 0, 0, 2, true});
  }
  void ring(const std::string &name, uint64_t bytes) {
    add(name, bytes, 0);
    add(name, bytes, 1);
  }
  SramPlan done(const Constraints &c) {
    allocateSram(p, c.alignBytes);
    return std::move(p);
  }
};
} // namespace

SramPlan tessera::cost::gemmSramPlan(const GemmOp &op, const GemmTiling &t,
                                     const Constraints &c) {
  uint64_t e = c.elementBytes;
  uint64_t tm = std::min(t.tm, op.m), tk = std::min(t.tk, op.k),
           tn = std::min(t.tn, op.n);
  bool steps = tk && op.k > tk;
  CarriedPlan p("matmul");
  for (unsigned s = 0; s < 2; ++s) {
    p.add("a", tm * tk * e, s);
    p.add("b", tk * tn * e, s);
    p.add("out", tm * tn * e, s);
    if (steps)
      p.add("acc", tm * tn * 4, s);
  }
  return p.done(c);
}

SramPlan tessera::cost::vectorSramPlan(const VectorOp &op, const RowTiling &t,
                                       const Constraints &c) {
  uint64_t e = c.elementBytes;
  uint64_t tr = std::min(t.tr, op.rows), tc = std::min(t.tc, op.cols);
  uint64_t tile = tr * tc * e;
  CarriedPlan p("compute");
  bool ln = op.op == arch::Opcode::VecLayerNorm;
  Operand2 second = ln ? Operand2::None : op.second;
  if (ln) {
    p.add("gamma", op.cols * e);
    p.add("beta", op.cols * e);
  } else if (second == Operand2::Row) {
    p.add("y", op.cols * e);
  } else if (second == Operand2::Scalar) {
    p.add("y", e);
  }
  p.ring("x", tile);
  if (second == Operand2::Full)
    p.ring("y", tile);
  else if (second == Operand2::Col)
    p.ring("y", tr * e);
  p.ring("out", tile);
  return p.done(c);
}

SramPlan tessera::cost::reduceSramPlan(uint64_t rows, uint64_t cols,
                                       uint64_t tr, const Constraints &c) {
  uint64_t e = c.elementBytes;
  tr = std::min(tr, rows);
  CarriedPlan p("reduce");
  p.ring("x", tr * cols * e);
  p.ring("out", tr * e);
  return p.done(c);
}

SramPlan tessera::cost::chainSramPlan(const ChainOp &op, const RowTiling &t,
                                      const Constraints &c) {
  uint64_t tr = std::min(t.tr, op.rows), tc = std::min(t.tc, op.cols);
  CarriedPlan p("chain");
  for (size_t i = 0; i < op.inputs.size(); ++i)
    p.ring(op.inputs.size() == 1 ? "x" : "x" + std::to_string(i),
           tr * tc * op.inputBytes[i]);
  for (unsigned s = 0; s < op.workSlots; ++s)
    p.add("work", tr * tc * op.workBytes, s);
  return p.done(c);
}
