"""The package's layering: a light core (vocabularies, tasks, errors, the model file) that
imports neither Lightning nor ``datasets``; models and data on top of it; training,
prediction and the command-line tools on top of those; and no import cycles."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "seqtag"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "tagger_format1.pt"
CORE = ("seqtag", "seqtag.errors", "seqtag.vocab", "seqtag.schemes", "seqtag.casing", "seqtag.documents",
        "seqtag.tokenize", "seqtag.batch", "seqtag.registry", "seqtag.saved_model", "seqtag.format1",
        "seqtag.configs", "seqtag.tasks")
PARTS = ("seqtag.models", "seqtag.data")


def modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def layer(module: str) -> int:
    """0 core, 1 models and data, 2 training, prediction and the command line."""
    if any(module == c or module.startswith(c + ".") for c in CORE[1:]) or module == "seqtag":
        return 0
    if any(module == p or module.startswith(p + ".") for p in PARTS):
        return 1
    return 2


def imported(path: Path) -> set[str]:
    """The seqtag modules a file imports (anywhere in it, lazily or not)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("seqtag"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("seqtag"))
    return found


def run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_dependencies_point_one_way() -> None:
    """``seqtag`` itself is exempt: it holds the version, and ``seqtag.load`` imports the
    predictor only when called (the package's front door)."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if module == "seqtag":
            continue
        for target in imported(path):
            if layer(target) > layer(module):
                wrong.append(f"{module} (layer {layer(module)}) imports {target} (layer {layer(target)})")
    assert not wrong, "\n".join(wrong)


def test_the_layering_check_sees_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from seqtag.data.datamodule import DataModule\n")
    assert layer("seqtag.vocab") == 0 and layer("seqtag.data.datamodule") == 1
    assert "seqtag.data.datamodule" in imported(bad)


def test_every_module_imports_on_its_own() -> None:
    """Each module imported first, with no other seqtag module loaded: a cycle fails here."""
    code = f"""
import importlib, sys
failed = []
for name in {modules()!r}:
    for loaded in [m for m in sys.modules if m == "seqtag" or m.startswith("seqtag.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as err:
        failed.append(f"{{name}}: {{type(err).__name__}}: {{err}}")
print("\\n".join(failed))
"""
    assert run(code).strip() == ""


@pytest.mark.skipif(not FIXTURE.is_file(), reason="fixture model missing")
def test_the_core_is_light_and_loading_a_model_to_predict_does_not_import_datasets() -> None:
    """One fresh interpreter (each costs seconds): the core modules first, then a prediction."""
    code = f"""
import importlib, json, sys
for name in {CORE!r}:
    importlib.import_module(name)
heavy = sorted(m for m in ("datasets", "lightning", "pytorch_lightning") if m in sys.modules)
import seqtag
tags = seqtag.load({str(FIXTURE)!r}).predict("Peter Blackburn visited Brussels .").tags
print(json.dumps({{"core": heavy, "tags": tags, "datasets": "datasets" in sys.modules,
                  "datamodule": "seqtag.data.datamodule" in sys.modules}}))
"""
    out = json.loads(run(code))
    assert out["core"] == []
    assert len(out["tags"]) == 5
    assert out["datasets"] is False and out["datamodule"] is False
