"""The host's discrete Gaussian (the oracle's, and the device's twin): its distribution against the exact mass
function, the tails of its parts out past 6σ, and the ChaCha20 stream the device draws from."""

import math

import numpy as np
import pytest

from edgeleak.train.dgauss import ChaChaWords, GeneratorWords, bern_exp, discrete_gaussian_vector, discrete_laplace, uniform


def _within(observed: int, trials: int, p: float) -> bool:
    mean = trials * p
    return abs(observed - mean) <= 5 * math.sqrt(mean * (1 - p)) + 1


def test_the_word_stream_is_the_devices_chacha20():
    words = ChaChaWords(1234)  # firmware test_train.c: the same seed gives these first words
    assert (words.u32(), words.u32()) == (0xD218D15B, 0x5B3BA573)


@pytest.mark.parametrize("num,den,trials", [(1, 2, 100_000), (1, 1, 100_000), (8, 1, 400_000), (25, 2, 2_000_000)])
def test_bernoulli_exp_has_the_exact_rate_into_the_tail(num, den, trials):
    words = GeneratorWords(np.random.default_rng(num))
    hits = sum(bern_exp(words, num, den) for _ in range(trials))
    assert _within(hits, trials, math.exp(-num / den))  # exp(-12.5): the acceptance of a draw at 6σ


def test_discrete_laplace_reaches_six_sigma_as_often_as_it_should():
    t, m, n = 2049, 6 * 2048, 100_000
    words = GeneratorWords(np.random.default_rng(5))
    beyond = sum(abs(discrete_laplace(words, t)) >= m for _ in range(n))
    q = math.exp(-1 / t)
    assert _within(beyond, n, 2 * q ** m / (1 + q))


@pytest.mark.parametrize("s", [1, 3, 2048])
def test_discrete_gaussian_matches_its_mass_function(s):
    n = 200_000
    draws = discrete_gaussian_vector(GeneratorWords(np.random.default_rng(s)), s, n)
    support = np.arange(-13 * s, 13 * s + 1)
    mass = np.exp(-support.astype(float) ** 2 / (2 * s * s))
    mass /= mass.sum()
    variance = float(np.sum(mass * support.astype(float) ** 2))
    fourth = float(np.sum(mass * support.astype(float) ** 4))
    assert abs(draws.mean()) < 5 * math.sqrt(variance / n)
    assert abs(np.mean(draws.astype(float) ** 2) / variance - 1) < 5 * math.sqrt(2 / n)
    assert abs(np.mean(draws.astype(float) ** 4) / fourth - 1) < 0.03
    width = max(1, s // 2)
    edges = np.arange(-6 * s - width / 2, 6 * s + width, width)
    expected = np.histogram(support, edges, weights=mass)[0] * n
    observed = np.histogram(draws, edges)[0]
    keep = expected >= 5
    chi2 = float(np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep]))
    assert chi2 < keep.sum() + 6 * math.sqrt(2 * keep.sum())
    for k in (3, 4):
        assert _within(int(np.sum(np.abs(draws) >= k * s)), n, float(mass[np.abs(support) >= k * s].sum()))


def test_uniform_covers_its_range_without_bias():
    words = GeneratorWords(np.random.default_rng(1))
    counts = np.bincount([uniform(words, 6) for _ in range(60_000)], minlength=6)
    assert counts.min() > 9_500 and counts.max() < 10_500
    assert all(0 <= uniform(words, 3 << 32) < 3 << 32 for _ in range(1000))
