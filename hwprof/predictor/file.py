"""The predictor file (predictor.json): its format version, how a document is made, read and written.

Plain JSON (coefficients and flattened trees as arrays), so loading one never
runs code. This module is the format's one owner: fitting builds a document
with `new_document`, `dump` writes it atomically, `load` reads and checks it.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import hwprof
from hwprof.errors import HwprofError
from hwprof.files import now_text, read_json_document, write_text_atomically
from hwprof.predictor.features import (
    AGGREGATE_KINDS,
    CONFIG_PREFIX,
    GEMM_VARIABLES,
    OP_GROUP_RULES,
    PHYSICAL_VARIABLES,
    SHAPE_VARIABLES,
    STRIDED_INPUT,
    STRIDED_LAYOUT,
    UNBIASED_ATTENTION,
)
from hwprof.schema import SCHEMA_VERSION

FORMAT = "hwprof-predictor"
FORMAT_VERSION = 2
# The feature definitions' entry that says a file's layer variables include setting indicators (files written
# before they existed lack it)
SETTINGS_DEFINITION = "config_settings"
# Indicators defined since, each by the feature definition that names it: a file without that definition was fitted
# before its layers could hold the indicator, and a layer holding it is new to it no more than it was then
STRIDED_LAYOUTS_DEFINITION = "config_strided_layouts"
ATTENTION_BIAS_DEFINITION = "config_attention_bias"
STRIDED_INPUTS_DEFINITION = "config_strided_inputs"  # any op's strided first input, not only a copy's
LATER_INDICATORS = {
    STRIDED_LAYOUTS_DEFINITION: CONFIG_PREFIX + STRIDED_LAYOUT,
    ATTENTION_BIAS_DEFINITION: CONFIG_PREFIX + UNBIASED_ATTENTION,
    STRIDED_INPUTS_DEFINITION: CONFIG_PREFIX + STRIDED_INPUT,
}


def new_document(
    device_name: str, variables: list[str], groups_seen: list[str], layer_models: dict, network_models: dict
) -> dict:
    """A predictor document: what was fitted, with the feature definitions a reader needs."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dataset_schema_version": SCHEMA_VERSION,
        "hwprof_version": hwprof.__version__,
        "created": now_text(),
        "device_name": device_name,
        "mode": "layers" if layer_models else "analytic",
        "targets": list(network_models),
        "features": feature_definitions(variables, groups_seen),
        "layer_models": layer_models,
        "network_models": network_models,
    }


def feature_definitions(variables: list[str], groups_seen: list[str]) -> dict:
    return {
        "layer_variables": variables,
        "layer_transform": "z = sign(v) * log(1 + |v|) of each variable v; absent variables are 0",
        "layer_variable_meaning": {
            "flops": "multiply-accumulates",
            "input_bytes": "bytes of tensor inputs",
            "output_bytes": "bytes of outputs",
            "weight_bytes": "bytes of parameters and buffers",
            "bytes_total": "input + output + weight bytes",
            "intensity": "flops / bytes_total",
            "batch": "input dim 0",
            "in_dim1": "input dim 1",
            "in_rest": "product of input dims 2..",
            "in_last": "input last dim",
            "out_dim1": "output dim 1",
            "out_rest": "product of output dims 2..",
            "out_last": "output last dim",
            "n_inputs": "number of tensor inputs",
            "config.*": "numeric hyper-parameter from the layer config (lists by their product, booleans 0/1)",
        },
        SETTINGS_DEFINITION: "config.<key>=<value> is 1 where the layer config holds that text or flag value, at "
        "its top level, in a list, or in its args or kwargs (kwargs.<name>=<value>, args.<position>=<value>); "
        "config.kwargs.<name> and config.args.<position> are the numbers there; config.input_run_elements is "
        "the elements a copy of a strided input reads in order at a time",
        STRIDED_LAYOUTS_DEFINITION: f"config.{STRIDED_LAYOUT} is 1 where an input after the first is laid out by "
        "strides of its own (a transposed or expanded operand), whatever they are",
        ATTENTION_BIAS_DEFINITION: f"config.{UNBIASED_ATTENTION} is 1 for a multiheadattention layer without biases "
        "(one with them has no bias key)",
        STRIDED_INPUTS_DEFINITION: f"{STRIDED_INPUT} names, for novelty alone, a layer of any op whose first input "
        "is strided (input_strides in its config); the training held it where it has config.input_run_elements",
        "layer_model": "log(target) = intercept + linear . z + sum quadratic_ij z_i z_j + sum of trees(z); "
        "trees are complete binary trees, go right when z[feature] > threshold "
        "(compared in float64), leaves already scaled by the learning rate",
        "op_groups": {group: list(prefixes) for group, prefixes in OP_GROUP_RULES} | {"other": []},
        "groups_seen": groups_seen,
        "network_models": "additive: target = columns . coef; log_ratio: latency = S x exp(clip(columns) . coef) "
        "+ ms_per_output_mb x sum of out_mb:<group>, with S the sum of predicted layer "
        "latencies (ms), columns clipped to clip_low..clip_high",
        "network_columns": {
            "share:<group>": "the group's share of the predicted latency (power model)",
            "log_layers_per_ms": "log(layers / S)",
            "log_layer_sum_ms": "log(S)",
            f"{'|'.join(AGGREGATE_KINDS)}:<group>": "layers, GMACs, MB moved (inputs, outputs, weights) and MB "
            "of outputs written to fresh memory (in-place ops excluded) "
            "by the group",
            "latency_ms": "predicted network latency",
            "intercept": "1",
        },
        "base_variables": {
            "physical": list(PHYSICAL_VARIABLES),
            "shape": list(SHAPE_VARIABLES),
            "gemm": list(GEMM_VARIABLES),
        },
    }


def dump(doc: dict, path: str | os.PathLike, force: bool = True) -> None:
    """Write atomically: a crash never leaves half a predictor behind. Without `force`, a file another process
    wrote at `path` meanwhile is not replaced (files.write_atomically)."""
    path = Path(path)
    text = json.dumps(doc, indent=1, allow_nan=False)
    try:
        write_text_atomically(path, text, force)
    except OSError as error:
        raise HwprofError(f"cannot write the predictor to {path}: {error.strerror or error}") from None


REQUIRED_PARTS = ("features", "layer_models", "network_models")  # every document has them, as objects


def missing_parts(doc: dict) -> list[str]:
    """The parts a predictor document lacks, or holds as something other than an object (layer_models may be
    empty, except in a layer-mode document; every prediction starts from the latency model)."""
    missing = [part for part in REQUIRED_PARTS if not isinstance(doc.get(part), dict)]
    if doc.get("mode") == "layers" and not doc.get("layer_models"):
        missing.append("layer_models")
    if isinstance(doc.get("network_models"), dict) and not isinstance(doc["network_models"].get("latency_ms"), dict):
        missing.append("network_models.latency_ms")
    return missing


def load(path: str | os.PathLike) -> dict:
    """The document of a predictor file, checked to be one this hwprof reads, with every part it needs."""
    remedy = "fit one with `hwprof fit` (hwprof.fit)"
    doc = read_json_document(path, FORMAT, FORMAT_VERSION, "predictor file", remedy, lambda old: _refit(old, path))
    missing = missing_parts(doc)
    if missing:
        raise HwprofError(f"{path} is a damaged predictor file (its {missing[0]} is missing or empty); refit it")
    return doc


def _refit(doc: dict, path: str | os.PathLike) -> str | None:
    """For a file of an older format, which this hwprof cannot read: the fit command of the datasets its training
    recorded (as that fit was given them), so the user need not find them. None for one that recorded none, or an
    adapted one (--base, --prior: its sources' fit would remake its base, not it): the plain refusal stands."""
    training = doc.get("training")
    if not isinstance(training, dict) or training.get("network_refit") or training.get("prior"):
        return None
    sources = training["sources"] if isinstance(training.get("sources"), list) else []
    paths = [source.get("path") for source in sources if isinstance(source, dict) and source.get("path")]
    if not paths or not all(isinstance(dataset, str) for dataset in paths):
        return None
    path = Path(path)
    command = shlex.join(["hwprof", "fit", *paths, "--out", str(path.with_name(f"{path.stem}_refit.json"))])
    return f"fit one again from the datasets it was fitted from (`{command}`, their paths as that fit was given them)"
