import pytest
import torch
from typer.testing import CliRunner

from gradcheck_cli.cli import app
from gradcheck_cli.pipeline import check

TUTORIAL = {
    "x": -0.6013928055763245,
    "y": -1.0122097730636597,
    "w": 0.6613521575927734,
    "b": 0.266924113035202,
}


@pytest.fixture(scope="session")
def tutorial():
    """The seed tutorial's run: gradcheck "w*x+b" --loss mse --seed 1."""
    return check("w*x+b", loss="mse", seed=1)


def gradcheck(*args, input=None):
    """Run the command line in this process (no torch import per call): a click Result with
    ``exit_code``, ``stdout`` and ``stderr`` kept apart (typer's CliRunner; ``output`` mixes
    them). Exceptions other than SystemExit are re-raised, so a bug shows its traceback."""
    return CliRunner().invoke(
        app,
        [str(a) for a in args],
        input=input,
        prog_name="gradcheck",
        catch_exceptions=False,
        env={"NO_COLOR": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "COLUMNS": None},
    )


pytest_plugins = ["pytester"]  # tests/test_pytest_plugin.py runs pytest in temporary projects


def scaled_exp(factor: float):
    """torch.exp whose backward is multiplied by ``factor``: a wrong gradient for the tests
    (plugged in through ``check(..., lowerings={"exp": scaled_exp(1.001)})``)."""

    class ScaledExp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = torch.exp(x)
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad):
            (result,) = ctx.saved_tensors
            return grad * result * factor

    return ScaledExp.apply


def scaled_tanh(factor: float):
    """torch.tanh whose backward is multiplied by ``factor``."""

    class ScaledTanh(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = torch.tanh(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * (1 - y * y) * factor

    return ScaledTanh.apply
