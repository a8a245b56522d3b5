#!/usr/bin/python3
# Independent NumPy implementation of TensorRT's entropy calibration, as specified in
# src/quant/kl_observer.h (steps 3-4), on the deterministic histograms that observer_test.cc builds.
# Its printed thresholds are recorded in observer_test.cc (KlThreshold.MatchesNumpyReference).
# Run: /usr/bin/python3 tests/quant/kl_reference.py
import numpy as np


def histogram(kind):
    i = np.arange(2048, dtype=np.float64)
    if kind == "exponential":
        h = np.floor(1e5 * np.exp(-i / 150.0)) + np.where((i * 37) % 11 == 0, 5.0, 0.0)
        h[1500:] = 0.0
        h[1900] = 3.0  # a few far outliers
        return h
    if kind == "zero_spike":  # post-Relu with padding: most values exactly 0
        h = np.floor(2e4 * np.exp(-i / 300.0))
        h[0] = 5e7
        h[1800:] = 0.0
        return h
    if kind == "gaussian_tail":
        h = np.floor(5e4 * np.exp(-0.5 * (i / 300.0) ** 2))
        h[h < 1] = 0.0
        h[2047] = 1.0
        return h
    raise ValueError(kind)


def kl_threshold(h, occupied, width, levels):
    n = occupied
    if n < levels:
        return n * width
    h = h[:n].copy()
    if n >= 2:
        h[0] = h[1]  # the zero spike is ignored (step 3 of kl_observer.h)
    best, best_i = np.inf, n
    for i in range(levels, n + 1):
        if h[i - 1] == 0:
            continue
        p = h[:i].copy()
        p[i - 1] += h[i:n].sum()
        merged = i // levels
        q = np.zeros(i)
        for g in range(levels):
            start = g * merged
            stop = i if g == levels - 1 else start + merged
            seg = h[start:stop]
            nz = seg > 0
            if nz.any():
                q[start:stop][nz] = seg.sum() / nz.sum()
        p = p / p.sum()
        q = q / q.sum()
        m = p > 0
        kl = float(np.sum(p[m] * np.log(p[m] / q[m])))
        if kl < best:
            best, best_i = kl, i
    return (best_i + 0.5) * width


for kind, levels in (("exponential", 128), ("gaussian_tail", 128), ("exponential", 256), ("zero_spike", 256)):
    h = histogram(kind)
    occupied = int(np.nonzero(h)[0][-1]) + 1
    print(kind, levels, repr(kl_threshold(h, occupied, 0.01, levels)))
