"""The configs ship with the package: a wheel holds every conf/ yaml as ``seqtag/conf/...``,
and Hydra composes them through ``pkg://seqtag.conf`` (what every entry point uses)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

import seqtag
from seqtag.configs import CONFIG_PACKAGE, CONFIG_PATH, config_dir
from tests.conftest import CONFIG_DIR, ROOT

_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")


def _can_build_wheels_offline() -> bool:
    """--no-build-isolation uses this environment's setuptools: bdist_wheel is built in from 70.1."""
    import setuptools

    version = tuple(int(part) for part in setuptools.__version__.split(".")[:2] if part.isdigit())
    return version >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Names in a wheel built (offline, ~2 s) from a copy of the sources.

    A copy, so no stale ``build/`` of the checkout leaks into the wheel and the
    checkout is left alone.
    """
    if not _can_build_wheels_offline():
        pytest.skip("setuptools < 70.1 without the wheel package cannot build a wheel offline")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for folder in ("seqtag", "conf"):
        shutil.copytree(ROOT / folder, src / folder, ignore=_SKIP)
    dist = tmp / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", dist, src]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = dist.glob("seqtag-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def test_wheel_ships_every_config(wheel_names: set[str]) -> None:
    expected = {f"seqtag/conf/{p.relative_to(CONFIG_DIR).as_posix()}" for p in CONFIG_DIR.rglob("*.yaml")}
    shipped = {n for n in wheel_names if n.startswith("seqtag/conf/") and n.endswith(".yaml")}
    assert expected, "no yaml found under conf/"
    assert sorted(expected - shipped) == [], "conf/ yaml missing from the wheel (pyproject package-data)"
    assert sorted(shipped - expected) == []
    # Hydra only treats pkg://seqtag.conf as available when the package has an __init__.py
    assert "seqtag/conf/__init__.py" in wheel_names


def test_wheel_ships_every_module(wheel_names: set[str]) -> None:
    # pyproject.toml lists the packages by hand (the conf/ remapping rules out packages.find)
    expected = {p.relative_to(ROOT).as_posix() for p in (ROOT / "seqtag").rglob("*.py")}
    missing = sorted(expected - wheel_names)
    assert missing == [], "add the missing package to [tool.setuptools] packages in pyproject.toml"


def test_config_package_is_the_checkouts_conf() -> None:
    assert CONFIG_PATH.removeprefix("pkg://") == CONFIG_PACKAGE
    if ROOT not in Path(seqtag.__file__).resolve().parents:
        pytest.skip("seqtag is not imported from this checkout")
    # run from the checkout (editable install): Hydra reads conf/ itself, so edits need no reinstall
    assert config_dir().resolve() == CONFIG_DIR.resolve()


def test_compose_through_the_package() -> None:
    with initialize_config_module(config_module=CONFIG_PACKAGE, version_base="1.3"):
        cfg = compose(config_name="train", overrides=["experiment=quickstart"])
    assert "quickstart" in cfg.tags


def test_user_config_dir_composes_with_shipped_groups(tmp_path: Path) -> None:
    # what `seqtag-train --config-dir my_conf experiment=mine` does: one more search path entry
    preset = tmp_path / "my_conf" / "experiment" / "mine.yaml"
    preset.parent.mkdir(parents=True)
    preset.write_text("# @package _global_\ndefaults:\n  - override /model/encoder: bigru\n\ntags: [mine]\n")
    searchpath = f"hydra.searchpath=[file://{(tmp_path / 'my_conf').as_posix()}]"
    with initialize_config_module(config_module=CONFIG_PACKAGE, version_base="1.3"):
        cfg = compose(config_name="train", overrides=[searchpath, "experiment=mine"])
        shipped = compose(config_name="train", overrides=["model/encoder=bigru"])
    assert list(cfg.tags) == ["mine"]
    assert cfg.model.encoder == shipped.model.encoder
