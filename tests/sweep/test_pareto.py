#!/usr/bin/python3
"""Unit test of pareto_front() in scripts/sweep_plots.py on known sets.

Usage: test_pareto.py SOURCE_DIR
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(sys.argv.pop(1), "scripts"))
from sweep_plots import pareto_front  # noqa: E402


def front(points):
    return sorted(pareto_front(points))


class ParetoFront(unittest.TestCase):
    def test_known_set(self):
        # (area, latency), both minimized. Worked by hand:
        #   0 (1, 9)  on: smallest area
        #   1 (2, 7)  on
        #   2 (3, 8)  off: 1 is smaller and faster
        #   3 (4, 4)  on
        #   4 (5, 4)  off: 3 has the same latency with less area
        #   5 (6, 2)  on
        #   6 (7, 3)  off: beaten by 5
        #   7 (9, 1)  on: fastest
        pts = [(1, 9), (2, 7), (3, 8), (4, 4), (5, 4), (6, 2), (7, 3), (9, 1)]
        self.assertEqual(front(pts), [0, 1, 3, 5, 7])

    def test_order_does_not_matter(self):
        pts = [(9, 1), (3, 8), (1, 9), (6, 2), (4, 4), (2, 7), (7, 3), (5, 4)]
        self.assertEqual(sorted(pts[i] for i in pareto_front(pts)),
                         [(1, 9), (2, 7), (4, 4), (6, 2), (9, 1)])

    def test_ties(self):
        # Equal x: only the faster one; exact duplicates both stay.
        self.assertEqual(front([(1, 5), (1, 3), (2, 1)]), [1, 2])
        self.assertEqual(front([(1, 3), (1, 3), (2, 4)]), [0, 1])
        # Equal y at larger x is dominated.
        self.assertEqual(front([(1, 3), (2, 3)]), [0])

    def test_single_and_empty(self):
        self.assertEqual(front([(5, 5)]), [0])
        self.assertEqual(front([]), [])

    def test_dominating_point(self):
        self.assertEqual(front([(3, 3), (1, 1), (2, 5), (5, 2)]), [1])

    def test_against_brute_force(self):
        import random
        rng = random.Random(7)
        for _ in range(200):
            pts = [(rng.randint(0, 6), rng.randint(0, 6))
                   for _ in range(rng.randint(1, 12))]
            brute = [i for i, (x, y) in enumerate(pts)
                     if not any(a <= x and b <= y and (a < x or b < y)
                                for a, b in pts)]
            self.assertEqual(front(pts), brute, pts)


if __name__ == "__main__":
    unittest.main()
