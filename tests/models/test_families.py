"""Families from model names alone, as datasets store them: one architecture is one family whichever zoo
builds it, and two unrelated networks are never one, since validation holds a family out whole."""

import pytest

from hwprof.models.sources import hf_family
from hwprof.models.spec import family_of
from hwprof.sample_models import MODELS


@pytest.mark.parametrize(
    "names, family",
    [
        (
            [
                "timm:mobilenetv3_small_050",
                "timm:tf_mobilenetv3_large_100",
                "timm:mobilenetv4_conv_small",
                "torchvision:mobilenet_v3_small",
                "hf:mobilenet_v2",
                "mobilenet_v2",
            ],
            "mobilenet",
        ),
        (
            [
                "timm:efficientnetv2_s",
                "timm:tf_efficientnet_b0",
                "torchvision:efficientnet_v2_s",
                "torchvision:efficientnet_b0",
                "hf:efficientnet",
            ],
            "efficientnet",
        ),
        (["timm:convnextv2_atto", "timm:convnext_atto", "torchvision:convnext_tiny", "hf:convnextv2"], "convnext"),
        (["timm:regnety_004", "timm:regnetx_002", "torchvision:regnet_y_400mf", "hf:regnet"], "regnet"),
        (["timm:resnet50d", "timm:resnetv2_50", "torchvision:wide_resnet50_2", "hf:resnet", "resnet18"], "resnet"),
        (["timm:swinv2_tiny_window8_256", "torchvision:swin_v2_t", "hf:swinv2"], "swin"),
        (["timm:vit_base_patch16_224", "timm:test_vit", "torchvision:vit_b_16", "hf:vit", "vit_tiny"], "vit"),
        (["timm:legacy_seresnet18", "timm:seresnet50"], "seresnet"),
        (["timm:eca_resnet33ts", "timm:ecaresnet50d"], "ecaresnet"),
        (["timm:res2net50d", "timm:res2net50_26w_4s"], "res2net"),
        (["timm:hgnetv2_b0", "hf:hgnet_v2"], "hgnet"),
        (["hf:clip", "hf:clip_vision_model", "hf:clip_text_model"], "clip"),
    ],
)
def test_one_architecture_is_one_family_in_every_zoo(names, family):
    assert {name: family_of(name) for name in names} == dict.fromkeys(names, family)


@pytest.mark.parametrize(
    "names",
    [
        ["timm:efficientnet_b0", "timm:efficientformer_l1", "timm:efficientvit_b0", "timm:efficientvim_m1"],
        ["timm:vit_base_patch16_224", "timm:deit_base_patch16_224", "timm:tiny_vit_5m_224"],
        ["timm:resnet50", "timm:resnext50_32x4d", "timm:seresnet50", "timm:resnest50d"],
        ["timm:inception_v3", "timm:inception_next_tiny", "timm:tf_mixnet_s", "timm:tf_efficientnet_b0"],
        ["hf:gemma", "timm:gemma4_vit_167m"],  # Gemma's language model and its vision tower
    ],
)
def test_different_architectures_are_different_families(names):
    families = [family_of(name) for name in names]
    assert len(set(families)) == len(names), dict(zip(names, families))


@pytest.mark.parametrize(
    "model_type, family",
    [("gpt2", "gpt2"), ("t5", "t5"), ("wav2vec2", "wav2vec2"), ("speech_to_text", "speech_to_text")],
)
def test_a_hugging_face_type_keeps_the_digits_and_words_of_its_name(model_type, family):
    assert hf_family(model_type) == family


def test_the_built_in_models_keep_their_families():
    assert {name: family_of(name) for name in MODELS} == {name: entry.family for name, entry in MODELS.items()}
    assert {family_of(name) for name in MODELS} == {"alexnet", "mlp", "mobilenet", "resnet", "squeezenet", "vgg", "vit"}


@pytest.mark.parametrize(
    "name, family",
    [
        ("path/to/convnet.py:build", "convnet"),
        ("path/to/mlpnet.py:build", "mlpnet"),
        ("/abs/path/convnet.py:get_model@seq_len=32", "convnet"),
        ("nets/tinycnn/model.py:make", "tinycnn"),  # a generic file too: its folder names it
        ("model.py:make", "model"),
        ("zoo.py:wide_cnn", "wide_cnn"),  # a factory that names its network keeps the name
        ("demo/demo_family.py:cnn_channels16_depth2", "cnn_channels16_depth2"),
        ("C:\\work\\convnet.py:Build", "convnet"),
    ],
)
def test_a_factory_is_named_by_its_file_where_its_own_name_is_generic(name, family):
    assert family_of(name) == family


def test_a_factory_built_from_its_file_has_the_family_fit_reads_from_its_name(tmp_path):
    """The network row's config records the spec's family: build() of convnet.py is convnet there too."""
    from hwprof.models.spec import resolve_model

    path = tmp_path / "convnet.py"
    path.write_text(
        "import torch.nn as nn\n\ndef build():\n    model = nn.Sequential(nn.Linear(4, 4))\n"
        "    model.input_shape = (4,)\n    return model\n"
    )
    spec = resolve_model(f"{path}:build")
    assert spec.family == family_of(spec.name) == "convnet"


def test_a_searchs_verified_candidates_are_one_family_the_spaces():
    """fit counted each candidate search --verify measured as a family of its own (space[trial 0], space[trial 2])
    and advised measuring other families to adapt to the space."""
    from hwprof.models.spec import candidate_name

    assert {family_of(candidate_name("space", n)) for n in (0, 2, 11)} == {"space"}
