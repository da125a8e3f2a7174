"""The floating-point formats gradcheck works in: one record per dtype, standard library only.

``DTYPES`` is the one table of supported dtypes; the ``--dtype`` choices come from its keys.
"""

from __future__ import annotations

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


DTYPES: dict[str, DType] = {
    d.name: d
    for d in (
        DType("float32", 24, 2.0**-24, 2.0**-149, (2 - 2.0**-23) * 2.0**127, "float32"),
        DType("float64", 53, 2.0**-53, 2.0**-1074, (2 - 2.0**-52) * 2.0**1023, "float64"),
    )
}
