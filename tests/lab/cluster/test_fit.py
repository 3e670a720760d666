"""services/cluster/fitted.py is what the fitting script writes: written from the numbers it
holds, it comes out byte for byte the same (so a fit that gives the same numbers changes
nothing, and a hand edit shows here)."""

from lab.cluster.fit import FITTED_PATH, fitted_module, fitted_values
from services.cluster.compiled import SOURCE_DIR
from services.cluster.config import ClusterConfig


def test_the_fitted_module_is_the_one_the_fit_writes() -> None:
    checked_in = (SOURCE_DIR / "fitted.py").read_text(encoding="utf-8")
    assert FITTED_PATH == SOURCE_DIR / "fitted.py"
    assert fitted_module(fitted_values(ClusterConfig())) == checked_in
    assert checked_in.startswith("# written by `python -m lab.cluster.fit --write`")


def test_other_numbers_make_another_module() -> None:
    assert fitted_module(fitted_values(ClusterConfig(join_threshold=-2.0))) != (
        SOURCE_DIR / "fitted.py"
    ).read_text(encoding="utf-8")
