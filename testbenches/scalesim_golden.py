#!/usr/bin/env python3
"""Regenerates the SCALE-Sim v2 golden table of testbenches/matrix_unit_tb.cpp.

SCALE-Sim v2 (github.com/scalesim-project/scale-sim-v2) times a GEMM by
building, per operand, a demand matrix with one row per cycle (fill, skew,
stream and drain of every fold, folds back to back). The number of rows is
the layer's compute cycles. This script builds those matrices with
SCALE-Sim's own classes for an M x K x N GEMM (ifmap M x K, filter K x N,
ofmap M x N) and prints one table row per shape and array:
{R, C, M, K, N, weight_stationary_cycles, output_stationary_cycles}.

Usage: /usr/bin/python3 testbenches/scalesim_golden.py /path/to/scale-sim-v2
(needs numpy; SCALE-Sim's progress bars are stubbed out).
"""
import math
import sys
import types

import numpy as np

sys.path.insert(0, sys.argv[1])
tqdm = types.ModuleType("tqdm")


class _NoBar:
    def __init__(self, *args, **kwargs):
        pass

    def update(self, *args):
        pass

    def close(self):
        pass


tqdm.tqdm = _NoBar
sys.modules.setdefault("tqdm", tqdm)

from scalesim.compute.systolic_compute_os import systolic_compute_os  # noqa
from scalesim.compute.systolic_compute_ws import systolic_compute_ws  # noqa


class ArrayConfig:
    def __init__(self, rows, cols):
        self.rows, self.cols = rows, cols

    def get_array_dims(self):
        return self.rows, self.cols


def cycles(compute, m, k, n, rows, cols):
    ifmap = np.arange(m * k).reshape(m, k)
    filt = np.arange(k * n).reshape(k, n) + 10**7
    ofmap = np.arange(m * n).reshape(m, n) + 2 * 10**7
    c = compute()
    c.set_params(config_obj=ArrayConfig(rows, cols), ifmap_op_mat=ifmap,
                 ofmap_op_mat=ofmap, filter_op_mat=filt)
    c.create_demand_matrices()
    lengths = {c.ifmap_demand_matrix.shape[0], c.filter_demand_matrix.shape[0],
               c.ofmap_demand_matrix.shape[0]}
    assert len(lengths) == 1, lengths
    return lengths.pop()


ARRAYS = [(4, 4), (8, 16), (96, 96)]
SHAPES = [(1, 1, 1), (4, 4, 4), (1, 96, 96), (1, 200, 50), (3, 9, 17),
          (100, 200, 50), (96, 96, 96), (97, 97, 97), (5, 300, 7),
          (128, 768, 96)]
for r, c in ARRAYS:
    for m, k, n in SHAPES:
        ws = cycles(systolic_compute_ws, m, k, n, r, c)
        os_ = cycles(systolic_compute_os, m, k, n, r, c)
        # The closed forms of docs/timing-model.md, compatible mode.
        assert ws == math.ceil(k / r) * math.ceil(n / c) * (2 * r + c + m - 2)
        assert os_ == math.ceil(m / r) * math.ceil(n / c) * (r + c + k - 2)
        print("        {%d, %d, %d, %d, %d, %d, %d}," % (r, c, m, k, n, ws, os_))
