"""Zoo sources built offline: each source's models, their default inputs, and the sentences for bad names."""

import importlib.util
import os
import subprocess
import sys

import pytest
import torch

from fakes.zoo import TINY_HF, TINY_WHISPER
from hwprof.errors import HwprofError
from hwprof.models.layers import run_and_extract
from hwprof.models.sources import SOURCES, family_of_source_model
from hwprof.models.spec import family_of, resolve_model

pytest.importorskip("torchvision")
pytest.importorskip("timm")
pytest.importorskip("transformers")


@pytest.mark.parametrize("name", ["hf:bert", "hf:gpt2", "hf:llama"])
def test_text_model_gets_token_ids_within_its_vocabulary_and_a_mask(name):
    spec = resolve_model(name, hf_config=TINY_HF[name])
    vocab = spec.module.config.vocab_size
    assert spec.vocab_size == vocab
    args, kwargs = spec.model_inputs.make(2, 16)
    assert args == () and set(kwargs) == {"input_ids", "attention_mask"}
    ids, mask = kwargs["input_ids"], kwargs["attention_mask"]
    assert ids.dtype == torch.int64 and ids.shape == (2, 16)
    assert 0 <= int(ids.min()) and int(ids.max()) < vocab
    assert ids.unique().numel() > 1  # drawn, not a constant
    assert torch.equal(mask, torch.ones_like(mask))
    layers, extraction = run_and_extract(spec.module, spec.model_inputs, 2, seq_len=16)
    assert extraction == "hooks"
    ops = {layer.op for layer in layers}
    assert {"embedding", "linear", "scaleddotproductattention"} <= ops
    embedding = next(layer for layer in layers if layer.op == "embedding")
    assert embedding.config["input_shapes"][0] == [2, 16]
    assert "dtype" not in embedding.config  # a float32 layer, whatever its integer indices


def test_hf_overrides_are_part_of_the_name_and_rebuild_the_same_model():
    spec = resolve_model("hf:bert", hf_config=TINY_HF["hf:bert"])
    assert spec.name == "hf:bert:hidden_size=32,intermediate_size=64,num_attention_heads=2,num_hidden_layers=1"
    again = resolve_model(spec.name)
    assert again.module.config.hidden_size == 32 and again.module.config.num_hidden_layers == 1
    assert family_of(spec.name) == "bert" == spec.family


def test_a_boolean_or_null_override_is_named_so_that_the_name_rebuilds_the_model():
    settings = {**TINY_HF["hf:llama"], "attention_bias": True, "mlp_bias": False, "rope_scaling": None}
    spec = resolve_model("hf:llama", hf_config=settings)
    assert "attention_bias=true" in spec.name and "mlp_bias=false" in spec.name and "rope_scaling=null" in spec.name
    again = resolve_model(spec.name)
    assert again.module.config.attention_bias is True and again.module.config.mlp_bias is False
    assert sum(p.numel() for p in again.module.parameters()) == sum(p.numel() for p in spec.module.parameters())


def test_a_name_written_with_pythons_true_false_and_none_still_rebuilds_its_model():
    spec = resolve_model("hf:llama:attention_bias=True,head_dim=16,hidden_size=32,mlp_bias=False,num_attention_heads=2")
    assert spec.module.config.attention_bias is True and spec.module.config.mlp_bias is False


def test_a_small_vocabulary_leaves_no_special_token_outside_it(capfd):
    """GPT-2's bos and eos ids (50256) were kept at vocab_size=1237, and transformers warned of each on every build."""
    spec = resolve_model("hf:gpt2", hf_config={**TINY_HF["hf:gpt2"], "vocab_size": 1237})
    config = spec.module.config
    assert config.vocab_size == 1237 and config.bos_token_id is None and config.eos_token_id is None
    assert "token_id" not in capfd.readouterr().err
    assert "bos_token_id" not in spec.name


def test_hf_overrides_build_the_model_the_config_class_builds_from_them():
    """LLaMA derives head_dim and its key-value heads from hidden_size and the head count: set one by one on the
    default config, they stayed at 7B's (128 and 32) and the projections were 8x too large, or failed to run."""
    from transformers import AutoModel, LlamaConfig

    settings = {"num_hidden_layers": 1, "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4}
    built = resolve_model("hf:llama", hf_config=settings).module
    expected = AutoModel.from_config(LlamaConfig(**settings))
    assert sum(p.numel() for p in built.parameters()) == sum(p.numel() for p in expected.parameters())
    assert built.config.head_dim == 16 and built.config.num_key_value_heads == 4


def test_a_negative_count_in_hf_config_is_one_sentence():
    with pytest.raises(HwprofError, match="num_hidden_layers is a count or size .12 by default., which cannot be neg"):
        resolve_model("hf:bert", hf_config={"num_hidden_layers": -2})


def test_llama_records_rmsnorm_silu_and_rotary_ops():
    spec = resolve_model("hf:llama", hf_config=TINY_HF["hf:llama"])
    layers, _ = run_and_extract(spec.module, spec.model_inputs, 1, seq_len=8)
    ops = [layer.op for layer in layers]
    assert ops.count("rmsnorm") == 3  # two per decoder layer, one final
    assert "silu" in ops and "cat" in ops and "neg" in ops  # rotary embedding's rotate_half
    assert "rotaryembedding" in ops  # LlamaRotaryEmbedding, named as every model's rotary embedding is
    assert family_of(spec.name) == "llama"


def test_hf_folder_with_config_json(tmp_path):
    from transformers import BertConfig

    BertConfig(**TINY_HF["hf:bert"]).save_pretrained(tmp_path)
    spec = resolve_model(f"hf:{tmp_path}")
    assert spec.module.config.hidden_size == 32
    assert spec.model_inputs.has_seq


@pytest.mark.slow
def test_a_hub_model_in_the_local_cache_is_built_offline(tmp_path):
    """hf:ORG/NAME reads a config the Hugging Face cache already holds, in the cache's own layout, and
    downloads nothing; a name the cache lacks is refused in one sentence. Fresh processes: the hub reads its
    cache folder when imported."""
    from transformers import BertConfig

    commit = "0123456789abcdef0123456789abcdef01234567"
    entry = tmp_path / "hub" / "models--acme--tiny-bert"
    BertConfig(**TINY_HF["hf:bert"]).save_pretrained(entry / "snapshots" / commit)
    (entry / "refs").mkdir()
    (entry / "refs" / "main").write_text(commit)
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}

    def resolve(name: str) -> subprocess.CompletedProcess:
        code = (
            "from hwprof.models.spec import resolve_model\n"
            f"spec = resolve_model({name!r})\n"
            "print(spec.name, spec.module.config.hidden_size, spec.family)"
        )
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)

    cached = resolve("hf:acme/tiny-bert")
    assert cached.returncode == 0, cached.stderr
    assert cached.stdout.split() == ["hf:acme/tiny-bert", "32", "bert"]
    missing = resolve("hf:acme/other-bert")
    assert missing.returncode != 0
    assert "unknown model 'hf:acme/other-bert'" in missing.stderr and "downloads nothing" in missing.stderr


@pytest.mark.parametrize(
    "name, default_shape",
    [("torchvision:squeezenet1_1", (3, 224, 224)), ("torchvision:inception_v3", (3, 299, 299))],
)
def test_torchvision_models_take_their_training_crop(name, default_shape):
    spec = resolve_model(name)
    assert spec.input_shape == default_shape
    assert family_of(name) == family_of_source_model(name) == name.split(":")[1].rstrip("_0123456789v")


def test_a_torchvision_model_built_without_weights_takes_the_size_it_declares():
    """vit_h_14's default weights were trained at 518, but built without them it is a 224 network."""
    from hwprof.models.tracing import MetaDevice, trace_layers

    with MetaDevice():  # 632 M parameters: built on meta, and traced there
        spec = resolve_model("torchvision:vit_h_14")
    assert spec.input_shape == (3, 224, 224)
    assert trace_layers(spec.module, spec.model_inputs, 1).tensors == "meta"


def test_a_config_setting_the_architecture_refuses_is_one_sentence():
    with pytest.raises(HwprofError, match="num_hidden_layers=1: the funnel config refuses it: .*block_sizes"):
        resolve_model("hf:funnel", hf_config={"num_hidden_layers": 1})
    with pytest.raises(HwprofError, match=r"for field 'num_hidden_layers': .*expected int, got str"):
        resolve_model("hf:bert", hf_config={"num_hidden_layers": "two"})


def test_a_model_of_text_and_images_gets_both_inputs():
    """CLIP's config keeps its vocabulary and image size in its text and vision parts."""
    from hwprof.models.tracing import MetaDevice, trace_layers

    with MetaDevice():
        spec = resolve_model("hf:clip")
    names = [s.name for s in spec.model_inputs.specs]
    assert names == ["input_ids", "attention_mask", "pixel_values"]
    assert spec.vocab_size == spec.module.config.text_config.vocab_size
    assert spec.model_inputs.specs[2].shape == (3, 224, 224)
    trace = trace_layers(spec.module, spec.model_inputs, 1)
    assert trace.tensors == "meta"
    assert {"conv2d", "embedding", "linear"} <= {layer.op for layer in trace.layers}


@pytest.mark.parametrize(
    "name, inputs, seq_len",
    [
        ("hf:t5", ["input_ids", "attention_mask", "decoder_input_ids"], 128),  # an encoder-decoder's decoder ids
        ("hf:xlnet", ["input_ids", "attention_mask"], 128),  # its "no limit" of -1 is not a length
    ],
)
def test_text_models_get_the_inputs_their_config_calls_for(name, inputs, seq_len):
    from hwprof.models.tracing import MetaDevice

    with MetaDevice():
        spec = resolve_model(name)
    assert [s.name for s in spec.model_inputs.specs] == inputs
    assert spec.model_inputs.default_seq_len == seq_len


def test_timm_model_builds_without_weights():
    spec = resolve_model("timm:convnext_atto")
    assert spec.input_shape == (3, 224, 224)
    assert spec.family == "convnext" == family_of("timm:convnext_atto")


@pytest.mark.parametrize(
    "name, closest",
    [
        ("torchvision:resnet19", "resnet18"),
        ("timm:convnext_tinyy", "convnext_tiny"),
        ("hf:bertt", "hf:bert"),
        ("hf:bert-base-uncased", "hf:bert"),
    ],
)
def test_unknown_name_within_a_source_names_the_closest(name, closest):
    with pytest.raises(HwprofError) as error:
        resolve_model(name)
    message = str(error.value)
    assert name in message and closest in message
    assert "\n" not in message


def test_hf_override_of_a_setting_the_config_lacks():
    with pytest.raises(HwprofError, match="config has no setting 'num_wheels'"):
        resolve_model("hf:bert", hf_config={"num_wheels": 4})


@pytest.mark.parametrize("prefix", ["torchvision", "timm", "hf"])
def test_missing_extra_says_which_pip_install_fixes_it(monkeypatch, prefix):
    real = importlib.util.find_spec
    package = SOURCES[prefix].package
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == package else real(name, *a))
    with pytest.raises(HwprofError) as error:
        resolve_model(f"{prefix}:whatever")
    import torch

    message = str(error.value)
    torch_minor = int(torch.__version__.split(".")[1])
    if prefix == "hf":
        assert message.endswith("run pip install transformers")
    else:  # torchvision pinned to the installed torch's, so that pip keeps the torch the user chose
        assert f"'torchvision==0.{torch_minor + 15}.*'" in message and "pip install -e" not in message
        assert ("pip install timm 'torchvision" in message) == (prefix == "timm")


def test_the_rmsnorm_sweep_is_left_out_on_a_torch_without_rmsnorm():
    """torch 2.1-2.3 (JetPack 5's wheels) have no nn.RMSNorm: measure, fit and `hwprof models` still load."""
    import subprocess
    import sys

    script = (
        "import torch.nn as nn\n"
        "del nn.RMSNorm\n"
        "from hwprof.sample_models.sweep import SAMPLERS\n"
        "assert 'rmsnorm' not in SAMPLERS and 'silu' in SAMPLERS\n"
        "from hwprof.cli import main\n"
        "main(['models'], standalone_mode=False)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "sweep:OP" in done.stdout and "rmsnorm" not in done.stdout


def test_each_source_lists_what_it_offers():
    assert "resnet50" in SOURCES["torchvision"].names()
    assert "convnext_tiny" in SOURCES["timm"].names()
    assert {"bert", "gpt2", "llama"} <= set(SOURCES["hf"].names())


def test_a_model_without_default_inputs_is_measured_on_the_inputs_given():
    """Whisper reads mel features, for which there is no default: without inputs, the sentence says to give
    them; given, they are what it runs on, its decoder ids drawn within the vocabulary."""
    with pytest.raises(HwprofError, match="takes input_features, for which hwprof has no default input"):
        resolve_model("hf:whisper", hf_config=TINY_WHISPER)
    given = ["input_features:float32[8,32]", "decoder_input_ids:int64[4]"]
    spec = resolve_model("hf:whisper", hf_config=TINY_WHISPER, inputs=given)
    assert [(s.name, s.shape) for s in spec.model_inputs.specs] == [
        ("input_features", (8, 32)),
        ("decoder_input_ids", (4,)),
    ]
    assert spec.model_inputs.specs[1].high == spec.module.config.vocab_size
    layers, _ = run_and_extract(spec.module, spec.model_inputs, 2)
    assert {"conv1d", "embedding", "linear"} <= {layer.op for layer in layers}


def test_an_unknown_name_close_to_a_built_in_names_the_closest():
    with pytest.raises(HwprofError, match="unknown model 'RESNET18': closest built-in: resnet18"):
        resolve_model("RESNET18")


@pytest.mark.parametrize("name", ["hf:mobilenet_v2", "timm:mobilenetv3_small_050", "torchvision:mobilenet_v3_small"])
def test_a_built_model_carries_the_family_its_name_gives(name):
    """Measure stores a network's family, fit reads it back from the name: the two agree, and one architecture
    is one family in every zoo."""
    from hwprof.models.tracing import MetaDevice

    with MetaDevice():
        spec = resolve_model(name)
    assert spec.family == family_of(spec.name) == "mobilenet"


def test_timm_batch_norms_and_squeeze_excite_pools_are_recorded_as_torch_nn_ops():
    """BatchNormAct2d calls F.batch_norm and squeeze-excite takes a mean: both were ops with no layer model."""
    from hwprof.models.tracing import MetaDevice, trace_layers

    with MetaDevice():
        spec = resolve_model("timm:mobilenetv3_small_050")
    ops = [layer.op for layer in trace_layers(spec.module, spec.model_inputs, 1).layers]
    assert "batchnorm" not in ops and "mean" not in ops
    assert ops.count("batchnorm2d") == 34 and ops.count("adaptiveavgpool2d") == 10  # 9 squeeze-excites, the head
