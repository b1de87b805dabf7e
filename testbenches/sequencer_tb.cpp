//===- sequencer_tb.cpp - Testbench of the sequencer ----------------------===//
//
// Reference model (docs/timing-model.md, "Sequencer"): with N_q
// instructions in flight on queue q (1 for compute, dma_outstanding_transfers
// for load and store) and units that take d[i] cycles,
//   start[i] = max(start[p(i)], end[p_N(i)], end[j] for j in deps[i]),
//   end[i]   = start[i] + d[i],
// p(i) the previous instruction of i's queue, p_N(i) the one N_q places
// earlier (its descriptor slot). Frames run with N = 1, 2, 4 and 7.
// The sequencer drives stub units of known latency here, on random
// dependency graphs (fixed seed) and run as repeated frames with sc_start,
// as simulateFrame does. Also: an error stops the queues cleanly and the
// next frame runs normally.
//
//===----------------------------------------------------------------------===//

#include "Testbench.h"

using namespace sc_core;
using namespace tessera;
using namespace tessera::sim;

namespace {

/// A unit that takes `latency[index]` cycles and fails instruction `failAt`.
struct StubUnit : sc_module, ExecIf {
  sc_export<ExecIf> exec;
  const char *unitName;
  FrameState *frame = nullptr;
  std::vector<uint64_t> *latency = nullptr;
  std::vector<std::string> *units = nullptr; ///< Which unit ran each instr.
  int64_t failAt = -1;

  StubUnit(sc_module_name n, const char *unitName)
      : sc_module(n), exec("exec"), unitName(unitName) {
    exec.bind(*this);
  }
  void execute(uint32_t index, const arch::Instr &in) override {
    (*units)[index] = unitName;
    if (int64_t(index) == failAt)
      return frame->fail(index, in, unitName, "injected failure");
    wait(cyclesToTime((*latency)[index]));
  }
};

arch::Opcode randomOp(std::mt19937 &rng) {
  switch (rng() % 4) {
  case 0:
    return arch::Opcode::DmaLoad;
  case 1:
    return arch::Opcode::DmaStore;
  case 2:
    return arch::Opcode::MatMul;
  default:
    return arch::Opcode::VecAdd;
  }
}

} // namespace

int sc_main(int, char **) {
  tb::quietSystemC();
  tb::Checker ck;
  Sequencer seq("sequencer");
  StubUnit dma("dma", "dma"), matrix("matrix", "matrix"),
      vector("vector", "vector");
  seq.dma.bind(dma.exec);
  seq.matrix.bind(matrix.exec);
  seq.vector.bind(vector.exec);
  sc_start(SC_ZERO_TIME);

  std::mt19937 rng(31337);
  for (int frameNo = 0; frameNo < 20; ++frameNo) {
    arch::Program prog;
    unsigned n = 1 + rng() % 300;
    std::vector<uint64_t> latency(n);
    std::vector<std::string> units(n);
    for (unsigned i = 0; i < n; ++i) {
      arch::Instr in;
      in.op = randomOp(rng);
      unsigned nDeps = i ? rng() % 4 : 0;
      for (unsigned d = 0; d < nDeps; ++d)
        in.deps.push_back(uint32_t(rng() % i));
      latency[i] = rng() % 500; // zero-latency instructions included
      prog.instrs.push_back(in);
    }
    bool injectFailure = frameNo % 5 == 4;
    int64_t failAt = injectFailure ? int64_t(rng() % n) : -1;

    FrameState frame;
    const uint32_t outstanding[] = {1, 2, 4, 7};
    frame.chip.dma_outstanding_transfers = outstanding[frameNo % 4];
    frame.program = &prog;
    frame.originCycle = nowCycles();
    for (StubUnit *u : {&dma, &matrix, &vector}) {
      u->frame = &frame;
      u->latency = &latency;
      u->units = &units;
      u->failAt = failAt;
    }
    seq.start(&frame);
    sc_start();
    std::string at = " in frame " + std::to_string(frameNo) + " (" +
                     std::to_string(frame.chip.dma_outstanding_transfers) +
                     " in flight)";
    ck.truth(seq.idle(), "every queue returned to idle" + at);

    if (injectFailure) {
      ck.truth(frame.failed() &&
                   frame.error.find("instruction " + std::to_string(failAt) +
                                    " (") != std::string::npos &&
                   frame.error.find("injected failure") != std::string::npos,
               "the failure is reported: " + frame.error);
      ck.truth(!frame.records[failAt].done, "the failed instruction is not "
                                            "done" +
                                                at);
      for (unsigned i = 0; i < n; ++i)
        for (uint32_t d : prog.instrs[i].deps)
          if (!frame.records[d].done)
            ck.truth(!frame.records[i].done,
                     "nothing runs after an unfinished dependency" + at);
      continue;
    }

    // The reference recurrence.
    std::vector<uint64_t> start(n), end(n);
    std::vector<uint32_t> queueOf[arch::kNumQueues];
    uint64_t total = 0;
    for (unsigned i = 0; i < n; ++i) {
      const arch::Instr &in = prog.instrs[i];
      std::vector<uint32_t> &q = queueOf[unsigned(in.queue())];
      size_t slots = in.queue() == arch::Queue::Compute
                         ? 1
                         : frame.chip.dma_outstanding_transfers;
      uint64_t s = 0;
      if (!q.empty())
        s = std::max(s, start[q.back()]);
      if (q.size() >= slots)
        s = std::max(s, end[q[q.size() - slots]]);
      for (uint32_t d : in.deps)
        s = std::max(s, end[d]);
      start[i] = s;
      end[i] = s + latency[i];
      q.push_back(i);
      total = std::max(total, end[i]);
      ck.equal(frame.records[i].start, start[i],
               "start of instruction " + std::to_string(i) + at);
      ck.equal(frame.records[i].end, end[i],
               "end of instruction " + std::to_string(i) + at);
      const char *expectUnit = in.op == arch::Opcode::MatMul ? "matrix"
                               : arch::isVectorOp(in.op)     ? "vector"
                                                             : "dma";
      ck.equal(units[i], std::string(expectUnit),
               "unit of " + std::to_string(i) + at);
    }
    ck.equal(nowCycles() - frame.originCycle, total,
             "the frame ends with its last instruction" + at);
  }
  return ck.finish("sequencer_tb");
}
