"""Tests for gradcheck_cli.rounding.raw: the shortcuts give mpmath's own
results (mpf_mul, mpf_abs, mpf_gt at M's precision), bit for bit."""

import random

import pytest
from mpmath.libmp import finf, fnan, fninf, fzero, mpf_abs, mpf_gt, mpf_mul

from gradcheck_cli.rounding import raw
from gradcheck_cli.rounding.raw import M, raw_mul


def values(seed: int) -> list[tuple]:
    """Raw values of M: powers of two (either sign), 200-bit products, floats, 0, inf, NaN."""
    rng = random.Random(seed)
    out = [fzero, finf, fninf, fnan]
    for _ in range(12):
        out.append((M.mpf(2) ** rng.randint(-300, 300) * rng.choice([1, -1]))._mpf_)
        out.append(M.mpf(rng.uniform(-1e3, 1e3))._mpf_)
        out.append((M.mpf(rng.uniform(-2, 2)) / 3 * M.pi)._mpf_)  # all 200 bits
    return out


@pytest.mark.parametrize("seed", range(5))
def test_raw_mul_is_mpf_mul(seed):
    xs = values(seed)
    for a in xs:
        for b in xs:
            assert raw_mul(a, b) == mpf_mul(a, b, M.prec, "n")
            assert raw.times(a, b) == mpf_mul(a, b, M.prec, "n")


def test_raw_mul_rounds_a_factor_wider_than_the_precision():
    wide = (0, 2**250 + 1, -250, 251)  # 251 bits: mpf_mul rounds it to 200
    two = M.mpf(2)._mpf_
    assert raw_mul(two, wide) == mpf_mul(two, wide, M.prec, "n") != (0, 2**250 + 1, -249, 251)


@pytest.mark.parametrize("seed", range(5))
def test_beyond_is_the_comparison_of_the_magnitude(seed):
    for fmax in (M.mpf(3.4028234663852886e38)._mpf_, M.mpf(65504.0)._mpf_):
        near = [M.mpf(3.4028234663852886e38)._mpf_, M.mpf(65504.0)._mpf_, M.mpf(65505)._mpf_]
        for v in values(seed) + near + [(1, 1, 128, 1), (0, 3, 127, 2)]:
            assert raw.beyond(v, fmax) == mpf_gt(mpf_abs(v, M.prec, "n"), fmax)
