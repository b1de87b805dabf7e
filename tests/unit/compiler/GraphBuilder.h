//===- GraphBuilder.h - small graphs for the code generator's tests -------===//
#ifndef TESSERA_TESTS_GRAPHBUILDER_H
#define TESSERA_TESTS_GRAPHBUILDER_H

#include "tessera/Compiler/Graph.h"

#include <random>

namespace tessera::codegen::testing {

/// Builds a Graph one value and node at a time; weights get seeded values.
class GraphBuilder {
public:
  explicit GraphBuilder(uint32_t seed = 1) : rng(seed) {}

  int input(const std::string &name, std::vector<int64_t> shape) {
    return g.addValue({name, std::move(shape), ValueRole::Input, {}});
  }
  int weight(const std::string &name, std::vector<int64_t> shape) {
    GraphValue v{name, std::move(shape), ValueRole::Weight, {}};
    v.data = random(v.numElements());
    return g.addValue(std::move(v));
  }
  int constant(const std::string &name, float value) {
    return g.addValue({name, {}, ValueRole::Weight, {value}});
  }
  int node(NodeKind kind, const std::string &name, std::vector<int> inputs,
           std::vector<int64_t> shape) {
    GraphNode n;
    n.kind = kind;
    n.name = name;
    n.inputs = std::move(inputs);
    n.output =
        g.addValue({name, std::move(shape), ValueRole::Intermediate, {}});
    g.nodes.push_back(n);
    return n.output;
  }
  GraphNode &last() { return g.nodes.back(); }
  void output(int v, const std::string &name) {
    g.values[v].role = ValueRole::Output;
    g.values[v].name = name;
  }
  std::vector<float> random(int64_t n) {
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (float &x : v)
      x = d(rng);
    return v;
  }
  /// Seeded values for every input.
  std::map<std::string, std::vector<float>> inputs() {
    std::map<std::string, std::vector<float>> m;
    for (const GraphValue &v : g.values)
      if (v.role == ValueRole::Input)
        m[v.name] = random(v.numElements());
    return m;
  }

  Graph g;

private:
  std::mt19937 rng;
};

} // namespace tessera::codegen::testing

#endif
