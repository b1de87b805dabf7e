//===- MovementKernels.h - Movement and CNN kernels: tilings, plans -*- C++
//-*-===//
//
// Part of Tessera. The cost model's side of the unfused movement and CNN
// kernels (docs/lowering.md, "Kernels"; docs/cost-model.md, "Movement and
// CNN kernels"): the view each kernel works on (so a pass over the IR and the
// code generator compute the same one), the kernel by tile class for a
// tiling, the tiling search (the lowest modelled latency under the SRAM
// budget, deterministic ties) and the kernel's SRAM buffers with their live
// ranges (a cost::SramPlan, placed by liveness):
//
//   copies      strided copies (slice, each input of a concat, each index of
//               an expand, a reshape into an output, a transpose keeping the
//               last axis): moveKernel, searchMove, moveSramPlan;
//   transposes  a transpose moving the last axis: the same, `transpose` set;
//   embedding   gatherKernel, searchGather, gatherSramPlan;
//   where       chainKernel (three inputs, one vec.select): searchChain
//               and chainSramPlan (CostModel.h, SramPlan.h);
//   conv        the im2col band kernel (im2colKernel, searchIm2col,
//               im2colSramPlan) and one GEMM per group (convGemm, tiled by
//               searchGemm);
//   pooling     the band kernel (poolKernel, searchPool, poolSramPlan); a
//               global average is a GEMM (poolGemm).
//
// Plain C++ (no MLIR).
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_COSTMODEL_MOVEMENTKERNELS_H
#define TESSERA_COSTMODEL_MOVEMENTKERNELS_H

#include "tessera/CostModel/CostModel.h"
#include "tessera/CostModel/SramPlan.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tessera::cost {

/// The largest buffer the code generator's tile heuristic allowed (128
/// KiB); the searches keep that heuristic's tile as one of their
/// candidates, so a searched kernel is never slower than it by the model.
constexpr uint64_t kTileCapBytes = 128 << 10;

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

/// A window of `shape` elements copied between two DRAM tensors: element i
/// (a multi-index) from src + i . srcStrides to dst + i . dstStrides
/// (element strides), as the code generator's strided copy emits it: axes
/// of extent 1 dropped, axes contiguous on both sides merged, the last axis
/// the DMA row (a row of one element when it is strided) and the one before
/// it the DMA's strided rows; the axes before are iterated (`outer`).
struct CopyView {
  std::vector<int64_t> outer, outerSrc, outerDst; ///< Iterated axes.
  int64_t rows = 1, cols = 1;                     ///< DMA rows x elements.
  int64_t rowSrc = 0, rowDst = 0; ///< Element strides of the DMA's rows.
  uint64_t batch() const;         ///< Product of `outer`.
  /// The moveKernel workload (FP16 elements of `elementBytes`).
  MoveOp move(const std::string &x, const std::string &out,
              uint64_t elementBytes = 2) const;
};
CopyView copyView(const std::vector<int64_t> &shape,
                  const std::vector<int64_t> &srcStrides,
                  const std::vector<int64_t> &dstStrides);
/// Row-major element strides of `shape`.
std::vector<int64_t> rowMajorStrides(const std::vector<int64_t> &shape);

/// A contiguous tensor of `elements` copied as one kernel (a reshape into a
/// graph output): rows of 64 elements when 64 divides it, else one row.
CopyView contiguousView(int64_t elements);

/// The kernel of a transpose of `in` by `perm` (result axis i is input axis
/// perm[i]), when it is not a relabelling (identity: only axes of extent 1
/// move; no kernel):
///  * the last axis kept: whole rows of the last axis move, the DMAs walk
///    the longest other result axis (`view`, a copy);
///  * the last axis moved: each 2-D slice [input axis q feeding the
///    result's last, input's last axis] is loaded, transposed by the
///    vector unit and stored (`transpose` set; `view.rows` x `view.cols`
///    the input slice, `rowSrc` its input row stride, `rowDst` the output
///    row stride of the result axis j the input's last axis lands on).
struct TransposeView {
  bool identity = false, transpose = false;
  CopyView view;
  int64_t q = 0, j = 0; ///< The last axis moved: the axes above.
};
TransposeView transposeView(const std::vector<int64_t> &in,
                            const std::vector<int64_t> &perm);

//===----------------------------------------------------------------------===//
// Searches of the move, gather and chain kernels
//===----------------------------------------------------------------------===//

/// The tile the code generator's heuristic chose before the search (its
/// former `pickTiles`, deleted): the kernel's buffers cost `bytesPerElem` bytes per tile
/// element in total after `fixed` resident bytes; whole rows up to the tile
/// cap and what SRAM has left after eight alignment slacks (one row of
/// 32-column multiples when a row does not fit); nullopt when not even 32
/// elements fit.
std::optional<RowTiling> cappedTile(uint64_t rows, uint64_t cols,
                                    uint64_t bytesPerElem, uint64_t fixed,
                                    uint64_t budget, const Constraints &c = {});
/// The heuristic tile of a transpose moving the last axis: the [rows,
/// cols] slice, halving its longer side until four FP16 buffers fit the
/// tile cap and the budget.
std::optional<RowTiling> halvedTransposeTile(uint64_t rows, uint64_t cols,
                                             uint64_t budget,
                                             const Constraints &c = {});

/// The heuristic tile of a gather (`tn` ids per tile: two index slots and
/// two row slots under the budget, a row slot under the tile cap).
std::optional<uint64_t> cappedGatherTile(uint64_t count, uint64_t rowBytes,
                                         uint64_t budget,
                                         const Constraints &c = {});

/// The lowest-latency tile `tn` of an embedding lookup (gatherKernel): tn
/// from tileCandidates(count, 8), 1, 2, 4 and the heuristic tile; ties to
/// the larger tile; nullopt when not one row fits.
std::optional<Choice<uint64_t>> searchGather(const arch::ChipConfig &chip,
                                             uint64_t count, uint64_t rowBytes,
                                             const Constraints &c = {});

//===----------------------------------------------------------------------===//
// Conv and pooling: band kernels
//===----------------------------------------------------------------------===//

/// A 2-D convolution, NCHW, one batch image per im2col kernel
/// (docs/lowering.md, "Conv").
struct ConvOp {
  uint64_t batch = 1, channels = 0, height = 0, width = 0; ///< N C H W.
  uint64_t outChannels = 0, groups = 1, kernelH = 1, kernelW = 1;
  uint64_t outH = 0, outW = 0;
  int64_t strideH = 1, strideW = 1, dilationH = 1, dilationW = 1;
  int64_t padTop = 0, padLeft = 0;
  std::string x = "x", im2col = "im2col", wmat = "wmat", out = "out";
  uint64_t channelsPerGroup() const { return groups ? channels / groups : 0; }
  uint64_t taps() const { return kernelH * kernelW; }
  /// Rows of the im2col matrix per group: C/g kh kw plus the ones row.
  uint64_t groupRows() const { return channelsPerGroup() * taps() + 1; }
  uint64_t positions() const { return outH * outW; }
};
/// The output positions [lo, hi) of a window tap whose input index
/// `o * stride - pad + offset` falls inside [0, extent), clipped to
/// [from, to) (the taps of the band kernels).
std::pair<int64_t, int64_t> windowRange(int64_t from, int64_t to,
                                        int64_t stride, int64_t pad,
                                        int64_t offset, int64_t extent);
/// A band tiling: `cb` channels (planes) by `toh` output rows.
struct BandTiling {
  uint64_t cb = 0, toh = 0;
  bool operator==(const BandTiling &o) const {
    return cb == o.cb && toh == o.toh;
  }
};
/// The input rows a band of `toh` output rows reads.
uint64_t im2colStagedRows(const ConvOp &op, uint64_t toh);
/// The GEMM of one group: wmat[g] [O/g, K+1] x im2col[g] [K+1, OH OW].
GemmOp convGemm(const ConvOp &op);
/// The im2col kernel of one batch image for band tiling `t`, by tile
/// class: a first step fills the row of ones and stores it per group; then
/// per band of output rows, per group, per channel block the staged-rows
/// load, a vec.fill when a tap reads padding, one vec.gather per (channel,
/// tap) that reads inside the image, and the store of the tile. Bands
/// equal to the one before are one class (a repeat).
Kernel im2colKernel(const ConvOp &op, const BandTiling &t,
                    const Constraints &c = {});
/// The im2col kernel's buffers (phases `load, gather, store`): `stage`
/// (cb nih W e, two slots), `tile` (cb kh kw toh OW e, two slots) and
/// `ones` (min(OH OW, 65536) e), all carried.
SramPlan im2colSramPlan(const ConvOp &op, const BandTiling &t,
                        const Constraints &c = {});
/// The conv layer as the code generator emits it: per batch image the
/// im2col kernel (band `t`), then one GEMM per group tiled `g`.
Kernel convKernel(const ConvOp &op, const BandTiling &t, const GemmTiling &g,
                  const Constraints &c = {});
/// The lowest-latency band tiling of the im2col kernel: cb from Cg and its
/// halvings, tileCandidates(Cg, 8), 1, 2, 4; toh likewise from OH (the
/// halvings include the tile the code generator's heuristic chose);
/// visited from the largest; nullopt when not even one channel by one row
/// fits.
std::optional<Choice<BandTiling>> searchIm2col(const arch::ChipConfig &chip,
                                               const ConvOp &op,
                                               const Constraints &c = {});

/// Max or average pooling on `planes` (N C) planes of [H, W].
struct PoolOp {
  uint64_t planes = 0, height = 0, width = 0, outH = 0, outW = 0;
  uint64_t kernelH = 1, kernelW = 1;
  int64_t strideH = 1, strideW = 1, padTop = 0, padLeft = 0;
  bool max = true, countIncludePad = false;
  std::string x = "x", divisors = "divisors", out = "out";
  /// An average of the elements inside the image: a row of 1/count per
  /// output position multiplies the result.
  bool divides() const { return !max && !countIncludePad; }
  /// A global average: one window over the whole image, no padding (a
  /// GEMM with a column of 1/(H W): poolGemm).
  bool global(int64_t padBottom = 0, int64_t padRight = 0) const;
};
/// x [planes, H W] x mean [H W, 1].
GemmOp poolGemm(const PoolOp &op);
/// The pooling kernel for band tiling `t` (docs/lowering.md, "Pooling").
Kernel poolKernel(const PoolOp &op, const BandTiling &t,
                  const Constraints &c = {});
/// The pooling kernel's buffers (phases `load, taps, fold, round, store`):
/// `stage` (cb nih W e, two slots), `out` (cb toh OW e, two slots), `div`
/// (toh OW e, two slots, an average without count_include_pad), all
/// carried; `tap` (FP32, cb toh OW 4: a tap's elements, live taps..fold)
/// and `acc` (FP32, the same bytes: live fold..round), one slot each.
SramPlan poolSramPlan(const PoolOp &op, const BandTiling &t,
                      const Constraints &c = {});
std::optional<Choice<BandTiling>> searchPool(const arch::ChipConfig &chip,
                                             const PoolOp &op,
                                             const Constraints &c = {});

//===----------------------------------------------------------------------===//
// SRAM plans of the other kernels
//===----------------------------------------------------------------------===//

/// A copy (phases `load, store`): `buf` (tr tc e, two slots, carried; the
/// store reads the load's slot). A transpose (phases `load, transpose,
/// store`): `in` and `out` (tr tc e each, two slots, carried).
SramPlan moveSramPlan(const MoveOp &op, const RowTiling &t,
                      const Constraints &c = {});
/// An embedding lookup (phases `load, gather, store`): `ids` (4 tn, two
/// slots) and `rows` (tn rowBytes, two slots), carried.
SramPlan gatherSramPlan(uint64_t count, uint64_t tn, uint64_t rowBytes,
                        const Constraints &c = {});
/// Kernels run one after another within one layer (a concat's copies): part
/// i's buffers renamed `in<i>.<name>`, its phases `<i>:<phase>`, each live
/// over its own part's phases only (the parts share bytes), placed by
/// liveness.
SramPlan sequenceSramPlan(const std::vector<SramPlan> &parts,
                          const Constraints &c = {});
/// Kernels run one after another within one layer that each keep their own
/// placement (a conv's im2col kernel, then its GEMMs: each starts from an
/// empty SRAM): part `name`'s buffers renamed `<name>.<buffer>`, its phases
/// `<name>:<phase>`, each live over its own part's phases only (so the
/// parts share bytes); the offsets the part's builder gave, the total the
/// largest part's.
SramPlan
stagedSramPlan(const std::vector<std::pair<std::string, SramPlan>> &parts);
/// The SRAM plan of a conv layer (tsr.sram of a tsr.conv): its im2col
/// kernel (`im2col.*`, im2colSramPlan for `band`) then one group's GEMM
/// (`gemm.*`, gemmSramPlan of `gemm` for `tile`), staged.
SramPlan convSramPlan(const ConvOp &op, const BandTiling &band,
                      const GemmOp &gemm, const GemmTiling &tile,
                      const Constraints &c = {});

} // namespace tessera::cost

#endif // TESSERA_COSTMODEL_MOVEMENTKERNELS_H
