"""Where the shipped Hydra configs live, for every ``seqtag-*`` entry point.

The configs are the repository's top-level ``conf/`` folder, installed as the
package ``seqtag.conf`` (pyproject.toml maps ``"seqtag.conf" = "conf"``), so
Hydra finds them through ``pkg://seqtag.conf`` in a wheel install from any
working directory, and in an editable install reads the checkout's ``conf/``
directly (edits are seen without reinstalling).

Users add their own config folder next to the shipped one with Hydra's
``--config-dir``, e.g. ``seqtag-train --config-dir my_conf experiment=mine``:
``my_conf/experiment/mine.yaml`` can override any shipped group
(``defaults: [override /model/encoder: bigru]``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: importable package that holds the yaml files (the repository's conf/)
CONFIG_PACKAGE = "seqtag.conf"
#: what ``hydra.main(config_path=...)`` takes; Hydra resolves it wherever seqtag is installed
CONFIG_PATH = f"pkg://{CONFIG_PACKAGE}"


def config_dir() -> Path:
    """The configs' folder on disk.

    ``<checkout>/conf`` in an editable install, ``site-packages/seqtag/conf`` in a
    regular one; for ``hydra.initialize_config_dir`` or for listing group options.
    """
    files = resources.files(CONFIG_PACKAGE)
    if not isinstance(files, Path):  # e.g. a zipped install: use CONFIG_PATH instead
        raise RuntimeError(f"{CONFIG_PACKAGE} is not a folder on disk ({files!r}); use {CONFIG_PATH}")
    return files
