"""Shared fixtures. Tests never reach a hub: offline mode is forced before datasets is imported."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "conf"


def _data_dir() -> Path:
    configured = os.environ.get("SEQTAG_DATA_DIR")
    return Path(configured) if configured else ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real corpora. In CI their absence is a failure; elsewhere the test is skipped."""
    path = _data_dir()
    if not (path / "conll2003" / "train.txt").is_file():
        message = f"real data not found under {path} (set SEQTAG_DATA_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def hf_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hf-cache")
