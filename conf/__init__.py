# Makes conf/ importable as the package ``seqtag.conf`` (pyproject.toml maps
# "seqtag.conf" = "conf"), so the configs ship in the wheel and Hydra reads them
# through ``pkg://seqtag.conf`` from any working directory.
