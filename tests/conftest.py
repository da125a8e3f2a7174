import pytest

from gradcheck_cli.core import check

TUTORIAL = {"x": -0.6013928055763245, "y": -1.0122097730636597,
            "w": 0.6613521575927734, "b": 0.266924113035202}


@pytest.fixture(scope="session")
def tutorial():
    """The seed tutorial's run: gradcheck "w*x+b" --loss mse --seed 1."""
    return check("w*x+b", loss="mse", seed=1)


pytest_plugins = ["pytester"]  # tests/test_pytest_plugin.py runs pytest in temporary projects
