"""The built-in demo: a small CNN family trained on scikit-learn's bundled digits (8x8 images).

Nothing is downloaded: the digits ship inside scikit-learn. A training run
takes well under a second to a few seconds on a laptop CPU, so a whole
constrained search finishes in minutes. Larger members of the family are
both slower to run and slower to train, which is exactly where skipping
configurations predicted to break the budget pays off.
"""

from __future__ import annotations

import functools
import hashlib
import json

import torch
import torch.nn as nn

from hwprof.files import write_text_atomically
from hwprof.progress import Progress

DEMO_INPUT_SHAPE = (1, 8, 8)
DEMO_EPOCHS = 6
DEMO_BATCH = 32
DEMO_SPLIT_SEED = 0
DEMO_DATASET = "demo-measurements.parquet"  # in the search's --out folder, resumed by the next run

DEMO_SPACE = {
    "name": "digits-cnn",
    "factory": "hwprof.search.demo:build_digits_cnn",
    "input_shape": list(DEMO_INPUT_SHAPE),
    "objective": "hwprof.search.demo:train_on_digits",
    "params": {
        "channels": [4, 8, 16, 32, 64],
        "depth": {"low": 1, "high": 3},
        "kernel_size": [3, 5],
        "hidden": [16, 64, 256],
        "pool": [True, False],
        "lr": {"low": 0.0003, "high": 0.03, "log": True},
    },
    "fixed": {"num_classes": 10},
}


def demo_space():
    from hwprof.search.space import space_from_dict

    return space_from_dict(DEMO_SPACE)


class DigitsCNN(nn.Module):
    """depth x (conv-batchnorm-relu) on 8x8 digits, optional 2x2 pooling, then a two-layer head."""

    def __init__(self, channels: int, depth: int, kernel_size: int, hidden: int, pool: bool, num_classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = DEMO_INPUT_SHAPE[0]
        for index in range(depth):
            layers += [
                nn.Conv2d(in_channels, channels, kernel_size, padding=kernel_size // 2, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(),
            ]
            if pool and index == 0:
                layers.append(nn.MaxPool2d(2))
            in_channels = channels
        self.features = nn.Sequential(*layers)
        side = DEMO_INPUT_SHAPE[1] // 2 if pool else DEMO_INPUT_SHAPE[1]
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(channels * side * side, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)
        )

    def forward(self, x):
        return self.head(self.features(x))


def build_digits_cnn(
    channels: int, depth: int, kernel_size: int, hidden: int, pool: bool, num_classes: int = 10, lr: float | None = None
) -> DigitsCNN:
    """The demo's model factory (`lr` is a training setting and does not change the network)."""
    return DigitsCNN(channels, depth, kernel_size, hidden, pool, num_classes)


@functools.lru_cache(maxsize=1)
def digits_split() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The 1,797 bundled digits, scaled to [0, 1], split 80/20 with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    labels = torch.tensor(digits.target, dtype=torch.long)
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=0.2, random_state=DEMO_SPLIT_SEED, stratify=labels
    )
    return train_x, train_y, test_x, test_y


def train_on_digits(model: nn.Module, params: dict) -> float:
    """The demo's objective: train with Adam for a few epochs, return held-out accuracy in [0, 1].

    Seeded from the configuration (initial weights and batch order), so one configuration always scores
    the same.
    """
    train_x, train_y, test_x, test_y = digits_split()
    seed = int(hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:8], 16)
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    for module in model.modules():  # weights drawn from the seed too, not from when the model was built
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=float(params.get("lr", 0.003)))
    loss_function = nn.CrossEntropyLoss()
    for _ in range(DEMO_EPOCHS):
        order = torch.randperm(len(train_x), generator=generator)
        for start in range(0, len(order), DEMO_BATCH):
            batch = order[start : start + DEMO_BATCH]
            optimizer.zero_grad()
            loss_function(model(train_x[batch]), train_y[batch]).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        return float((model(test_x).argmax(dim=1) == test_y).float().mean())


def demo_measurement_configs(space, count: int, seed: int = 0) -> list[dict]:
    """`count` architectures spanning the family: every parameter at its minimum, at its maximum, and random ones."""
    import random

    rng = random.Random(seed)
    architecture = [p for p in space.params if p.name != "lr"]
    lowest = {p.name: (min(p.choices) if p.kind == "choice" else p.low) for p in architecture}
    highest = {p.name: (max(p.choices) if p.kind == "choice" else p.high) for p in architecture}
    configs = [lowest, highest]
    while len(configs) < count:
        config = {
            p.name: (rng.choice(p.choices) if p.kind == "choice" else rng.randint(int(p.low), int(p.high)))
            for p in architecture
        }
        if config not in configs:
            configs.append(config)
    return configs[:count]


def demo_predictor(out_dir, count: int = 12, threads: int | None = None, progress: Progress | None = None):
    """A predictor fitted on this machine from `count` demo networks measured here (reused when present).

    The networks are written as named factories into OUT/demo_family.py, so the measured rows carry
    ordinary `file.py:factory` model names that `hwprof fit` resolves from network rows alone.
    """
    from pathlib import Path

    from hwprof.dataset import journal_path
    from hwprof.fitting.fit import fit
    from hwprof.measuring.session import measure
    from hwprof.predictor.predictor import load_predictor

    progress = progress or Progress()
    out_dir = Path(out_dir).resolve()
    predictor_path = out_dir / "demo-predictor.json"
    if predictor_path.exists():
        progress.note(f"using the demo predictor fitted earlier: {predictor_path}")
        return load_predictor(predictor_path), predictor_path
    out_dir.mkdir(parents=True, exist_ok=True)
    family_file = out_dir / "demo_family.py"
    configs = demo_measurement_configs(demo_space(), count)
    write_text_atomically(family_file, demo_family_source(configs))
    names = [f"{family_file}:{_factory_name(config)}" for config in configs]
    dataset = out_dir / DEMO_DATASET
    progress.note(
        f"measuring {len(names)} networks of the demo family on this machine (network rows only) into {dataset}"
    )
    measure(
        names,
        batch_sizes=(1,),
        device="cpu",
        power="none",
        threads=threads,
        layers=False,
        precision=0.05,
        max_item_s=3.0,
        out=str(dataset),
        resume=dataset.exists() or journal_path(dataset).exists(),  # a first run starts it, unnoted
        progress=_WarningsOf(progress),  # others holding the CPU inflate the predictor and budget fitted here
    )
    progress.note(f"fitting the demo predictor from those rows: {predictor_path}")
    # the demo's own model file, written above, names its network rows
    fit([dataset], out=predictor_path, targets="latency", run_model_files=True)
    return load_predictor(predictor_path), predictor_path


class _WarningsOf(Progress):
    """The demo's measurement, told to the demo's progress by its warnings alone (contention, a sensor)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def warn(self, text: str) -> None:
        self.progress.warn(text)


def _factory_name(config: dict) -> str:
    return "cnn_" + "_".join(
        f"{key}{int(value) if isinstance(value, bool) else value}" for key, value in config.items()
    )


def demo_family_source(configs: list[dict]) -> str:
    """A Python file with one argument-free factory per configuration, for `file.py:factory` model names."""
    lines = [
        '"""Demo networks measured to fit the demo predictor (written by hwprof search demo)."""',
        "",
        "from hwprof.search.demo import DEMO_INPUT_SHAPE, build_digits_cnn",
        "",
    ]
    for config in configs:
        name = _factory_name(config)
        arguments = ", ".join(f"{key}={value!r}" for key, value in config.items())
        lines += [
            "",
            f"def {name}():",
            f"    return build_digits_cnn({arguments})",
            "",
            f"{name}.input_shape = DEMO_INPUT_SHAPE",
            "",
        ]
    return "\n".join(lines)


def demo_default_budget(predictor, samples: int = 32, seed: int = 0) -> str:
    """'latency_ms<=X' with X the median predicted latency of random demo configurations on the predictor's board
    (this machine's, unless --predictor names another's).

    Latencies differ from machine to machine, so a fixed number would bind on one laptop and not on another;
    the median cuts the family in half wherever the demo runs.
    """
    import random
    import statistics

    from hwprof.models.spec import ModelSpec

    space = demo_space()
    rng = random.Random(seed)
    predicted = []
    for index in range(samples):
        config = {
            p.name: (
                rng.choice(p.choices)
                if p.kind == "choice"
                else (rng.randint(int(p.low), int(p.high)) if p.kind == "int" else p.low)
            )
            for p in space.params
        }
        spec = ModelSpec(f"digits-cnn:budget-probe-{seed}-{index}", space.build(config), space.input_shape, space.name)
        predicted.append(predictor.predict(spec, batch_size=1, input_shape=space.input_shape).total["latency_ms"])
    return f"latency_ms<={statistics.median(predicted):.3g}"
