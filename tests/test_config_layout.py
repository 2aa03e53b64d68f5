"""The config layout: options are small diffs of a shared base, one file per callback,
presets drop a callback through their defaults list, and the IMDB table's rows are encoders."""

from __future__ import annotations

from functools import cache

import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.utils import get_method
from omegaconf import DictConfig, OmegaConf

from tests.conftest import CONFIG_DIR

ENCODER_DIR = CONFIG_DIR / "model" / "encoder"
CALLBACK_DIR = CONFIG_DIR / "callbacks"
# option: (cell, bidirectional)
ENCODERS = {"bilstm": ("lstm", True), "bigru": ("gru", True), "birnn": ("rnn", True),
            "lstm": ("lstm", False), "gru": ("gru", False), "rnn": ("rnn", False)}
# the rows of the book's IMDB table: (cell, bidirectional, units per direction)
IMDB_ROWS = {"lstm50": ("lstm", False, 50), "birnn50": ("rnn", True, 50), "birnn40": ("rnn", True, 40),
             "birnn30": ("rnn", True, 30), "birnn20": ("rnn", True, 20), "birnn10": ("rnn", True, 10),
             "birnn5": ("rnn", True, 5), "birnn1": ("rnn", True, 1)}
EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
DEFAULT_CALLBACKS = ["model_checkpoint", "last_checkpoint", "early_stopping", "lr_monitor", "throughput",
                     "score_reports"]
# experiment: early stopping patience (None: trains for max_epochs), EMA of the weights
PRESET_CALLBACKS = {"conll2003": (5, False), "conll2003_cnn_crf": (8, False),
                    "conll2003_cnn_crf_doc": (8, False), "ud_ewt_pos": (5, False), "sst2_bilstm": (3, False),
                    "imdb_bilstm": (2, True), "imdb_bilstm_sst2": (2, True), "imdb_bilstm_w2v": (2, True),
                    "quickstart": (None, False), "imdb_seeds": (None, False), "imdb_seeds_w2v": (None, False)}


@cache
def _compose(*overrides: str) -> DictConfig:
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=["paths.output_dir=/tmp/seqtag-test", *overrides])


def _own_keys(path) -> set[str]:
    """The keys a config file sets itself, beside its defaults list."""
    return set(yaml.safe_load(path.read_text()) or {}) - {"defaults"}


def _callbacks(cfg: DictConfig) -> dict:
    return OmegaConf.to_container(cfg.callbacks, resolve=False) if cfg.get("callbacks") else {}


# encoders


def test_the_encoder_options_are_the_base_plus_cell_and_direction():
    base = OmegaConf.load(ENCODER_DIR / "rnn_base.yaml")
    assert set(OmegaConf.missing_keys(base)) == {"cell", "bidirectional"}
    options = {p.stem for p in ENCODER_DIR.glob("*.yaml")} - {"rnn_base"}
    assert options == set(ENCODERS)
    for option in options:
        assert _own_keys(ENCODER_DIR / f"{option}.yaml") == {"cell", "bidirectional"}, option


@pytest.mark.parametrize("option", sorted(ENCODERS))
def test_every_encoder_option_composes_to_its_cell_and_direction(option: str):
    base = OmegaConf.load(ENCODER_DIR / "rnn_base.yaml")
    encoder = _compose(f"model/encoder={option}").model.encoder
    assert list(encoder) == list(base)  # every base key, in the base's order
    assert not OmegaConf.missing_keys(encoder)
    assert (encoder.cell, encoder.bidirectional) == ENCODERS[option]
    for key in set(base) - {"cell", "bidirectional"}:
        assert encoder[key] == base[key], key
    assert callable(get_method(encoder._target_))


def test_command_line_overrides_an_extended_encoder():
    encoder = _compose("model/encoder=bigru", "model.encoder.hidden_size=100").model.encoder
    assert (encoder.cell, encoder.bidirectional, encoder.hidden_size) == ("gru", True, 100)
    encoder = _compose("experiment=imdb_seeds", "model/encoder=imdb_row/lstm50",
                       "model.encoder.hidden_size=7").model.encoder
    assert (encoder.cell, encoder.bidirectional, encoder.hidden_size) == ("lstm", False, 7)


# callbacks


@pytest.mark.parametrize("name", DEFAULT_CALLBACKS)
def test_each_callback_file_composes_alone(name: str):
    callbacks = _callbacks(_compose(f"callbacks={name}"))
    assert list(callbacks) == [name]
    assert callable(get_method(callbacks[name]["_target_"]))


def test_every_callback_file_is_one_callback_or_a_named_set():
    singles = {p.stem for p in CALLBACK_DIR.glob("*.yaml") if _own_keys(p) == {p.stem}} - {"ema"}
    assert singles == set(DEFAULT_CALLBACKS)
    sets = {p.stem for p in CALLBACK_DIR.glob("*.yaml")} - singles
    assert sets == {"default", "no_early_stopping", "ema", "none"}


def test_default_callbacks_are_the_six_and_watch_the_monitored_score():
    cfg = _compose()
    assert list(_callbacks(cfg)) == DEFAULT_CALLBACKS
    assert cfg.callbacks.early_stopping.monitor == cfg.monitor == "val/f1"
    assert cfg.callbacks.early_stopping.mode == "max" and cfg.callbacks.early_stopping.patience == 5
    assert cfg.callbacks.model_checkpoint.monitor == "val/f1"


def test_ema_is_the_default_callbacks_plus_the_average():
    callbacks = _callbacks(_compose("callbacks=ema"))
    assert list(callbacks) == [*DEFAULT_CALLBACKS, "ema"]
    assert {k: v for k, v in callbacks.items() if k != "ema"} == _callbacks(_compose())
    assert callbacks["ema"]["decay"] == 0.999
    assert not _callbacks(_compose("callbacks=none"))


def test_no_early_stopping_is_the_default_without_it():
    default = _callbacks(_compose())
    del default["early_stopping"]
    assert _callbacks(_compose("callbacks=no_early_stopping")) == default


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_presets_keep_or_drop_early_stopping_without_nulling_it(experiment: str):
    cfg = _compose(f"experiment={experiment}")
    callbacks = _callbacks(cfg)
    assert all(c and "_target_" in c for c in callbacks.values()), callbacks  # no nulled or stray entries
    if "early_stopping" in callbacks:
        assert cfg.callbacks.early_stopping.monitor == cfg.monitor
    if experiment in PRESET_CALLBACKS:
        patience, ema = PRESET_CALLBACKS[experiment]
        expected = [c for c in DEFAULT_CALLBACKS if patience is not None or c != "early_stopping"]
        assert list(callbacks) == expected + (["ema"] if ema else [])
        if patience is not None:
            assert callbacks["early_stopping"]["patience"] == patience


def test_early_stopping_can_be_changed_or_dropped_from_the_command_line():
    assert _compose("callbacks.early_stopping.patience=3").callbacks.early_stopping.patience == 3
    assert list(_callbacks(_compose("~callbacks.early_stopping"))) == [
        c for c in DEFAULT_CALLBACKS if c != "early_stopping"]
    assert list(_callbacks(_compose("callbacks=ema", "~callbacks.early_stopping"))) == [
        *(c for c in DEFAULT_CALLBACKS if c != "early_stopping"), "ema"]


@pytest.mark.parametrize("experiment", [None, "imdb_bilstm", "quickstart"])
def test_overfit_stops_no_run_early_and_keeps_the_other_callbacks(experiment: str | None):
    base = _compose(*([f"experiment={experiment}"] if experiment else []))
    cfg = _compose(*([f"experiment={experiment}"] if experiment else []), "debug=overfit")
    assert cfg.callbacks.get("early_stopping") is None
    live = {k: v for k, v in _callbacks(cfg).items() if v}
    assert live == {k: v for k, v in _callbacks(base).items() if k != "early_stopping"}


# the rows of the book's IMDB table


def test_imdb_rows_are_encoder_options_that_the_table_sweeps():
    rows = {p.stem for p in (ENCODER_DIR / "imdb_row").glob("*.yaml")}
    assert rows == set(IMDB_ROWS)
    for row in rows:
        assert _own_keys(ENCODER_DIR / "imdb_row" / f"{row}.yaml") == {"hidden_size"}, row
    assert not (CONFIG_DIR / "imdb_row").exists()
    for experiment in ("imdb_seeds", "imdb_seeds_w2v"):
        with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
            cfg = compose("train", overrides=[f"experiment={experiment}"], return_hydra_config=True)
        sweep = cfg.hydra.sweeper.params
        assert list(sweep) == ["model/encoder"]
        assert [v.strip() for v in sweep["model/encoder"].split(",")] == [f"imdb_row/{r}" for r in IMDB_ROWS]


@pytest.mark.parametrize("experiment", ["imdb_seeds", "imdb_seeds_w2v"])
@pytest.mark.parametrize("row", sorted(IMDB_ROWS))
def test_each_imdb_row_composes_to_its_encoder(experiment: str, row: str):
    cfg = _compose(f"experiment={experiment}", f"model/encoder=imdb_row/{row}")
    encoder = cfg.model.encoder
    assert (encoder.cell, encoder.bidirectional, encoder.hidden_size) == IMDB_ROWS[row]
    # the book's settings stay the experiment's: no dropout, no packing (the RNN reads the padding)
    assert (encoder.dropout, encoder.merge, encoder.pack, encoder.num_layers) == (0.0, "concat", False, 1)
    # a row changes the encoder and nothing else
    table = _compose(f"experiment={experiment}")
    row, table = (OmegaConf.to_container(c, resolve=False) for c in (cfg, table))
    del row["model"]["encoder"], table["model"]["encoder"]
    assert row == table


def test_imdb_seeds_alone_is_the_birnn50_row():
    assert _compose("experiment=imdb_seeds").model.encoder == _compose(
        "experiment=imdb_seeds", "model/encoder=imdb_row/birnn50").model.encoder
