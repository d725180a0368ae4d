"""Nothing on a path imports what it does not use (issue 15): checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# dask: only --engine dask imports it (the default install does not have it)
HEAVY = ("sklearn", "scipy.stats", "matplotlib", "folium", "dask", "distributed", "dask_geopandas")


def loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    mods = set(json.loads(out.stdout.strip().splitlines()[-1]))
    return [m for m in HEAVY if m in mods]


@pytest.mark.parametrize(
    "module",
    [
        "hotspots.spots",
        "hotspots.evaluate",
        "hotspots.nearrepeat",
        "hotspots.cocoon",
        "hotspots.outputs",
        "hotspots.pipeline",
        "hotspots.national",
        "hotspots.engine",
        "hotspots.cli",
    ],
)
def test_stage_packages_load_no_heavy_optional_stack(module):
    assert loaded_after(f"import {module}") == []


def test_estimator_contract_without_scikit_learn():
    code = (
        "from hotspots.spots import HarmSpotClusterer\n"
        "c = HarmSpotClusterer(eps_m=100.0)\n"
        "assert c.get_params()['eps_m'] == 100.0\n"
        "assert c.set_params(min_harm=5.0).min_harm == 5.0\n"
        "assert repr(c) == 'HarmSpotClusterer(eps_m=100.0, min_harm=5.0)', repr(c)"
    )
    assert loaded_after(code) == []


def test_scikit_learn_clone_accepts_the_estimator():
    base = pytest.importorskip("sklearn.base")
    from hotspots.errors import OptionError
    from hotspots.spots import HarmSpotClusterer

    est = HarmSpotClusterer(eps_m=80.0, min_harm=3.0)
    copy = base.clone(est)
    assert copy is not est
    assert copy.get_params() == est.get_params()
    with pytest.raises(OptionError, match="has no parameter 'radius'; valid: "):
        est.set_params(radius=3)


def test_gistar_analytic_p_is_the_normal_upper_tail():
    import numpy as np
    from scipy import stats

    from hotspots.spots import gi_star_grid

    vals = np.array([[0.0, 1.0, 2.0], [3.0, 40.0, 1.0], [0.0, 2.0, 1.0]])
    iy, ix = np.nonzero(np.ones_like(vals))
    res = gi_star_grid(ix, iy, vals[iy, ix], permutations=0)
    np.testing.assert_allclose(res.p_value, stats.norm.sf(res.z), rtol=1e-12)


def test_import_linter_contracts_are_kept():
    from pathlib import Path

    exe = Path(sys.executable).parent / "lint-imports"
    if not exe.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [str(exe), "--no-cache", "--no-logo"],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-3000:]
    assert "0 broken" in out.stdout


def test_ci_runs_the_gates_before_the_tests_in_order():
    from pathlib import Path

    script = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    steps = [
        "pip install -q -e '.[test]'",
        ".venv/bin/lint-imports",
        ".venv/bin/ruff check",
        ".venv/bin/ruff format --check",
        ".venv/bin/mypy src",
        ".venv/bin/python -m pytest -q",
    ]
    at = [script.index(s) for s in steps]
    assert at == sorted(at)
    assert "|| true" not in script


def test_every_top_level_module_sits_in_a_layer():
    import pkgutil
    import re
    import tomllib
    from pathlib import Path

    import hotspots

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    placed = {name for layer in layers for name in re.split(r"\s*[|:]\s*", layer)}
    modules = {m.name for m in pkgutil.iter_modules(hotspots.__path__)} - {"__main__"}
    assert modules - placed == set(), "place new modules in a layer in pyproject.toml"
