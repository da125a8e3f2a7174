"""The floating-point formats gradcheck works in: one record per dtype, standard library only.

``DTYPES`` is the one table of supported dtypes; the ``--dtype`` choices come from its keys.

Half precision (bfloat16, float16): torch's CPU kernels hold every tensor in the dtype, but
compute each elementwise op in float32 and round its result once to the dtype (so ``+ - *`` of
two half values are correctly rounded, and a fused kernel such as ``mse_loss`` rounds after each
of its steps), and accumulate reductions (``sum``, ``mean``, a loss's reduction) in float32,
rounding the total once: ``accumulate`` names that float32. Measured against exact arithmetic
in ``tests/test_half.py``. Values are drawn in float32 and rounded to the dtype
(``draw_as``), so a half-precision check sees the float32 check's values rounded.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class DType:
    """One IEEE 754 binary format as torch implements it."""

    name: str  # as typed on the command line and in case files
    bits: int  # precision p: significand bits, the implicit leading bit included
    unit_roundoff: float  # u = 2**-p: the largest relative error of one rounding to nearest
    tiny: float  # the smallest positive subnormal
    max: float  # the largest finite value
    torch_name: str  # getattr(torch, torch_name) is the torch dtype
    accumulate: str = ""  # the dtype CPU kernels compute and reduce in ("": this one)
    draw_as: str = ""  # the dtype values are drawn in, then rounded to this one ("": this one)

    @property
    def half(self) -> bool:
        """Whether torch computes in a wider dtype than it stores (bfloat16, float16)."""
        return bool(self.accumulate)


DTYPES: dict[str, DType] = {
    d.name: d
    for d in (
        DType("float32", 24, 2.0**-24, 2.0**-149, (2 - 2.0**-23) * 2.0**127, "float32"),
        DType("float64", 53, 2.0**-53, 2.0**-1074, (2 - 2.0**-52) * 2.0**1023, "float64"),
        DType(
            "bfloat16",
            8,
            2.0**-8,
            2.0**-133,
            (2 - 2.0**-7) * 2.0**127,
            "bfloat16",
            "float32",
            "float32",
        ),
        DType("float16", 11, 2.0**-11, 2.0**-24, 65504.0, "float16", "float32", "float32"),
    )
}


def ulp(value: float, dtype: str) -> float:
    """The spacing of ``dtype`` floats at ``value`` (the subnormal spacing near zero)."""
    value = abs(value)
    if value == 0 or math.isinf(value):
        return DTYPES[dtype].tiny
    exponent = math.frexp(value)[1] - 1  # value = m * 2^exponent, 1 <= m < 2
    return max(2.0 ** (exponent - DTYPES[dtype].bits + 1), DTYPES[dtype].tiny)


def floats_between(a: float, b: float, dtype: str) -> int:
    """How many ``dtype`` values lie between a and b (0 when equal), both ``dtype`` values."""
    if dtype == "bfloat16":  # bfloat16 is float32's upper half: 2^16 float32 steps per step
        return floats_between(a, b, "float32") >> 16
    try:  # struct, as numpy below would (0.5 us, not 30)
        return abs(_ordinal(a, dtype) - _ordinal(b, dtype))
    except OverflowError:  # an infinity's bits: numpy's
        pass
    import numpy

    kind, width = {
        "float16": (numpy.float16, numpy.int16),
        "float32": (numpy.float32, numpy.int32),
        "float64": (numpy.float64, numpy.int64),
    }[dtype]

    def ordinal(x: float) -> int:
        i = int(numpy.array(x, dtype=kind).view(width))
        return i if i >= 0 else -(i & (2 ** (8 * numpy.dtype(width).itemsize - 1) - 1))

    return abs(ordinal(a) - ordinal(b))


def _ordinal(x: float, dtype: str) -> int:
    """The position of the ``dtype`` value ``x`` among that dtype's values in order (its bits
    read as a sign-magnitude integer)."""
    real, integer, bits = _BITS[dtype]
    i = struct.unpack(integer, struct.pack(real, x))[0]
    return i if i >= 0 else -(i & (2 ** (bits - 1) - 1))


_BITS = {"float16": ("<e", "<h", 16), "float32": ("<f", "<i", 32), "float64": ("<d", "<q", 64)}
