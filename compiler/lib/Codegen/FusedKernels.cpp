//===- FusedKernels.cpp - kernels of the fused groups ---------------------===//
//
// Part of Tessera. See FusedKernels.h and docs/fusion.md.
//
//===----------------------------------------------------------------------===//
#include "FusedKernels.h"

#include <algorithm>

using namespace tessera;
using namespace tessera::codegen;
using arch::DType;
using arch::Instr;
using arch::Opcode;

namespace {
constexpr uint64_t kEb = 2; // FP16 bytes.
} // namespace

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
  return op;
}

void tessera::codegen::emitAttention(KernelSink &sink, const GraphNode &n) {
  const arch::ChipConfig &chip = sink.chip();
  cost::AttentionOp op = attentionOpOf(sink.graph(), n, &sink);
  cost::Constraints c;
  c.sramBytes = sink.sramBudget();
  // The tile recorded in the IR (tsr-fuse-attention) when it fits this
  // chip, else the cost model's choice.
  cost::AttentionTiling t{uint64_t(n.tileRows)};
  if (!t.tq || t.tq > op.sq || t.tq > chip.matrix_accumulator_rows ||
      cost::attentionSramBytes(op, t, c) > c.budget(chip)) {
    auto best = cost::searchAttention(chip, op, c);
    if (!best)
      throw CodegenError(
          sink.where() + ": the fused attention needs " +
          std::to_string(
              cost::attentionSramBytes(op, {std::min<uint64_t>(8, op.sq)}, c)) +
          " bytes of SRAM for 8 query rows (K and V of one head, " +
          std::to_string(op.sk) + " score columns), the chip has " +
          std::to_string(c.budget(chip)));
    t = best->tiling;
  }
  uint64_t tq = std::min(t.tq, op.sq), hd = op.headDim, sk = op.sk;
  sink.plan(cost::attentionKernel(op, t, c));

  // Buffers in the cost model's order: K, V, Q of slot 0, then slot 1.
  uint64_t kBuf[2], vBuf[2], qBuf[2], oBuf[2];
  for (int s = 0; s < 2; ++s) {
    kBuf[s] = sink.sramAlloc(sk * hd * kEb);
    vBuf[s] = sink.sramAlloc(sk * hd * kEb);
    qBuf[s] = sink.sramAlloc(tq * hd * kEb);
  }
  for (int s = 0; s < 2; ++s)
    oBuf[s] = sink.sramAlloc(tq * hd * kEb);
  uint64_t qsBuf = sink.sramAlloc(tq * hd * kEb);
  uint64_t sBuf = sink.sramAlloc(tq * sk * 4);
  uint64_t pBuf = sink.sramAlloc(tq * sk * kEb);

  const Graph &g = sink.graph();
  uint64_t qBase = sink.dramOf(n.inputs[0]), kBase = sink.dramOf(n.inputs[1]),
           vBase = sink.dramOf(n.inputs[2]), oBase = sink.dramOf(n.output);
  uint64_t width = op.heads * hd;
  (void)g;
  unsigned headIndex = 0, tile = 0;
  for (uint64_t b = 0; b < op.batch; ++b)
    for (uint64_t h = 0; h < op.heads; ++h, ++headIndex) {
      int hs = headIndex % 2;
      sink.load(kBase + (op.kOffset + b * op.kBatchStride + h * hd) * kEb,
                op.kRowStride * kEb, kBuf[hs], hd * kEb, sk, hd * kEb);
      sink.load(vBase + (op.vOffset + b * op.vBatchStride + h * hd) * kEb,
                op.vRowStride * kEb, vBuf[hs], hd * kEb, sk, hd * kEb);
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
        mm.addr[1] = kBuf[hs];
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
        pv.addr[1] = vBuf[hs];
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
