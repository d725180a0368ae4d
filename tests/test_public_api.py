import importlib

import hotspots


def test_every_public_name_resolves():
    for name in hotspots.__all__:
        assert getattr(hotspots, name) is not None, name


def test_public_names_come_from_their_modules():
    assert hotspots.find_spots is importlib.import_module("hotspots.spots").find_spots
    assert hotspots.knox_test is importlib.import_module("hotspots.nearrepeat").knox_test


def test_subpackages_state_all():
    for mod in ("ingest", "harm", "spots", "nearrepeat", "cocoon", "evaluate", "outputs", "demo"):
        module = importlib.import_module(f"hotspots.{mod}")
        for name in module.__all__:
            assert hasattr(module, name), f"hotspots.{mod}.{name}"


def test_all_matches_the_lazy_table():
    assert sorted(hotspots.__all__) == sorted(["__version__", *hotspots._PUBLIC])
