//===- FusedKernels.cpp - kernels of the fused groups ---------------------===//
//
// Part of Tessera. See FusedKernels.h and docs/fusion.md.
//
//===----------------------------------------------------------------------===//
#include "FusedKernels.h"

#include "tessera/Compiler/KernelDecisions.h"

#include "tessera/CostModel/SramPlan.h"
#include "tessera/arch/Program.h"

#include <algorithm>

using namespace tessera;
using namespace tessera::codegen;
using arch::DType;
using arch::Instr;
using arch::Opcode;

namespace {
constexpr uint64_t kEb = 2; // FP16 bytes.
} // namespace

cost::SramPlan tessera::codegen::placeBuffers(KernelSink &sink,
                                              const GraphNode &n,
                                              cost::SramPlan need,
                                              bool recordedTile) {
  // The one rule of every kernel (KernelDecisions.h).
  need = applyRecordedPlan(sink.where(), n, std::move(need), recordedTile,
                           sink.sramBudget());
  for (const cost::SramBuffer &b : need.buffers)
    sink.sramPlace(b.offset, b.bytes);
  return need;
}

cost::AttentionOp tessera::codegen::attentionOpOf(const Graph &g,
                                                  const GraphNode &n,
                                                  const KernelSink *sink) {
  const std::vector<int64_t> &os = g.values[n.output].shape;
  cost::AttentionOp op;
  op.batch = uint64_t(os[0]);
  op.sq = uint64_t(os[1]);
  op.sk = uint64_t(n.seqK);
  op.heads = uint64_t(n.heads);
  op.headDim = uint64_t(os[2] / n.heads);
  const std::vector<int64_t> &q = n.qkvLayout[0], &k = n.qkvLayout[1],
                             &v = n.qkvLayout[2];
  op.qOffset = uint64_t(q[0]);
  op.qBatchStride = uint64_t(q[1]);
  op.qRowStride = uint64_t(q[2]);
  op.kOffset = uint64_t(k[0]);
  op.kBatchStride = uint64_t(k[1]);
  op.kRowStride = uint64_t(k[2]);
  op.vOffset = uint64_t(v[0]);
  op.vBatchStride = uint64_t(v[1]);
  op.vRowStride = uint64_t(v[2]);
  op.outRowStride = uint64_t(os[2]);
  op.outBatchStride = uint64_t(os[1] * os[2]);
  auto name = [&](int v) {
    return sink ? sink->tensorOf(v) : g.values[v].name;
  };
  op.q = name(n.inputs[0]);
  op.k = name(n.inputs[1]);
  op.v = name(n.inputs[2]);
  op.out = name(n.output);
  op.kv = n.kv;
  return op;
}

void tessera::codegen::emitAttention(KernelSink &sink, const GraphNode &n) {
  if (n.onlineSoftmax)
    return emitOnlineAttention(sink, n);
  const arch::ChipConfig &chip = sink.chip();
  cost::AttentionOp op = attentionOpOf(sink.graph(), n, &sink);
  cost::Constraints full, c;
  full.sramBytes = c.sramBytes = sink.sramBudget();
  // With K and V of the first heads resident (tsr-keep-kv), the kernel's
  // own buffers go below the region.
  if (op.kv.heads)
    c.sramBytes = op.kv.offset;
  // The tile recorded in the IR (tsr-fuse-attention) when it fits this
  // chip, else the cost model's choice.
  cost::AttentionTiling t{uint64_t(n.tileRows)};
  bool recorded = true;
  if (!t.tq || t.tq > op.sq || t.tq > chip.matrix_accumulator_rows ||
      cost::attentionSramBytes(op, t, c) > c.budget(chip)) {
    auto best = cost::searchAttention(chip, op, c);
    // Whole score rows do not fit this chip: the online form, if it fits.
    if (!best && cost::searchOnlineAttention(chip, op, c))
      return emitOnlineAttention(sink, n);
    if (!best)
      throw CodegenError(
          sink.where() + ": the fused attention needs " +
          std::to_string(
              cost::attentionSramBytes(op, {std::min<uint64_t>(8, op.sq)}, c)) +
          " bytes of SRAM for 8 query rows (K and V of one head, " +
          std::to_string(op.sk) + " score columns), the online form " +
          std::to_string(cost::onlineAttentionSramBytes(
              op, cost::onlineAttentionMinTiling(op), c)) +
          " for 8x8 tiles, the chip has " + std::to_string(c.budget(chip)));
    t = best->tiling;
    recorded = false;
  }
  uint64_t tq = std::min(t.tq, op.sq), hd = op.headDim, sk = op.sk;
  sink.plan(cost::attentionKernel(op, t, c));

  // Every buffer where the SRAM plan puts it (tsr-allocate-sram).
  cost::SramPlan plan = placeBuffers(
      sink, n,
      cost::withResidentKv(cost::attentionSramPlan(op, t, c), op.kv, full),
      recorded);
  auto at = [&](const char *name, unsigned slot = 0) {
    const cost::SramBuffer *b = plan.find(name, slot);
    return b ? b->offset : 0;
  };
  uint64_t kBuf[2], vBuf[2], qBuf[2], oBuf[2];
  for (unsigned s = 0; s < 2; ++s) {
    kBuf[s] = at("k", s);
    vBuf[s] = at("v", s);
    qBuf[s] = at("q", s);
    oBuf[s] = at("o", s);
  }
  uint64_t qsBuf = at("qs"), sBuf = at("s"), pBuf = at("p");

  const Graph &g = sink.graph();
  uint64_t qBase = sink.dramOf(n.inputs[0]), kBase = sink.dramOf(n.inputs[1]),
           vBase = sink.dramOf(n.inputs[2]), oBase = sink.dramOf(n.output);
  uint64_t width = op.heads * hd;
  (void)g;
  unsigned loaded = 0, tile = 0;
  for (uint64_t b = 0; b < op.batch; ++b)
    for (uint64_t h = 0; h < op.heads; ++h) {
      // K_h and V_h: where the projection left them in SRAM (the first
      // kv.heads heads, batch 1), else loaded into the next slot.
      uint64_t kAt, vAt;
      if (b == 0 && h < op.kv.heads) {
        kAt = op.kv.kAddr(h);
        vAt = op.kv.vAddr(h);
      } else {
        int hs = loaded++ % 2;
        kAt = kBuf[hs];
        vAt = vBuf[hs];
        sink.load(kBase + (op.kOffset + b * op.kBatchStride + h * hd) * kEb,
                  op.kRowStride * kEb, kAt, hd * kEb, sk, hd * kEb);
        sink.load(vBase + (op.vOffset + b * op.vBatchStride + h * hd) * kEb,
                  op.vRowStride * kEb, vAt, hd * kEb, sk, hd * kEb);
      }
      for (uint64_t r = 0; r < op.sq; r += tq, ++tile) {
        uint64_t xq = std::min(tq, op.sq - r);
        int s = tile % 2;
        sink.load(qBase + (op.qOffset + b * op.qBatchStride +
                           r * op.qRowStride + h * hd) *
                              kEb,
                  op.qRowStride * kEb, qBuf[s], hd * kEb, xq, hd * kEb);
        // Q * scale (FP16, as the unfused path rounds it).
        Instr sc;
        sc.op = Opcode::VecScale;
        sc.dims[0] = uint32_t(xq);
        sc.dims[1] = uint32_t(hd);
        sc.addr[0] = qBuf[s];
        sc.addr[2] = qsBuf;
        sc.strides[0] = sc.strides[2] = uint32_t(hd);
        sc.imm = n.scale;
        sink.emit(sc);
        // scores [xq, sk] = Qs K_h^T, FP32.
        Instr mm;
        mm.op = Opcode::MatMul;
        mm.dtype = DType::F16;
        mm.outDtype = DType::F32;
        mm.flags = arch::kFlagTransposeB;
        mm.dims[0] = uint32_t(xq);
        mm.dims[1] = uint32_t(hd);
        mm.dims[2] = uint32_t(sk);
        mm.addr[0] = qsBuf;
        mm.addr[1] = kAt;
        mm.addr[2] = sBuf;
        mm.strides[0] = uint32_t(hd);
        mm.strides[1] = uint32_t(hd);
        mm.strides[2] = uint32_t(sk);
        sink.emit(mm);
        // probabilities [xq, sk], FP16.
        Instr sm;
        sm.op = Opcode::VecSoftmax;
        sm.dtype = DType::F32;
        sm.outDtype = DType::F16;
        sm.dims[0] = uint32_t(xq);
        sm.dims[1] = uint32_t(sk);
        sm.addr[0] = sBuf;
        sm.addr[2] = pBuf;
        sm.strides[0] = sm.strides[2] = uint32_t(sk);
        sink.emit(sm);
        // context [xq, hd] = P V_h.
        Instr pv;
        pv.op = Opcode::MatMul;
        pv.dtype = DType::F16;
        pv.outDtype = DType::F16;
        pv.dims[0] = uint32_t(xq);
        pv.dims[1] = uint32_t(sk);
        pv.dims[2] = uint32_t(hd);
        pv.addr[0] = pBuf;
        pv.addr[1] = vAt;
        pv.addr[2] = oBuf[s];
        pv.strides[0] = uint32_t(sk);
        pv.strides[1] = uint32_t(hd);
        pv.strides[2] = uint32_t(hd);
        sink.emit(pv);
        sink.store(oBase + ((b * op.sq + r) * width + h * hd) * kEb,
                   width * kEb, oBuf[s], hd * kEb, xq, hd * kEb);
      }
    }
}

void tessera::codegen::emitOnlineAttention(KernelSink &sink,
                                           const GraphNode &n) {
  const arch::ChipConfig &chip = sink.chip();
  cost::AttentionOp op = attentionOpOf(sink.graph(), n, &sink);
  cost::Constraints c;
  c.sramBytes = sink.sramBudget();
  // The tile recorded in the IR (tsr-fuse-attention) when it is legal on
  // this chip, else the cost model's choice.
  cost::OnlineAttentionTiling t{uint64_t(n.tileRows), uint64_t(n.tileKeys)};
  bool recorded = n.onlineSoftmax;
  if (!recorded || cost::checkOnlineAttention(chip, op, t, c)) {
    auto best = cost::searchOnlineAttention(chip, op, c);
    if (!best)
      throw CodegenError(sink.where() +
                         ": the online-softmax attention needs " +
                         std::to_string(cost::onlineAttentionSramBytes(
                             op, cost::onlineAttentionMinTiling(op), c)) +
                         " bytes of SRAM for its smallest tile, the chip has " +
                         std::to_string(c.budget(chip)));
    t = best->tiling;
    recorded = false;
  }
  uint64_t tq = std::min(t.tq, op.sq), tk = std::min(t.tk, op.sk);
  uint64_t hd = op.headDim;
  sink.plan(cost::onlineAttentionKernel(op, t, c));

  // Every buffer where the SRAM plan puts it (tsr-allocate-sram).
  cost::SramPlan plan =
      placeBuffers(sink, n, cost::onlineAttentionSramPlan(op, t, c), recorded);
  auto at = [&](const char *name, unsigned slot = 0) {
    return plan.find(name, slot)->offset;
  };
  uint64_t kBuf[2], vBuf[2], qBuf[2], mBuf[2];
  for (unsigned s = 0; s < 2; ++s) {
    kBuf[s] = at("k", s);
    vBuf[s] = at("v", s);
    qBuf[s] = at("q", s);
    mBuf[s] = at("m", s);
  }
  uint64_t accBuf = at("acc"), lBuf = at("l"), sBuf = at("s"), pBuf = at("p"),
           rsBuf = at("rs"), alphaBuf = at("alpha");

  auto vec = [](Opcode o, uint64_t rows, uint64_t cols, DType in, DType out) {
    Instr v;
    v.op = o;
    v.dtype = in;
    v.outDtype = out;
    v.dims[0] = uint32_t(rows);
    v.dims[1] = uint32_t(cols);
    return v;
  };
  // A [rows, cols] vector op out = a <op> b with every operand's row
  // stride given (b broadcast per row when bcastCol).
  auto binary = [&](Opcode o, uint64_t rows, uint64_t cols, uint64_t a,
                    uint64_t sa, uint64_t b, uint64_t sb, uint64_t out,
                    uint64_t so, DType outType, bool bcastCol) {
    Instr v = vec(o, rows, cols, DType::F32, outType);
    v.addr[0] = a;
    v.addr[1] = b;
    v.addr[2] = out;
    v.strides[0] = uint32_t(sa);
    v.strides[1] = uint32_t(sb);
    v.strides[2] = uint32_t(so);
    if (bcastCol)
      v.flags = arch::kFlagBroadcastCol;
    sink.emit(v);
  };
  // A row reduction of a [rows, cols] tile (row stride cols) to rows x 1.
  auto reduce = [&](Opcode o, uint64_t rows, uint64_t cols, uint64_t a,
                    DType in, uint64_t out) {
    Instr v = vec(o, rows, cols, in, DType::F32);
    v.addr[0] = a;
    v.addr[2] = out;
    v.strides[0] = uint32_t(tk);
    v.strides[2] = 1;
    v.imm = 1.0f;
    sink.emit(v);
  };

  uint64_t qBase = sink.dramOf(n.inputs[0]), kBase = sink.dramOf(n.inputs[1]),
           vBase = sink.dramOf(n.inputs[2]), oBase = sink.dramOf(n.output);
  uint64_t width = op.heads * hd;
  uint64_t qTile = 0, kvTile = 0;
  for (uint64_t b = 0; b < op.batch; ++b)
    for (uint64_t h = 0; h < op.heads; ++h)
      for (uint64_t r = 0; r < op.sq; r += tq, ++qTile) {
        uint64_t xq = std::min(tq, op.sq - r);
        int qs = int(qTile % 2);
        sink.load(qBase + (op.qOffset + b * op.qBatchStride +
                           r * op.qRowStride + h * hd) *
                              kEb,
                  op.qRowStride * kEb, qBuf[qs], hd * kEb, xq, hd * kEb);
        for (uint64_t j0 = 0, j = 0; j0 < op.sk; j0 += tk, ++j, ++kvTile) {
          uint64_t xk = std::min(tk, op.sk - j0);
          bool first = j0 == 0, last = j0 + xk == op.sk;
          int ks = int(kvTile % 2);
          sink.load(kBase + (op.kOffset + b * op.kBatchStride +
                             j0 * op.kRowStride + h * hd) *
                                kEb,
                    op.kRowStride * kEb, kBuf[ks], hd * kEb, xk, hd * kEb);
          sink.load(vBase + (op.vOffset + b * op.vBatchStride +
                             j0 * op.vRowStride + h * hd) *
                                kEb,
                    op.vRowStride * kEb, vBuf[ks], hd * kEb, xk, hd * kEb);
          if (first) {
            // Q * scale in place (FP16, as the unfused path rounds it).
            Instr sc = vec(Opcode::VecScale, xq, hd, DType::F16, DType::F16);
            sc.addr[0] = sc.addr[2] = qBuf[qs];
            sc.strides[0] = sc.strides[2] = uint32_t(hd);
            sc.imm = n.scale;
            sink.emit(sc);
          }
          // S [xq, xk] = Qs K_j^T, FP32.
          Instr mm;
          mm.op = Opcode::MatMul;
          mm.dtype = DType::F16;
          mm.outDtype = DType::F32;
          mm.flags = arch::kFlagTransposeB;
          mm.dims[0] = uint32_t(xq);
          mm.dims[1] = uint32_t(hd);
          mm.dims[2] = uint32_t(xk);
          mm.addr[0] = qBuf[qs];
          mm.addr[1] = kBuf[ks];
          mm.addr[2] = sBuf;
          mm.strides[0] = uint32_t(hd);
          mm.strides[1] = uint32_t(hd);
          mm.strides[2] = uint32_t(tk);
          sink.emit(mm);
          // The running maximum: m_new = max(m_old, rowmax(S)) (the first
          // tile's rowmax is m).
          uint64_t mNew = mBuf[j % 2], mOld = mBuf[(j + 1) % 2];
          reduce(Opcode::VecReduceMax, xq, xk, sBuf, DType::F32, mNew);
          if (!first)
            binary(Opcode::VecMax, xq, 1, mNew, 1, mOld, 1, mNew, 1, DType::F32,
                   false);
          // P = exp(S - m_new), FP16; its row sums (of the rounded P the
          // product uses), FP32.
          binary(Opcode::VecSub, xq, xk, sBuf, tk, mNew, 1, sBuf, tk,
                 DType::F32, true);
          Instr ex = vec(Opcode::VecExp, xq, xk, DType::F32, DType::F16);
          ex.addr[0] = sBuf;
          ex.addr[2] = pBuf;
          ex.strides[0] = ex.strides[2] = uint32_t(tk);
          sink.emit(ex);
          reduce(Opcode::VecReduceSum, xq, xk, pBuf, DType::F16,
                 first ? lBuf : rsBuf);
          if (!first) {
            // alpha = exp(m_old - m_new); l = l alpha + rowsum(P);
            // O = O alpha.
            binary(Opcode::VecSub, xq, 1, mOld, 1, mNew, 1, alphaBuf, 1,
                   DType::F32, false);
            Instr ea = vec(Opcode::VecExp, xq, 1, DType::F32, DType::F32);
            ea.addr[0] = ea.addr[2] = alphaBuf;
            ea.strides[0] = ea.strides[2] = 1;
            sink.emit(ea);
            binary(Opcode::VecMul, xq, 1, lBuf, 1, alphaBuf, 1, lBuf, 1,
                   DType::F32, false);
            binary(Opcode::VecAdd, xq, 1, lBuf, 1, rsBuf, 1, lBuf, 1,
                   DType::F32, false);
            binary(Opcode::VecMul, xq, hd, accBuf, hd, alphaBuf, 1, accBuf, hd,
                   DType::F32, true);
          }
          // O (+)= P V_j, FP32.
          Instr pv;
          pv.op = Opcode::MatMul;
          pv.dtype = DType::F16;
          pv.outDtype = DType::F32;
          pv.accDtype = DType::F32;
          pv.dims[0] = uint32_t(xq);
          pv.dims[1] = uint32_t(xk);
          pv.dims[2] = uint32_t(hd);
          pv.addr[0] = pBuf;
          pv.addr[1] = vBuf[ks];
          pv.addr[2] = accBuf;
          pv.strides[0] = uint32_t(tk);
          pv.strides[1] = uint32_t(hd);
          pv.strides[2] = uint32_t(hd);
          if (!first) {
            pv.flags = arch::kFlagAccumulate;
            pv.addr[3] = accBuf;
            pv.strides[3] = uint32_t(hd);
          }
          sink.emit(pv);
          if (!last)
            continue;
          // The context O / l, FP16, into the Q slot (Q is dead after the
          // tile's last score product), stored into the head's columns of
          // [B, Sq, D].
          binary(Opcode::VecDiv, xq, hd, accBuf, hd, lBuf, 1, qBuf[qs], hd,
                 DType::F16, true);
          sink.store(oBase + ((b * op.sq + r) * width + h * hd) * kEb,
                     width * kEb, qBuf[qs], hd * kEb, xq, hd * kEb);
        }
      }
}

cost::MatMulGroupOp tessera::codegen::matmulGroupOpOf(const Graph &g,
                                                      const GraphNode &n,
                                                      const KernelSink *sink) {
  const std::vector<int64_t> &bs = g.values[n.inputs[1]].shape;
  cost::MatMulGroupOp op;
  op.k = uint64_t(bs[0]);
  op.n = uint64_t(bs[1]);
  op.m = uint64_t(g.values[n.inputs[0]].numElements()) / op.k;
  op.layernorm = n.layerNormPrologue;
  op.bias = n.biasEpilogue;
  op.foldBias = n.biasEpilogue && n.foldBias;
  op.gelu = n.geluEpilogue;
  op.tanhGelu = n.tanhGelu;
  op.residual = n.residualEpilogue;
  auto name = [&](int v) {
    return sink ? sink->tensorOf(v) : g.values[v].name;
  };
  op.a = name(n.inputs[0]);
  op.b = name(n.inputs[1]);
  op.out = name(n.output);
  size_t i = 2;
  if (op.layernorm) {
    op.gamma = name(n.inputs[i++]);
    op.beta = name(n.inputs[i++]);
  }
  if (op.bias)
    op.biasTensor = name(n.inputs[i++]);
  if (op.residual)
    op.residualTensor = name(n.inputs[i++]);
  op.kv = n.kv;
  return op;
}

void tessera::codegen::emitMatMulGroup(KernelSink &sink, const GraphNode &n) {
  const arch::ChipConfig &chip = sink.chip();
  const Graph &g = sink.graph();
  cost::MatMulGroupOp op = matmulGroupOpOf(g, n, &sink);
  cost::Constraints full, c;
  full.sramBytes = c.sramBytes = sink.sramBudget();
  // Columns kept in SRAM for the attention (tsr-keep-kv): the kernel's own
  // buffers go below the resident region.
  if (op.kv.heads)
    c.sramBytes = op.kv.offset;
  // The tile recorded in the IR (tsr-fuse-epilogue / tsr-fuse-layernorm)
  // when it is legal on this chip, else the cost model's choice.
  cost::GemmTiling t{uint64_t(n.tileM), uint64_t(n.tileK), uint64_t(n.tileN)};
  bool recorded = true;
  if (cost::checkMatMulGroup(chip, op, t, c)) {
    recorded = false;
    auto best = cost::searchMatMulGroup(chip, op, c);
    if (!best) {
      throw CodegenError(
          sink.where() + ": no tiling of the fused " + std::to_string(op.m) +
          "x" + std::to_string(op.k) + "x" + std::to_string(op.n) +
          " product fits " + std::to_string(c.budget(chip)) +
          " bytes of SRAM; the smallest needs " +
          std::to_string(cost::matmulGroupMinSramBytes(chip, op, c)));
    }
    t = best->tiling;
  }
  // On a chip of several NPUs, the row tiles divided among them as
  // tsr-select-tiling recorded (`npus`, cost::chooseMatMulGroupSplit:
  // docs/lowering.md, "Two NPUs"); the same choice here without a legal
  // recorded tile or split. `split.starts` holds each part's first row
  // tile.
  bool recordedSplit = recorded && n.npuParts > 0 &&
                       uint64_t(n.npuParts) <= chip.npus &&
                       (n.npuParts == 1 || !op.kv.heads);
  cost::GemmSplit split =
      recordedSplit
          ? cost::divideMatMulGroup(chip, op, t, unsigned(n.npuParts), c)
          : cost::chooseMatMulGroupSplit(chip, op, t, c);
  t = split.tiling;
  cost::Kernel planned = std::move(split.longest);
  int64_t m = int64_t(op.m), k = int64_t(op.k), nn = int64_t(op.n);
  int64_t pm = int64_t(std::min(t.tm, op.m)),
          pk = int64_t(std::min(t.tk, op.k)),
          pn = int64_t(std::min(t.tn, op.n));
  sink.plan(std::move(planned));
  int64_t nmT = (m + pm - 1) / pm, nkT = (k + pk - 1) / pk,
          nnT = (nn + pn - 1) / pn;

  // Buffers in the cost model's order: the resident rows, then per slot A,
  // B, the output tile, the accumulator and the residual tile.
  size_t next = 2;
  int gammaV = -1, betaV = -1, biasV = -1, resV = -1;
  if (op.layernorm) {
    gammaV = n.inputs[next++];
    betaV = n.inputs[next++];
  }
  if (op.bias)
    biasV = n.inputs[next++];
  if (op.residual)
    resV = n.inputs[next++];
  // Every buffer where the SRAM plan puts it (tsr-allocate-sram); each
  // NPU's SRAM holds the same layout.
  cost::SramPlan plan = placeBuffers(
      sink, n,
      cost::withResidentKv(cost::matmulGroupSramPlan(op, t, c), op.kv, full),
      recorded);
  auto at = [&](const char *name, unsigned slot = 0) {
    const cost::SramBuffer *b = plan.find(name, slot);
    return b ? b->offset : 0;
  };
  uint64_t biasBuf = at("bias"), gammaBuf = at("gamma"), betaBuf = at("beta");
  uint64_t aSlot[2], bSlot[2], outSlot[2], resSlot[2];
  for (unsigned s = 0; s < 2; ++s) {
    aSlot[s] = at("a", s);
    bSlot[s] = at("b", s);
    outSlot[s] = at("out", s);
    resSlot[s] = at("res", s);
  }
  uint64_t acc = at("acc");
  // A folded bias (tsr-fold-bias): A slots of row stride pk + 1 whose last
  // column holds ones, B slots of pk + 1 rows whose last row takes the
  // bias segment of the tile's columns; the last K step's columns and rows
  // sit right-aligned against them, so its product multiplies one more.
  const bool fold = op.foldBias;
  // The resident rows, in each NPU's own SRAM before its first tile; the
  // A slots' column of ones (of the part's rows).
  auto prologue = [&](unsigned npu) {
    int64_t r0 = int64_t(split.starts[npu]),
            r1 = int64_t(split.starts[npu + 1]);
    int64_t partRows = std::min(m, r1 * pm) - r0 * pm;
    if (op.bias && !fold)
      sink.load(sink.dramOf(biasV), nn * kEb, biasBuf, nn * kEb, 1, nn * kEb);
    // (One slot when the part has one A tile: the cache never uses the
    // other.)
    if (fold)
      for (int s = 0; s < ((r1 - r0) * nkT > 1 ? 2 : 1); ++s) {
        uint64_t slot = aSlot[s];
        Instr fill;
        fill.op = Opcode::VecFill;
        fill.dtype = fill.outDtype = DType::F16;
        fill.dims[0] = uint32_t(std::min(pm, partRows));
        fill.dims[1] = 1;
        fill.addr[2] = slot + pk * kEb;
        fill.strides[2] = uint32_t(pk + 1);
        fill.imm = 1.0f;
        sink.emit(fill);
      }
    if (op.layernorm) {
      sink.load(sink.dramOf(gammaV), k * kEb, gammaBuf, k * kEb, 1, k * kEb);
      sink.load(sink.dramOf(betaV), k * kEb, betaBuf, k * kEb, 1, k * kEb);
    }
  };

  uint64_t aBase = sink.dramOf(n.inputs[0]), bBase = sink.dramOf(n.inputs[1]),
           oBase = sink.dramOf(n.output),
           rBase = op.residual ? sink.dramOf(resV) : 0;
  // In place on an SRAM tile of rows x cols (row stride cols).
  auto vecInPlace = [&](Opcode opc, uint64_t addr, int64_t rows, int64_t cols) {
    Instr in;
    in.op = opc;
    in.dtype = DType::F16;
    in.outDtype = DType::F16;
    in.dims[0] = uint32_t(rows);
    in.dims[1] = uint32_t(cols);
    in.addr[0] = in.addr[2] = addr;
    in.strides[0] = in.strides[2] = uint32_t(cols);
    return in;
  };
  // Each NPU runs its rows with its own tile slots (its own SRAM).
  TileCache cas[arch::Program::kMaxNpus], cbs[arch::Program::kMaxNpus];
  int tiles[arch::Program::kMaxNpus] = {};
  for (int64_t i = 0; i < nmT; ++i)
    for (int64_t j = 0; j < nnT; ++j) {
      unsigned npu = split.npuOf(uint64_t(i));
      sink.setNpu(npu);
      if (j == 0 && uint64_t(i) == split.starts[npu])
        prologue(npu);
      TileCache &ca = cas[npu], &cb = cbs[npu];
      int tile = tiles[npu]++;
      int64_t tm = std::min(pm, m - i * pm), tn = std::min(pn, nn - j * pn);
      uint64_t out = outSlot[tile % 2], res = resSlot[tile % 2];
      for (int64_t l = 0; l < nkT; ++l) {
        int64_t tk = std::min(pk, k - l * pk);
        bool last = l == nkT - 1, hitA, hitB;
        // Where this step's columns of A and rows of B start in their slots.
        int64_t shift = fold && last ? pk - tk : 0;
        int64_t aStride = fold ? pk + 1 : tk;
        uint64_t aAt, bAt;
        int sa = ca.get(i * nkT + l, hitA);
        aAt = aSlot[sa] + shift * kEb;
        if (!hitA)
          sink.load(aBase + (i * pm * k + l * pk) * kEb, k * kEb, aAt,
                    aStride * kEb, tm, tk * kEb);
        int sb = cb.get(l * nnT + j, hitB);
        bAt = bSlot[sb] + shift * tn * kEb;
        if (!hitB) {
          sink.load(bBase + (l * pk * nn + j * pn) * kEb, nn * kEb, bAt,
                    tn * kEb, tk, tn * kEb);
          if (fold && last)
            sink.load(sink.dramOf(biasV) + j * pn * kEb, nn * kEb,
                      bSlot[sb] + pk * tn * kEb, tn * kEb, 1, tn * kEb);
        }
        if (last && op.residual)
          sink.load(rBase + (i * pm * nn + j * pn) * kEb, nn * kEb, res,
                    tn * kEb, tm, tn * kEb);
        if (!hitA && op.layernorm) {
          // The A row tile (whole rows of K) normalized in place.
          Instr ln = vecInPlace(Opcode::VecLayerNorm, aAt, tm, tk);
          ln.strides[0] = ln.strides[2] = uint32_t(aStride);
          ln.addr[1] = gammaBuf;
          ln.addr[3] = betaBuf;
          ln.imm = n.epsilon;
          sink.emit(ln);
        }
        Instr mm;
        mm.op = Opcode::MatMul;
        mm.dtype = DType::F16;
        mm.accDtype = DType::F32;
        mm.outDtype = last ? DType::F16 : DType::F32;
        mm.dims[0] = uint32_t(tm);
        mm.dims[1] = uint32_t(tk + (fold && last ? 1 : 0));
        mm.dims[2] = uint32_t(tn);
        mm.addr[0] = aAt;
        mm.addr[1] = bAt;
        mm.addr[2] = last ? out : acc;
        mm.strides[0] = uint32_t(aStride);
        mm.strides[1] = uint32_t(tn);
        mm.strides[2] = uint32_t(tn);
        if (l) {
          mm.flags = arch::kFlagAccumulate;
          mm.addr[3] = acc;
          mm.strides[3] = uint32_t(tn);
        }
        sink.emit(mm);
      }
      // The epilogue, in place on the FP16 output tile (each step rounds to
      // FP16 as the unfused kernels' outputs do). Its last instruction runs
      // per column segment: kept columns (tsr-keep-kv) are written into the
      // resident region instead (a vec.copy when there is no epilogue),
      // the others in place, then stored.
      enum { kBias, kGelu, kResidual };
      std::vector<int> epi;
      if (op.bias && !fold)
        epi.push_back(kBias);
      if (op.gelu)
        epi.push_back(kGelu);
      if (op.residual)
        epi.push_back(kResidual);
      // Columns [c, c + cols) of the tile into dst (row stride dstStride).
      auto epilogueOp = [&](int which, int64_t c, int64_t cols, uint64_t dst,
                            uint64_t dstStride) {
        Opcode opc = which != kGelu ? Opcode::VecAdd
                     : op.tanhGelu  ? Opcode::VecGeluTanh
                                    : Opcode::VecGelu;
        Instr in = vecInPlace(opc, out + c * kEb, tm, cols);
        in.strides[0] = uint32_t(tn);
        in.addr[2] = dst;
        in.strides[2] = uint32_t(dstStride);
        if (which == kBias) {
          in.flags = arch::kFlagBroadcastRow;
          in.addr[1] = biasBuf + (j * pn + c) * kEb;
          in.strides[1] = uint32_t(tn);
        } else if (which == kResidual) {
          in.addr[1] = res + c * kEb;
          in.strides[1] = uint32_t(tn);
        }
        sink.emit(in);
      };
      for (size_t x = 0; x + 1 < epi.size(); ++x)
        epilogueOp(epi[x], 0, tn, out, uint64_t(tn));
      std::vector<cost::ColumnSegment> segs = cost::columnSegments(
          op.kv, uint64_t(i * pm), uint64_t(j * pn), uint64_t(tn));
      for (const cost::ColumnSegment &sg : segs) {
        int64_t rel = int64_t(sg.col) - j * pn, cols = int64_t(sg.cols);
        uint64_t dst = sg.kept ? sg.sram : out + rel * kEb;
        uint64_t dstStride = sg.kept ? sg.sramStride : uint64_t(tn);
        if (!epi.empty()) {
          epilogueOp(epi.back(), rel, cols, dst, dstStride);
        } else if (sg.kept) {
          Instr cp = vecInPlace(Opcode::VecCopy, out + rel * kEb, tm, cols);
          cp.strides[0] = uint32_t(tn);
          cp.addr[2] = dst;
          cp.strides[2] = uint32_t(dstStride);
          sink.emit(cp);
        }
      }
      for (const cost::ColumnSegment &sg : segs)
        if (!sg.kept) {
          int64_t rel = int64_t(sg.col) - j * pn;
          sink.store(oBase + (i * pm * nn + j * pn + rel) * kEb, nn * kEb,
                     out + rel * kEb, tn * kEb, tm, sg.cols * kEb);
        }
    }
}
