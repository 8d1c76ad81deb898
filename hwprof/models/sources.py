"""Model zoos as MODEL sources: torchvision:NAME, timm:NAME and hf:NAME_OR_DIR.

Each source is an optional extra (`pip install -e '.[zoo]'`), found when its
package is installed. Weights are random and nothing is downloaded: torchvision
and timm build their architectures without weights, Hugging Face models are
built from a config (a local directory, the local cache, or an architecture's
default config such as `hf:bert`, with `key=value` overrides).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from hwprof.errors import HwprofError, error_line, error_text, option, whole_number
from hwprof.models.inputs import SEQ, InputSpec, ModelInputs

IMAGENET = (3, 224, 224)


@dataclass(frozen=True)
class Built:
    """A source model, ready to run: its module, default inputs, family and vocabulary size."""

    name: str  # the canonical spec string, which rebuilds the same model
    module: nn.Module
    inputs: ModelInputs | None  # None where the model has no default inputs (no_inputs says why)
    family: str
    vocab_size: int | None = None
    no_inputs: str | None = None  # the sentence to show if the user gives no inputs either, option() marks kept


@dataclass(frozen=True)
class Source:
    prefix: str  # "torchvision"
    package: str  # the module to import
    pip_name: str
    names: Callable[[], list[str]]
    build: Callable[[str, dict], Built]
    about: str
    # Packages it imports where they are installed, checked first: transformers imports torchvision, so a
    # torchvision that does not load with this torch breaks hf: models too.
    imports: tuple[str, ...] = ()

    @property
    def installed(self) -> bool:
        return importlib.util.find_spec(self.package) is not None

    def load_failure(self) -> str | None:
        """Why the installed package cannot be used, naming the reinstall, or None where it imports: an installed
        torchvision built for another torch (PyPI's CUDA one beside a +cpu torch) raises on import."""
        for package in self.imports + (self.package,):
            if package != self.package and importlib.util.find_spec(package) is None:
                continue
            try:
                with torch.device("cpu"):  # under a meta device, tensors made at import would stay meta
                    importlib.import_module(package)
            except Exception as error:
                which = "" if package == self.package else f", which {self.pip_name} imports,"
                return (
                    f"{_installed_version(package)}{which} does not load with torch {torch.__version__} "
                    f"({error_line(error)}): reinstall it with {reinstall_command(package)}"
                )
        return None

    def state(self) -> tuple[str, str | None]:
        """How `hwprof models` describes the source: installed, installed but fails to load, or not installed,
        with what to run where something is to be done."""
        if not self.installed:
            return "not installed", install_command(self)
        failure = self.load_failure()
        return ("installed but fails to load", failure) if failure else ("installed", None)

    def require(self, text: str) -> None:
        if not self.installed:
            raise HwprofError(f"{text} needs {self.pip_name}, which is not installed: run {install_command(self)}")
        failure = self.load_failure()
        if failure:
            raise HwprofError(f"{text} needs {self.pip_name}, but {failure}")


def _installed_version(package: str) -> str:
    """The package and the version pip installed, or the package alone where its metadata cannot be read."""
    try:
        return f"{package} {importlib.metadata.version(package)}"
    except Exception:
        return package


def pytorch_index() -> str | None:
    """PyTorch's package index for the installed torch's build (+cpu, +cu128, +rocm6.4), or None for a torch
    without such a tag: PyPI's torchvision is built for PyPI's torch and does not load beside a +cpu one."""
    tag = torch.__version__.partition("+")[2]
    return f"https://download.pytorch.org/whl/{tag}" if re.fullmatch(r"cpu|xpu|cu\d+|rocm\d+(\.\d+)*", tag) else None


def matching_torchvision() -> str:
    """The torchvision release built for the installed torch (2.x goes with 0.(x + 15)): pinned, so that
    installing it (or timm, which needs it) does not replace a torch the user chose with pip's newest."""
    major, minor = (int(part) for part in torch.__version__.split("+")[0].split(".")[:2])
    return f"'torchvision==0.{minor + 15}.*'" if major == 2 else "torchvision"


def install_command(source: Source) -> str:
    """What installs a source's package without swapping torch: torchvision pinned to the installed torch, from
    PyTorch's index for its build where it has one (timm then comes from PyPI and keeps that torchvision)."""
    if source.package == "transformers":
        return "pip install transformers"  # hwprof[zoo] would bring pip's newest torchvision, and its torch
    index = pytorch_index()
    if index is None and "+" in torch.__version__:  # a build of its own (NVIDIA's Jetson torch): keep it
        timm = source.package == "timm"
        command = (
            f"pip install --no-deps {matching_torchvision()}{' timm' if timm else ''}, the torchvision release for "
            f"torch {torch.__version__}"
        )
        if timm:  # timm's requirements but torch and torchvision, none of which needs torch
            command += ", then pip install pyyaml huggingface_hub safetensors"
        return (
            f"{command}; --no-deps keeps this torch build, which PyPI's torchvision would replace (build "
            "torchvision from source for it if PyPI's does not load)"
        )
    if index is None:
        packages = matching_torchvision() if source.package == "torchvision" else f"timm {matching_torchvision()}"
        return f"pip install {packages}, the torchvision built for torch {torch.__version__.split('+')[0]}"
    command = (
        f"pip install {matching_torchvision()} --index-url {index}, the torchvision built for torch {torch.__version__}"
    )
    return command if source.package == "torchvision" else f"{command}, then pip install timm {matching_torchvision()}"


def reinstall_command(package: str) -> str:
    """What replaces an installed package that does not load, leaving torch as it is (--no-deps)."""
    if package != "torchvision":
        return f"pip install --force-reinstall --no-deps {package}"
    index = pytorch_index()
    return f"pip install --force-reinstall --no-deps {matching_torchvision()}" + (
        f" --index-url {index}" if index else ""
    )


# Who ported or trained a timm model, not what it is: tf_efficientnet_b0 is an efficientnet.
PROVENANCE_PREFIXES = ("tf_", "legacy_", "test_", "dm_")
# A variant written as a word of its own that makes another architecture, as seresnet is one: eca_resnet33ts is
# an ecaresnet, like ecaresnet50d, and nf_resnet50 an nfresnet.
VARIANT_PREFIXES = ("eca_", "ese_", "gc_", "nf_", "bat_", "cs3se_")
# Two words that name one architecture: wide_resnet50_2 is torchvision's ResNet, only wider.
TWO_WORD_NAMES = {"wide_resnet": "resnet", "tiny_vit": "tinyvit", "inception_next": "inceptionnext"}
# A multimodal model's vision tower is of its tower's architecture: gemma4_vit_167m is a vit, sam2_hiera_tiny
# a hiera, not the gemma or sam that hf: names.
TOWER = re.compile(r"[a-z]+\d*_(vit|hiera)_")
# One architecture under several names: torchvision's regnet_y_400mf is timm's regnety_004, BiT is a ResNetV2.
SAME_ARCHITECTURE = {
    "regnetv": "regnet",
    "regnetx": "regnet",
    "regnety": "regnet",
    "regnetz": "regnet",
    "fbnetc": "fbnet",
    "rexnetr": "rexnet",
    "bit": "resnet",
}
# A version ending a word (mobilenetv3_small, mobilenet_v3_small, efficientnet_v2_s, convnextv2_atto):
# versions of one architecture share its family, as torchvision's mobilenet_v2 and mobilenet_v3 always did.
VERSION = re.compile(r"_?v\d+(?=[_-]|$)")
# hf model types of one model's parts: clip_vision_model is CLIP's image tower, mimi_encoder half of mimi.
# (speech_to_text is a model of its own).
HF_PARTS = re.compile(r"(?<!_to)(_text_model|_vision_model|_text|_vision|_encoder|_decoder)$")


def _architecture_family(name: str) -> str:
    """A torchvision or timm model's family: its architecture's name, the same from either zoo.

    The first word of the name without its depth or width (resnet50d -> resnet, convnext_tiny -> convnext)
    and without a version (mobilenetv3_small_050 and mobilenet_v3_small -> mobilenet, efficientnetv2_s ->
    efficientnet, resnetv2_50 -> resnet: the pre-activation ResNet runs the same convolutions). Digits inside
    a name stay (res2net50d -> res2net, cs3darknet_l -> cs3darknet). A port's prefix goes (tf_, legacy_, test_,
    dm_), a variant's stays part of the name (eca_resnet33ts -> ecaresnet), a vision tower is its tower's
    (gemma4_vit_167m -> vit). Architectures with other layers keep their own names: resnext (grouped
    convolutions), seresnet, efficientformer, deit (a distillation token), vit."""
    name = name.lower()
    for prefix in PROVENANCE_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    for words, family in TWO_WORD_NAMES.items():
        if name.startswith(words):
            return family
    tower = TOWER.match(name)
    if tower:
        return tower.group(1)
    if name.startswith(VARIANT_PREFIXES):
        name = name.replace("_", "", 1)
    match = re.match(r"[a-z]+(?:\d+[a-z]*ne(?:t|xt))?", VERSION.sub("", name))
    word = match.group(0) if match else name
    return SAME_ARCHITECTURE.get(word, word)


def hf_family(model_type: str) -> str:
    """A Hugging Face model type's family: the type itself, digits and all (gpt2, t5 and qwen3 are names),
    less a version at its end (mobilenet_v2 -> mobilenet, swinv2 -> swin, as timm's and torchvision's) and
    the part of a model it names (clip_vision_model -> clip)."""
    family, before = model_type.lower(), None
    while family != before:  # hyperclovax_vision_v2 -> hyperclovax_vision -> hyperclovax
        family, before = re.sub(r"_?v\d+$", "", HF_PARTS.sub("", family)), family
    return SAME_ARCHITECTURE.get(family, family)


def unknown_name(text: str, name: str, candidates: list[str], listing: str) -> HwprofError:
    close = difflib.get_close_matches(name, candidates, n=5, cutoff=0.5)
    hint = f"closest: {', '.join(close)}" if close else f"run `hwprof models --source {listing}` for the names"
    return HwprofError(f"unknown model {text!r}: {hint}")


# --- torchvision -----------------------------------------------------------------------------


def _torchvision_names() -> list[str]:
    import torchvision.models as models

    return sorted(models.list_models(module=models))


def _torchvision_build(name: str, overrides: dict) -> Built:
    import torchvision.models as models

    names = _torchvision_names()
    if name not in names:
        raise unknown_name(f"torchvision:{name}", name, names, "torchvision")
    _no_overrides("torchvision", overrides)
    module = models.get_model(name, weights=None)
    size = IMAGENET
    try:  # the crop the architecture is trained at (299 for inception_v3), from its weights' metadata
        crop = models.get_model_weights(name).DEFAULT.transforms().crop_size
        size = (3, int(crop[0]), int(crop[0]))
    except Exception:  # no weights entry: the ImageNet default
        pass
    declared = getattr(module, "image_size", None)
    if isinstance(declared, int):  # built without weights, vit_h_14 takes 224, not its weights' 518
        size = (3, declared, declared)
    return Built(f"torchvision:{name}", module, ModelInputs.from_shape(size), _architecture_family(name))


# --- timm ------------------------------------------------------------------------------------


def _timm_names() -> list[str]:
    import timm

    return sorted(timm.list_models())


def _timm_build(name: str, overrides: dict) -> Built:
    import timm

    if not timm.is_model(name):
        raise unknown_name(f"timm:{name}", name, _timm_names(), "timm")
    _no_overrides("timm", overrides)
    module = timm.create_model(name, pretrained=False)
    size = tuple(int(d) for d in module.pretrained_cfg.get("input_size", IMAGENET))
    return Built(f"timm:{name}", module, ModelInputs.from_shape(size), _architecture_family(name))


def _no_overrides(source: str, overrides: dict) -> None:
    if overrides:
        raise HwprofError(f"{option('hf_config')} applies to hf: models only, not to {source}: models")


# --- Hugging Face transformers ---------------------------------------------------------------


def _hf_names() -> list[str]:
    from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES

    return sorted(MODEL_MAPPING_NAMES)


def _hf_config(name: str):
    """The config of a local directory, a cached hub model, or an architecture's defaults."""
    from transformers import AutoConfig

    if Path(name).is_dir():
        if not (Path(name) / "config.json").is_file():
            raise HwprofError(f"hf:{name} is a folder without config.json; give a model folder or an architecture")
        try:
            return AutoConfig.from_pretrained(name, local_files_only=True)
        except Exception as error:
            raise HwprofError(f"hf:{name}: its config.json cannot be read ({error_text(error)})") from None
    if name in _hf_names():
        return AutoConfig.for_model(name)
    try:  # a hub name already in the local cache; nothing is downloaded
        return AutoConfig.from_pretrained(name, local_files_only=True)
    except Exception:
        pass
    architecture = re.split(r"[-_/.]", name.split("/")[-1].lower())[0]
    close = difflib.get_close_matches(architecture, _hf_names(), n=3, cutoff=0.6)
    close += [n for n in difflib.get_close_matches(name, _hf_names(), n=3, cutoff=0.5) if n not in close]
    hint = f"; the closest architectures, built from their default config: {', '.join('hf:' + n for n in close)}"
    raise HwprofError(
        f"unknown model 'hf:{name}': it is neither an architecture, nor a folder with config.json, nor in the "
        f"local Hugging Face cache (hwprof downloads nothing){hint if close else ''}"
    )


def _hf_build(name: str, overrides: dict) -> Built:
    """Built on the caller's default device: inside torch.device("meta") (prediction), no weight is allocated."""
    with torch.device("cpu"):  # a module imported for the first time keeps real tensors even when built on meta
        from transformers import AutoConfig, AutoModel  # from_config builds random weights; configs read locally
        from transformers.models.auto.modeling_auto import MODEL_MAPPING

        config = _hf_config(name)
        keywords = _build_keywords(overrides)
        config_overrides = {k: v for k, v in overrides.items() if k not in BUILD_KEYWORDS}
        for key, value in config_overrides.items():
            if not hasattr(config, key):
                raise HwprofError(
                    f"{option('hf_config', f'{key}={_override_text(value)}')}: the {config.model_type} config has no setting {key!r}"
                )
            default = getattr(config, key)
            if (
                whole_number(default) and default > 0 and whole_number(value) and value < 0
            ):  # num_hidden_layers=-2: no layers
                raise HwprofError(
                    f"{option('hf_config', f'{key}={value}')}: {key} is a count or size ({default} by default), which "
                    "cannot be negative"
                )
        settings = {**_tokens_outside_vocabulary(config, overrides), **config_overrides}
        if overrides and not Path(name).is_dir() and name in _hf_names():
            # an architecture's config made again from the overrides, so what it derives from them follows
            # (LLaMA's head_dim from hidden_size and the head count, its key-value heads from the head count)
            config = _refused_as_one_sentence(lambda: AutoConfig.for_model(name, **settings), config, overrides)
        else:  # a saved config states every value; the overrides replace the ones named
            for key, value in settings.items():
                _refused_as_one_sentence(lambda key=key, value=value: setattr(config, key, value), config, {key: value})
        config.use_cache = False  # one forward pass, no key-value cache carried between calls
        try:
            MODEL_MAPPING[type(config)]  # imports the architecture's modelling module
        except Exception:  # no base model for this config: from_config below says so
            pass
    try:
        module = AutoModel.from_config(config, **keywords)
    except Exception as error:
        if keywords:
            given = ", ".join(option("hf_config", f"{key}={value}") for key, value in keywords.items())
            raise HwprofError(f"{given}: hf:{name} cannot be built with it: {error_text(error)}") from None
        raise HwprofError(f"hf:{name} cannot be built from its config: {error_text(error)}") from None
    text = f"hf:{name}" + (
        ":" + ",".join(f"{k}={_override_text(v)}" for k, v in sorted(overrides.items())) if overrides else ""
    )
    try:
        inputs, vocab = _hf_inputs(module, config, name)
    except HwprofError as missing:  # the user's --input may describe them; token ids are drawn below the vocabulary
        return Built(text, module, None, hf_family(config.model_type), _vocab_size(config), missing.args[0])
    return Built(text, module, inputs, hf_family(config.model_type), vocab)


# Not config settings but how the model is built (AutoModel.from_config's keywords): attention as eager matmuls and
# softmax, or fused (sdpa, the default where torch has it); a mixture of experts' experts as a loop (eager) or one
# grouped matmul (the default where torch has it); so that either can be measured and predicted.
BUILD_KEYWORDS = {"attn_implementation": "eager or sdpa", "experts_implementation": "eager or grouped_mm"}


def _build_keywords(overrides: dict) -> dict:
    """from_config's keywords among the overrides. The config's own _attn_implementation and
    _experts_implementation are refused: from_config chooses them again, so the model ran sdpa (or grouped_mm)
    under a name that said eager."""
    for keyword in BUILD_KEYWORDS:
        if f"_{keyword}" in overrides:
            value = _override_text(overrides[f"_{keyword}"])
            raise HwprofError(
                f"{option('hf_config', f'_{keyword}={value}')}: write {keyword}={value}, which is how "
                "transformers is told what to build"
            )
    chosen = {keyword: overrides[keyword] for keyword in BUILD_KEYWORDS if keyword in overrides}
    for keyword, value in chosen.items():
        if not isinstance(value, str) or not value:
            raise HwprofError(
                f"{option('hf_config', f'{keyword}={_override_text(value)}')}: give an implementation's name, "
                f"e.g. {BUILD_KEYWORDS[keyword]}"
            )
    return chosen


def _tokens_outside_vocabulary(config, overrides: dict) -> dict:
    """Special token ids a smaller vocab_size override leaves outside the vocabulary (GPT-2's 50256 at
    vocab_size=1000), set to None, as a config without those tokens has them: transformers warned about each on
    every build, and a forward pass's work does not depend on them."""
    vocab = overrides.get("vocab_size")
    if not whole_number(vocab):
        return {}
    return {
        key: None
        for key, value in config.to_dict().items()
        if key.endswith("_token_id") and key not in overrides and whole_number(value) and not 0 <= value < vocab
    }


def _override_text(value) -> str:
    """A setting as the model's name writes it: spelled as parse_overrides reads it back (true, null)."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except TypeError:  # not a JSON value: as Python writes it
        return str(value)


def _refused_as_one_sentence(apply, config, overrides: dict):
    """What `apply` returns, or the config's refusal of the overrides (funnel derives its layer count) in one
    sentence."""
    try:
        return apply()
    except Exception as error:
        given = ",".join(f"{key}={_override_text(value)}" for key, value in overrides.items())
        raise HwprofError(
            f"{option('hf_config', given)}: the {config.model_type} config refuses it: {_in_one_line(error)}"
        ) from None


def _text_config(config):
    """The config's text part (CLIP keeps its vocabulary and length there), or the config itself."""
    return config.get_text_config() if hasattr(config, "get_text_config") else config


def _vocab_size(config) -> int | None:
    vocab = getattr(config, "vocab_size", None) or getattr(_text_config(config), "vocab_size", None)
    return int(vocab) if isinstance(vocab, int) else None


def _hf_inputs(module: nn.Module, config, name: str) -> tuple[ModelInputs, int | None]:
    main = getattr(module, "main_input_name", "input_ids")
    if main == "input_ids":
        text_config = _text_config(config)
        vocab = _vocab_size(config)
        if vocab is None:
            raise HwprofError(
                f"hf:{name} takes token ids but its {config.model_type} config names no vocabulary size, so hwprof "
                f"cannot draw them: describe its inputs with {option('inputs')}, e.g. input_ids:int64[128]"
            )
        accepted = inspect.signature(module.forward).parameters  # the keywords its forward takes
        limit = getattr(config, "max_position_embeddings", None) or getattr(
            text_config, "max_position_embeddings", None
        )
        limit = limit if isinstance(limit, int) and limit > 0 else None  # XLNet's -1: no limit
        specs = (
            InputSpec("input_ids", torch.int64, (SEQ,), 0, vocab),
            InputSpec("attention_mask", torch.int64, (SEQ,)),
            *_image_beside_text(accepted, config),
            *_decoder_beside_encoder(accepted, config, vocab),
        )
        return ModelInputs(specs, min(128, int(limit)) if limit else 128, int(limit) if limit else None), vocab
    if main == "pixel_values":
        size = getattr(config, "image_size", 224)
        size = size if isinstance(size, int) else int(size[0])
        channels = int(getattr(config, "num_channels", 3))
        return ModelInputs((InputSpec("pixel_values", torch.float32, (channels, size, size)),)), None
    raise HwprofError(
        f"hf:{name} takes {main}, for which hwprof has no default input: describe its inputs with "
        f"{option('inputs')}, e.g. {_input_example(module, config, main)}"
    )


def _input_example(module: nn.Module, config, main: str) -> str:
    """Inputs that run the model, where its config gives them: Whisper's encoder (and its kin) reads exactly
    2 * max_source_positions mel frames, and an encoder-decoder needs its decoder ids too."""
    mel, positions = getattr(config, "num_mel_bins", None), getattr(config, "max_source_positions", None)
    if main == "input_features" and isinstance(mel, int) and isinstance(positions, int):
        examples = [f"input_features:float32[{mel},{2 * positions}]"]
    elif main == "input_values" and mel is None:  # a raw waveform: one second at 16 kHz
        examples = ["input_values:float32[16000]"]
    else:
        return f"{main}:float32[SHAPE] with SHAPE one sample's shape as the model's documentation gives it"
    if (
        getattr(config, "is_encoder_decoder", False)
        and "decoder_input_ids" in inspect.signature(module.forward).parameters
    ):
        examples.append("decoder_input_ids:int64[seq]")
    return " and ".join(examples)


def _image_beside_text(accepted, config) -> tuple[InputSpec, ...]:
    """An image input for a model that reads text and images together (CLIP, SigLIP): its forward takes
    pixel_values and its config has a vision part, whose image size it gives."""
    vision = getattr(config, "vision_config", None)
    if vision is None or "pixel_values" not in accepted:
        return ()
    size = getattr(vision, "image_size", 224)
    size = size if isinstance(size, int) else int(size[0])
    return (InputSpec("pixel_values", torch.float32, (int(getattr(vision, "num_channels", 3)), size, size)),)


def _decoder_beside_encoder(accepted, config, vocab: int) -> tuple[InputSpec, ...]:
    """Token ids for the decoder of an encoder-decoder (T5 needs them; BART would shift its inputs itself),
    as many as the encoder reads."""
    if not getattr(config, "is_encoder_decoder", False):
        return ()
    if "decoder_input_ids" not in accepted:
        return ()
    return (InputSpec("decoder_input_ids", torch.int64, (SEQ,), 0, vocab),)


def parse_overrides(text: str | None) -> dict:
    """'num_hidden_layers=4,hidden_size=256' -> {'num_hidden_layers': 4, 'hidden_size': 256}."""
    overrides = {}
    for part in filter(None, (text or "").split(",")):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise HwprofError(
                f"bad {option('hf_config', text)}: write key=value pairs separated by commas, e.g. num_hidden_layers=4"
            )
        value = value.strip()
        try:
            overrides[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key.strip()] = PYTHON_SPELLINGS.get(value, value)
    return overrides


# Names written before settings were spelled as JSON held Python's spellings: they still rebuild their model.
PYTHON_SPELLINGS = {"True": True, "False": False, "None": None}


def _in_one_line(error: Exception) -> str:
    """Every line of the message: a validation error's first line only names the field ('... for field x:')."""
    return " ".join(line.strip() for line in str(error).splitlines() if line.strip()) or type(error).__name__


SOURCES: dict[str, Source] = {
    "torchvision": Source(
        "torchvision",
        "torchvision",
        "torchvision",
        _torchvision_names,
        _torchvision_build,
        "every classification model of torchvision.models",
    ),
    "timm": Source(
        "timm",
        "timm",
        "timm",
        _timm_names,
        _timm_build,
        "timm.create_model(NAME, pretrained=False)",
        ("torchvision",),
    ),
    "hf": Source(
        "hf",
        "transformers",
        "transformers",
        _hf_names,
        _hf_build,
        "Hugging Face transformers from a config: an architecture (hf:bert), a folder with config.json or the cache",
        ("torchvision",),
    ),
}


def source_of(text: str) -> Source | None:
    prefix, sep, _ = text.partition(":")
    return SOURCES.get(prefix) if sep else None


def build(text: str, overrides: dict | None = None) -> Built:
    """torchvision:NAME, timm:NAME or hf:NAME_OR_DIR[:key=value,...] -> the model, with random weights."""
    source = source_of(text)
    source.require(text)
    name = text.partition(":")[2]
    overrides = dict(overrides or {})
    if source.prefix == "hf":
        name, inline = _hf_name_and_inline(name)
        overrides = {**parse_overrides(inline), **overrides}
    if not name:
        raise HwprofError(
            f"{text!r} names no model: write {source.prefix}:NAME, e.g. `hwprof models --source {source.prefix}`"
        )
    return source.build(name, overrides)


def _hf_name_and_inline(name: str) -> tuple[str, str | None]:
    """An hf: model's name and the key=value settings written after its last colon (None where there are none:
    the colon of a Windows drive, C:/models/tiny-bert, has none after it)."""
    if ":" in name and "=" in name.rsplit(":", 1)[1]:
        name, inline = name.rsplit(":", 1)
        return name, inline
    return name, None


def family_of_source_model(text: str) -> str:
    """The family of a source model from its name alone: its architecture (hf: its model type where it is
    an architecture name, else the name's leading word)."""
    name = text.partition(":")[2]
    if text.startswith("hf:"):
        if Path(name).is_dir():
            name = Path(name).name
        else:  # NAME:key=value,...; a Windows folder's drive (C:\models\tiny-bert) holds no key=value
            name = re.split(r"[\\/]", _hf_name_and_inline(name)[0])[-1]
        return hf_family(name.split("-")[0])
    return _architecture_family(name)
