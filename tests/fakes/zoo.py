"""Tiny offline configurations of the zoo sources, shared by the tests that build them."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be downloaded
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TINY_HF = {
    "hf:bert": {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64},
    "hf:gpt2": {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2},
    "hf:llama": {
        "num_hidden_layers": 1,
        "hidden_size": 32,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "intermediate_size": 64,
    },
}
# a speech model: mel features in, no default inputs; 2 x 16 frames
TINY_WHISPER = {
    "max_source_positions": 16,
    "num_mel_bins": 8,
    "d_model": 32,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 32,
    "decoder_ffn_dim": 32,
}
