//===- Reference.cpp - the FP32 reference executor ------------------------===//
//
// Part of Tessera. Executes a Graph in FP32 with plain loops (and BLAS for
// the matrix products): the numbers the chip's FP16 results are compared with
// when no PyTorch output is at hand, and the check the code generator's unit
// tests use. Semantics follow ONNX opset 17.
//
//===----------------------------------------------------------------------===//
#include "tessera/Compiler/Graph.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>

using namespace tessera::codegen;

namespace {

using Shape = std::vector<int64_t>;

/// Row-major element strides of `shape` as seen from a result of rank
/// `rank` under numpy broadcasting (0 for broadcast dimensions).
std::vector<int64_t> broadcastStrides(const Shape &shape, const Shape &out) {
  size_t rank = out.size(), pad = rank - shape.size();
  std::vector<int64_t> strides(rank, 0);
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[pad + i] = shape[i] == 1 && out[pad + i] != 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/// Calls f(offsetA, offsetB, outIndex) for every element of `out`.
template <typename F>
void forEachBroadcast(const Shape &out, const std::vector<int64_t> &sa,
                      const std::vector<int64_t> &sb, F f) {
  size_t rank = out.size();
  std::vector<int64_t> idx(rank, 0);
  int64_t total = 1;
  for (int64_t d : out)
    total *= d;
  int64_t oa = 0, ob = 0;
  for (int64_t i = 0; i < total; ++i) {
    f(oa, ob, i);
    for (size_t d = rank; d-- > 0;) {
      oa += sa[d];
      ob += sb[d];
      if (++idx[d] < out[d])
        break;
      oa -= sa[d] * out[d];
      ob -= sb[d] * out[d];
      idx[d] = 0;
    }
  }
}

float apply(NodeKind k, float x, float y) {
  switch (k) {
  case NodeKind::Add:
    return x + y;
  case NodeKind::Sub:
    return x - y;
  case NodeKind::Mul:
    return x * y;
  default:
    return x / y;
  }
}

/// The elementwise activations, with the ONNX definitions.
float activation(const GraphNode &n, float x) {
  switch (n.kind) {
  case NodeKind::Relu:
    return x > 0 ? x : 0.0f;
  case NodeKind::Sigmoid:
    return 1.0f / (1.0f + std::exp(-x));
  case NodeKind::HardSwish:
    return x * std::min(std::max(x / 6.0f + 0.5f, 0.0f), 1.0f);
  case NodeKind::HardSigmoid:
    return std::min(std::max(n.alpha * x + n.beta, 0.0f), 1.0f);
  default: // Clip
    return std::min(std::max(x, n.lo), n.hi);
  }
}

/// 2-D convolution, NCHW, groups and dilations; padding reads zeros.
void conv2d(const GraphNode &n, const Shape &xs, const std::vector<float> &x,
            const Shape &ws, const std::vector<float> &w,
            const std::vector<float> &bias, const Shape &os,
            std::vector<float> &out) {
  int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  int64_t O = ws[0], Cg = ws[1], KH = ws[2], KW = ws[3];
  int64_t OH = os[2], OW = os[3], Og = O / n.groups;
  for (int64_t b = 0; b < N; ++b)
    for (int64_t o = 0; o < O; ++o) {
      int64_t g = o / Og;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = bias[o];
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t ky = 0; ky < KH; ++ky) {
              int64_t ih = oh * n.strides[0] - n.pads[0] + ky * n.dilations[0];
              if (ih < 0 || ih >= H)
                continue;
              for (int64_t kx = 0; kx < KW; ++kx) {
                int64_t iw =
                    ow * n.strides[1] - n.pads[1] + kx * n.dilations[1];
                if (iw < 0 || iw >= W)
                  continue;
                acc += double(x[((b * C + g * Cg + c) * H + ih) * W + iw]) *
                       w[((o * Cg + c) * KH + ky) * KW + kx];
              }
            }
          out[((b * O + o) * OH + oh) * OW + ow] = float(acc);
        }
    }
}

/// Max or average pooling, NCHW. Padding never wins the max; the average
/// divides by the window (count_include_pad) or by its part inside the
/// input.
void pool2d(const GraphNode &n, const Shape &xs, const std::vector<float> &x,
            const Shape &os, std::vector<float> &out) {
  int64_t NC = xs[0] * xs[1], H = xs[2], W = xs[3], OH = os[2], OW = os[3];
  bool isMax = n.kind == NodeKind::MaxPool;
  for (int64_t p = 0; p < NC; ++p)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        int64_t h0 = oh * n.strides[0] - n.pads[0];
        int64_t w0 = ow * n.strides[1] - n.pads[1];
        double acc = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
        int64_t inside = 0;
        for (int64_t ih = std::max<int64_t>(h0, 0);
             ih < std::min(h0 + n.kernel[0], H); ++ih)
          for (int64_t iw = std::max<int64_t>(w0, 0);
               iw < std::min(w0 + n.kernel[1], W); ++iw) {
            float v = x[(p * H + ih) * W + iw];
            acc = isMax ? std::max(acc, double(v)) : acc + v;
            ++inside;
          }
        if (!isMax) {
          // The window clipped to the padded input (ceil_mode's extra end
          // padding from the importer counts like padding).
          acc /= double(n.countIncludePad ? n.kernel[0] * n.kernel[1]
                                          : std::max<int64_t>(inside, 1));
        }
        out[(p * OH + oh) * OW + ow] = float(acc);
      }
}

} // namespace

std::map<std::string, std::vector<float>> tessera::codegen::runReference(
    const Graph &graph,
    const std::map<std::string, std::vector<float>> &inputs) {
  graph.verify();
  // Weights and inputs are read where they are (no copy); node results are
  // owned here and freed after their last reader (outputs are kept), so the
  // executor holds the live values, not every intermediate of the network
  // (a 40-layer width-768 stack: ~5 GB of intermediates and a 1.1 GB copy
  // of the weights before).
  struct Values {
    std::vector<std::vector<float>> owned;
    std::vector<const std::vector<float> *> borrowed;
    const std::vector<float> &operator[](size_t i) const {
      return borrowed[i] ? *borrowed[i] : owned[i];
    }
  } vals;
  vals.owned.resize(graph.values.size());
  vals.borrowed.assign(graph.values.size(), nullptr);
  for (size_t i = 0; i < graph.values.size(); ++i) {
    const GraphValue &v = graph.values[i];
    if (v.role == ValueRole::Weight)
      vals.borrowed[i] = &v.data;
    if (v.role != ValueRole::Input)
      continue;
    auto it = inputs.find(v.name);
    if (it == inputs.end() || int64_t(it->second.size()) != v.numElements())
      throw CodegenError("reference: input '" + v.name + "' needs " +
                         std::to_string(v.numElements()) + " values");
    vals.borrowed[i] = &it->second;
  }
  std::vector<size_t> lastUse(graph.values.size(), 0);
  for (size_t k = 0; k < graph.nodes.size(); ++k)
    for (int in : graph.nodes[k].inputs)
      if (in >= 0)
        lastUse[size_t(in)] = k;

  for (const GraphNode &n : graph.nodes) {
    const GraphValue &ov = graph.values[n.output];
    const Shape &xs = graph.values[n.inputs[0]].shape;
    const std::vector<float> &x = vals[n.inputs[0]];
    std::vector<float> &out = vals.owned[n.output];
    out.assign(size_t(ov.numElements()), 0.0f);
    switch (n.kind) {
    case NodeKind::Add:
    case NodeKind::Sub:
    case NodeKind::Mul:
    case NodeKind::Div: {
      const std::vector<float> &y = vals[n.inputs[1]];
      forEachBroadcast(
          ov.shape, broadcastStrides(xs, ov.shape),
          broadcastStrides(graph.values[n.inputs[1]].shape, ov.shape),
          [&](int64_t a, int64_t b, int64_t o) {
            out[o] = apply(n.kind, x[a], y[b]);
          });
      break;
    }
    case NodeKind::MatMul: {
      const Shape &ys = graph.values[n.inputs[1]].shape;
      int64_t m = xs[xs.size() - 2], k = xs.back(), nn = ys.back();
      Shape batch(ov.shape.begin(), ov.shape.end() - 2);
      Shape xb(xs.begin(), xs.end() - 2), yb(ys.begin(), ys.end() - 2);
      // Batch strides in units of whole matrices. OpenBLAS's sgemm
      // (row-major, FP32 accumulation; its kernels are chosen for the CPU).
      const std::vector<float> &w = vals[n.inputs[1]];
      // One thread, as the simulator's (simulator/lib/Kernels.cpp): the
      // output bits do not depend on the machine's core count.
      static const bool oneThread = (openblas_set_num_threads(1), true);
      (void)oneThread;
      auto gemm = [&](const float *a, const float *b, float *c) {
        if (m == 0 || nn == 0)
          return;
        if (k == 0) {
          std::fill(c, c + m * nn, 0.0f);
          return;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(nn),
                    int(k), 1.0f, a, int(k), b, int(nn), 0.0f, c, int(nn));
      };
      if (batch.empty()) {
        gemm(x.data(), w.data(), out.data());
        break;
      }
      forEachBroadcast(batch, broadcastStrides(xb, batch),
                       broadcastStrides(yb, batch),
                       [&](int64_t a, int64_t b, int64_t o) {
                         gemm(x.data() + a * m * k, w.data() + b * k * nn,
                              out.data() + o * m * nn);
                       });
      break;
    }
    case NodeKind::FusedMatMul: {
      // The group's ops in FP32, in their order: layernorm of a's rows,
      // the product, + bias, GELU, + residual.
      const Shape &ys = graph.values[n.inputs[1]].shape;
      int64_t k = ys[0], nn = ys[1], m = int64_t(x.size()) / k;
      std::vector<float> a = x;
      size_t next = 2;
      if (n.layerNormPrologue) {
        const float *scale = vals[n.inputs[next]].data(),
                    *bias = vals[n.inputs[next + 1]].data();
        next += 2;
        for (int64_t r = 0; r < m; ++r) {
          float *row = a.data() + r * k;
          double mean = 0, var = 0;
          for (int64_t i = 0; i < k; ++i)
            mean += row[i];
          mean /= k;
          for (int64_t i = 0; i < k; ++i)
            var += (row[i] - mean) * (row[i] - mean);
          var /= k;
          float inv = float(1.0 / std::sqrt(var + n.epsilon));
          for (int64_t i = 0; i < k; ++i)
            row[i] = float(row[i] - mean) * inv * scale[i] + bias[i];
        }
      }
      if (m > 0 && nn > 0 && k > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(nn),
                    int(k), 1.0f, a.data(), int(k), vals[n.inputs[1]].data(),
                    int(nn), 0.0f, out.data(), int(nn));
      if (n.biasEpilogue) {
        const float *bias = vals[n.inputs[next++]].data();
        for (int64_t i = 0; i < m * nn; ++i)
          out[i] += bias[i % nn];
      }
      if (n.geluEpilogue) {
        const float c = std::sqrt(2.0f / 3.14159265358979f);
        for (float &v : out)
          v = n.tanhGelu
                  ? 0.5f * v *
                        (1.0f + std::tanh(c * (v + 0.044715f * v * v * v)))
                  : 0.5f * v * (1.0f + std::erf(v / std::sqrt(2.0f)));
      }
      if (n.residualEpilogue) {
        const std::vector<float> &r = vals[n.inputs[next++]];
        for (size_t i = 0; i < out.size(); ++i)
          out[i] += r[i];
      }
      break;
    }
    case NodeKind::Attention: {
      // softmax(scale * Q_h K_h^T) V_h per batch and head in FP32, as the
      // unfused graph computes it: the two products by sgemm straight from
      // q/k/v through their layouts (row strides as leading dimensions),
      // the softmax with its row sums in double.
      int64_t B = ov.shape[0], sq = ov.shape[1], D = ov.shape[2];
      int64_t sk = n.seqK, hd = D / n.heads;
      auto at = [&](int i, int64_t b) {
        const std::vector<int64_t> &l = n.qkvLayout[i];
        return vals[n.inputs[i]].data() + l[0] + b * l[1];
      };
      auto rowStride = [&](int i) { return int(n.qkvLayout[i][2]); };
      std::vector<float> p(size_t(sq * sk));
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < n.heads; ++h) {
          if (sq == 0 || sk == 0 || hd == 0)
            break;
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(sq), int(sk),
                      int(hd), n.scale, at(0, b) + h * hd, rowStride(0),
                      at(1, b) + h * hd, rowStride(1), 0.0f, p.data(), int(sk));
          for (int64_t i = 0; i < sq; ++i) {
            float *row = p.data() + i * sk;
            float mx = *std::max_element(row, row + sk);
            double sum = 0;
            for (int64_t j = 0; j < sk; ++j)
              sum += row[j] = std::exp(row[j] - mx);
            float inv = float(1.0 / sum);
            for (int64_t j = 0; j < sk; ++j)
              row[j] *= inv;
          }
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(sq),
                      int(hd), int(sk), 1.0f, p.data(), int(sk),
                      at(2, b) + h * hd, rowStride(2), 0.0f,
                      out.data() + b * sq * D + h * hd, int(D));
        }
      break;
    }
    case NodeKind::LayerNorm:
    case NodeKind::Softmax: {
      // Rows over the trailing axes from `axis` (softmax: the one axis,
      // walked with its stride).
      int64_t inner = 1, len = 1;
      for (size_t d = n.axis + 1; d < xs.size(); ++d)
        inner *= xs[d];
      len = xs[n.axis];
      if (n.kind == NodeKind::LayerNorm) {
        len *= inner;
        inner = 1;
      }
      int64_t outer = ov.numElements() / (len * inner);
      const float *scale =
          n.kind == NodeKind::LayerNorm ? vals[n.inputs[1]].data() : nullptr;
      const float *bias =
          n.kind == NodeKind::LayerNorm ? vals[n.inputs[2]].data() : nullptr;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t in = 0; in < inner; ++in) {
          const float *row = x.data() + o * len * inner + in;
          float *dst = out.data() + o * len * inner + in;
          if (n.kind == NodeKind::LayerNorm) {
            double mean = 0, var = 0;
            for (int64_t i = 0; i < len; ++i)
              mean += row[i];
            mean /= len;
            for (int64_t i = 0; i < len; ++i)
              var += (row[i] - mean) * (row[i] - mean);
            var /= len;
            float inv = float(1.0 / std::sqrt(var + n.epsilon));
            for (int64_t i = 0; i < len; ++i)
              dst[i] = float(row[i] - mean) * inv * scale[i] + bias[i];
          } else {
            float mx = row[0];
            for (int64_t i = 1; i < len; ++i)
              mx = std::max(mx, row[i * inner]);
            double sum = 0;
            for (int64_t i = 0; i < len; ++i)
              sum += dst[i * inner] = std::exp(row[i * inner] - mx);
            for (int64_t i = 0; i < len; ++i)
              dst[i * inner] = float(dst[i * inner] / sum);
          }
        }
      break;
    }
    case NodeKind::Erf:
      for (size_t i = 0; i < x.size(); ++i)
        out[i] = std::erf(x[i]);
      break;
    case NodeKind::Gelu:
      if (n.tanhGelu) {
        const float k = std::sqrt(2.0f / 3.14159265358979f);
        for (size_t i = 0; i < x.size(); ++i)
          out[i] =
              0.5f * x[i] *
              (1.0f + std::tanh(k * (x[i] + 0.044715f * x[i] * x[i] * x[i])));
        break;
      }
      for (size_t i = 0; i < x.size(); ++i)
        out[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] / std::sqrt(2.0f)));
      break;
    case NodeKind::Pow:
      for (size_t i = 0; i < x.size(); ++i)
        out[i] = std::pow(x[i], n.exponent);
      break;
    case NodeKind::Sqrt:
      for (size_t i = 0; i < x.size(); ++i)
        out[i] = std::sqrt(x[i]);
      break;
    case NodeKind::Neg:
      for (size_t i = 0; i < x.size(); ++i)
        out[i] = -x[i];
      break;
    case NodeKind::Tanh:
      for (size_t i = 0; i < x.size(); ++i)
        out[i] = std::tanh(x[i]);
      break;
    case NodeKind::Slice: {
      // Output element i reads input offsets + i * steps.
      std::vector<int64_t> inStride(xs.size(), 1), strides(xs.size());
      for (size_t d = xs.size() - 1; d-- > 0;)
        inStride[d] = inStride[d + 1] * xs[d + 1];
      int64_t base = 0;
      for (size_t d = 0; d < xs.size(); ++d) {
        base += n.offsets[d] * inStride[d];
        strides[d] = inStride[d] * n.steps[d];
      }
      forEachBroadcast(
          ov.shape, strides, strides,
          [&](int64_t a, int64_t, int64_t o) { out[o] = x[base + a]; });
      break;
    }
    case NodeKind::Concat: {
      int64_t outer = 1;
      for (int64_t d = 0; d < n.axis; ++d)
        outer *= ov.shape[d];
      int64_t pos = 0, rowLen = ov.numElements() / outer;
      for (int in : n.inputs) {
        const std::vector<float> &src = vals[in];
        int64_t block = int64_t(src.size()) / outer;
        for (int64_t o = 0; o < outer; ++o)
          std::copy(src.begin() + o * block, src.begin() + (o + 1) * block,
                    out.begin() + o * rowLen + pos);
        pos += block;
      }
      break;
    }
    case NodeKind::ReduceSum:
    case NodeKind::ReduceMean:
    case NodeKind::ReduceMax: {
      // Output strides seen from the input's shape (0 on reduced axes).
      std::vector<int64_t> keep(xs);
      int64_t count = 1;
      for (int64_t a : n.axes) {
        keep[a] = 1;
        count *= xs[a];
      }
      std::vector<int64_t> zero(xs.size(), 0);
      std::vector<int64_t> os = broadcastStrides(keep, xs);
      std::vector<double> acc(out.size(),
                              n.kind == NodeKind::ReduceMax ? -INFINITY : 0.0);
      forEachBroadcast(xs, os, zero, [&](int64_t o, int64_t, int64_t i) {
        acc[o] = n.kind == NodeKind::ReduceMax ? std::max(acc[o], double(x[i]))
                                               : acc[o] + x[i];
      });
      for (size_t i = 0; i < out.size(); ++i)
        out[i] =
            float(n.kind == NodeKind::ReduceMean ? acc[i] / count : acc[i]);
      break;
    }
    case NodeKind::Transpose: {
      // Input strides permuted into output order.
      size_t rank = xs.size();
      std::vector<int64_t> inStride(rank, 1), strides(rank);
      for (size_t d = rank - 1; d-- > 0;)
        inStride[d] = inStride[d + 1] * xs[d + 1];
      for (size_t d = 0; d < rank; ++d)
        strides[d] = inStride[n.perm[d]];
      forEachBroadcast(ov.shape, strides, strides,
                       [&](int64_t a, int64_t, int64_t o) { out[o] = x[a]; });
      break;
    }
    case NodeKind::Reshape:
    case NodeKind::Convert: // Integers in f32; the FP16 rounding is the chip's.
      out = x;
      break;
    // CNN and miscellaneous ops.
    case NodeKind::Conv:
      conv2d(n, xs, x, graph.values[n.inputs[1]].shape, vals[n.inputs[1]],
             vals[n.inputs[2]], ov.shape, out);
      break;
    case NodeKind::MaxPool:
    case NodeKind::AvgPool:
      pool2d(n, xs, x, ov.shape, out);
      break;
    case NodeKind::Relu:
    case NodeKind::Sigmoid:
    case NodeKind::HardSwish:
    case NodeKind::HardSigmoid:
    case NodeKind::Clip:
      for (size_t i = 0; i < x.size(); ++i)
        out[i] = activation(n, x[i]);
      break;
    case NodeKind::Embedding: {
      const Shape &ts = xs;
      int64_t rows = ts[0], width = 1;
      for (size_t d = 1; d < ts.size(); ++d)
        width *= ts[d];
      const std::vector<float> &idx = vals[n.inputs[1]];
      for (size_t i = 0; i < idx.size(); ++i) {
        float f = idx[i];
        if (!(f == std::floor(f)) || f < -float(rows) || f >= float(rows))
          throw CodegenError("reference: embedding '" + n.name + "': index " +
                             std::to_string(f) + " is not an integer in [" +
                             std::to_string(-rows) + ", " +
                             std::to_string(rows) + ")");
        int64_t r = int64_t(f) < 0 ? int64_t(f) + rows : int64_t(f);
        std::copy(x.begin() + r * width, x.begin() + (r + 1) * width,
                  out.begin() + i * width);
      }
      break;
    }
    case NodeKind::Equal: {
      const std::vector<float> &y = vals[n.inputs[1]];
      forEachBroadcast(
          ov.shape, broadcastStrides(xs, ov.shape),
          broadcastStrides(graph.values[n.inputs[1]].shape, ov.shape),
          [&](int64_t a, int64_t b, int64_t o) {
            out[o] = x[a] == y[b] ? 1.0f : 0.0f;
          });
      break;
    }
    case NodeKind::Where: {
      // Pick the branch first (cond and a broadcast), then read b.
      const std::vector<float> &a = vals[n.inputs[1]], &b = vals[n.inputs[2]];
      std::vector<float> pick(out.size());
      forEachBroadcast(
          ov.shape, broadcastStrides(xs, ov.shape),
          broadcastStrides(graph.values[n.inputs[1]].shape, ov.shape),
          [&](int64_t c, int64_t ai, int64_t o) {
            pick[o] = x[c];
            out[o] = a[ai];
          });
      forEachBroadcast(
          ov.shape, broadcastStrides(graph.values[n.inputs[2]].shape, ov.shape),
          broadcastStrides(graph.values[n.inputs[2]].shape, ov.shape),
          [&](int64_t bi, int64_t, int64_t o) {
            if (pick[o] == 0.0f)
              out[o] = b[bi];
          });
      break;
    }
    case NodeKind::Expand: {
      std::vector<int64_t> st = broadcastStrides(xs, ov.shape);
      forEachBroadcast(ov.shape, st, st,
                       [&](int64_t a, int64_t, int64_t o) { out[o] = x[a]; });
      break;
    }
    }
    size_t k = size_t(&n - graph.nodes.data());
    for (int in : n.inputs)
      if (in >= 0 && lastUse[size_t(in)] == k &&
          graph.values[size_t(in)].role != ValueRole::Output)
        std::vector<float>().swap(vals.owned[size_t(in)]);
  }

  std::map<std::string, std::vector<float>> result;
  for (size_t i = 0; i < graph.values.size(); ++i)
    if (graph.values[i].role == ValueRole::Output)
      result[graph.values[i].name] = vals[i];
  return result;
}
