"""Registered names of the classes a saved model is rebuilt from (parts, tasks, models).

Saved files name these classes by registered name, never by import path, so moving
or renaming a module breaks no saved model (as AllenNLP's registrable types). Hydra
configs keep naming ``_target_`` import paths: those are for composing runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from seqtag.errors import ModelLoadError

T = TypeVar("T", bound=type)
# the module whose import registers every class of a kind; imported on the first
# lookup, so that importing the registry stays cheap (and loading a model never
# imports the corpus readers and ``datasets``)
_MODULES = {"part": "seqtag.models", "model": "seqtag.models", "task": "seqtag.tasks",
            "corpus": "seqtag.data.corpus"}
_CLASSES: dict[str, dict[str, type]] = {}
_NAMES: dict[type, tuple[str, str]] = {}


def register(kind: str, name: str) -> Callable[[T], T]:
    """Class decorator: ``cls`` is saved and found again as ``name`` among ``kind``."""

    def add(cls: T) -> T:
        table = _CLASSES.setdefault(kind, {})
        if table.get(name, cls) is not cls:
            raise ValueError(f"{kind} name {name!r} is taken by {table[name].__qualname__}")
        table[name] = cls
        _NAMES[cls] = (kind, name)
        return cls

    return add


def name_of(cls: type) -> str:
    """The registered name of ``cls``."""
    if cls not in _NAMES:
        raise ValueError(f"{cls.__module__}.{cls.__qualname__} is not registered (seqtag.registry.register), "
                         "so a saved model could not name it")
    return _NAMES[cls][1]


def lookup(kind: str, name: str) -> type:
    """The class registered as ``name`` among ``kind``."""
    importlib.import_module(_MODULES[kind])
    found = _CLASSES.get(kind, {}).get(name)
    if found is None:
        known = ", ".join(sorted(_CLASSES.get(kind, {}))) or "none"
        raise ModelLoadError(f"no {kind} named {name!r} in this seqtag (known: {known})")
    return found


def target(cls: type) -> str:
    """The import path Hydra instantiates ``cls`` by."""
    return f"{cls.__module__}.{cls.__qualname__}"


def to_names(config: Any) -> Any:
    """A part config with every ``_target_`` replaced by ``type: <registered name>``
    (and ``_partial_`` dropped: every registered part is completed by its owner)."""
    if isinstance(config, dict):
        out = {}
        for key, value in config.items():
            if key == "_target_":
                from hydra.utils import get_class

                out["type"] = name_of(get_class(value))
            elif key != "_partial_":
                out[key] = to_names(value)
        return out
    if isinstance(config, list):
        return [to_names(v) for v in config]
    return config


def to_targets(config: Any, kind: str = "part") -> Any:
    """The inverse of :func:`to_names`: a config Hydra instantiates as partials."""
    if isinstance(config, dict):
        out = {key: to_targets(value, kind) for key, value in config.items() if key != "type"}
        if "type" in config:
            out = {"_target_": target(lookup(kind, config["type"])), "_partial_": True, **out}
        return out
    if isinstance(config, list):
        return [to_targets(v, kind) for v in config]
    return config
