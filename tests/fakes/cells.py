"""Network rows of NAS-Bench-201 cells under a planted analytic cost law: real, traceable model names."""

import numpy as np
import pandas as pd

from fakes.synthetic import _row
from hwprof.predictor.features import LayerRecord
from hwprof.predictor.records import network_layers
from hwprof.schema import REQUIRED_COLUMNS

CELLS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_3x3~0|none~1|nor_conv_1x1~2|",
    "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|",
    "|skip_connect~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|avg_pool_3x3~1|skip_connect~2|",
    "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_3x3~0|nor_conv_1x1~1|avg_pool_3x3~2|",
    "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|",
    "|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_1x1~2|",
    "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|avg_pool_3x3~0|+|nor_conv_3x3~0|none~1|+|nor_conv_3x3~0|nor_conv_3x3~1|skip_connect~2|",
]
NEW_CELL = "nb201:|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_1x1~2|"


def planted_ms(records) -> float:
    """0.8 ms per GMAC, 0.02 ms per MB moved, 5 us per layer."""
    gmac = sum(r.flops for r in records) / 1e9
    mb = sum(r.input_bytes + r.output_bytes + r.weight_bytes for r in records) / 1e6
    return 0.8 * gmac + 0.02 * mb + 0.005 * len(records)


def cell_frame(cells, device: str, law=planted_ms, seed: int = 0, noise: float = 0.03) -> pd.DataFrame:
    """Network rows (batch 1 and 2) of `cells` with latency law(records) and log-normal noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for cell in cells:
        for batch in (1, 2):
            records = network_layers(f"nb201:{cell}", batch).records
            total = LayerRecord("network", "{}", sum(r.flops for r in records), 0.0, 0.0, 0.0)
            latency = law(records) * float(np.exp(rng.normal(0, noise)))
            rows.append(_row("network", f"nb201:{cell}", batch, -1, "", total, latency, None, device))
    return pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS))
