"""How far a network lies from the networks a predictor was trained on.

A prediction's interval is calibrated on held-out families, so it is honest
for networks about as far from the training set as those families were. Each
network is described by the log of its layer count, MACs and bytes in each op
group, scaled by the training spread; its distance is the root-mean-square
difference to the nearest training network. The predictor file keeps the
training networks' descriptors and the largest distance any held-out family
showed: a network further away than that is outside what was validated.
"""

from __future__ import annotations

import numpy as np

from hwprof.predictor.features import ADDITIVE_KINDS, AGGREGATE_KINDS, OP_GROUPS

KIND_COLUMNS = [AGGREGATE_KINDS.index(kind) for kind in ADDITIVE_KINDS]
MAX_STORED_NETWORKS = 2000  # bounds the file; a random subset still maps the region covered
MIN_SCALE = 0.1  # a descriptor column constant in training still counts differences of ~10%
SAME_NETWORK_DISTANCE = 1e-3  # nearer than this is a training network itself (the file rounds to 4 decimals)


def descriptors(aggregates: np.ndarray) -> np.ndarray:
    """(n_networks, groups x kinds) log1p of each group's layer count, GMAC and MB."""
    per_group = np.asarray(aggregates, dtype=float).reshape(len(aggregates), len(OP_GROUPS), len(AGGREGATE_KINDS))
    return np.log1p(np.maximum(per_group[:, :, KIND_COLUMNS], 0.0)).reshape(
        len(aggregates), len(OP_GROUPS) * len(KIND_COLUMNS)
    )


class Domain:
    """The training networks' descriptors, and the distance held-out families showed."""

    def __init__(self, centre: np.ndarray, scale: np.ndarray, networks: np.ndarray, family_distance: float):
        self.centre = centre
        self.scale = scale
        self.networks = networks  # scaled descriptors of (a subset of) the training networks
        self.family_distance = family_distance  # largest nearest distance of a network to the other families

    @classmethod
    def fit(cls, aggregates: np.ndarray, families: np.ndarray, seed: int = 0) -> Domain:
        """From the training networks and the groups cross-validation held out together."""
        d = descriptors(aggregates)
        centre = d.mean(axis=0)
        scale = np.maximum(d.std(axis=0), MIN_SCALE)
        scaled = (d - centre) / scale
        families = np.asarray(families)
        family_distance = 0.0
        if len(np.unique(families)) >= 2:
            for family in np.unique(families):
                mine = families == family
                family_distance = max(family_distance, float(_nearest(scaled[mine], scaled[~mine]).max()))
        if len(scaled) > MAX_STORED_NETWORKS:
            keep = np.random.default_rng(seed).choice(len(scaled), MAX_STORED_NETWORKS, replace=False)
            scaled = scaled[np.sort(keep)]
        return cls(centre, scale, scaled, family_distance)

    def distance(self, aggregates: np.ndarray) -> np.ndarray:
        """Each network's distance to its nearest training network."""
        scaled = (descriptors(aggregates) - self.centre) / self.scale
        nearest = _nearest(scaled, self.networks)
        return np.where(nearest < SAME_NETWORK_DISTANCE, 0.0, nearest)

    def to_json(self) -> dict:
        return {
            "descriptor": "log1p of (layer count, GMAC, MB) per op group, minus centre, over scale",
            "centre": self.centre.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "networks": self.networks.round(4).tolist(),
            "family_distance": self.family_distance,
        }

    @classmethod
    def from_json(cls, doc: dict) -> Domain:
        """The domain a file records, checked against the descriptor's width: a list cut short by hand would
        fail every distance later, where nothing says the file is at fault (ValueError names the part)."""
        width = len(OP_GROUPS) * len(KIND_COLUMNS)
        centre, scale = (np.asarray(doc[key], dtype=float) for key in ("centre", "scale"))
        networks = np.asarray(doc["networks"], dtype=float)
        networks = networks.reshape(0, width) if networks.size == 0 else networks
        for key, values in (("centre", centre), ("scale", scale)):
            if values.shape != (width,):
                raise ValueError(f"domain.{key} holds {values.size} values, not the {width} of its descriptor")
        if networks.ndim != 2 or networks.shape[1] != width:
            raise ValueError(f"domain.networks holds rows of {networks.shape[1:]} values, not {width} each")
        if not (np.isfinite(centre).all() and np.isfinite(networks).all() and (scale > 0).all()):
            raise ValueError("domain holds a number that is not finite, or a scale that is not positive")
        family_distance = float(doc["family_distance"])
        if not family_distance >= 0:
            raise ValueError(f"domain.family_distance is {family_distance}, not a distance")
        return cls(centre, scale, networks, family_distance)


def _nearest(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Root-mean-square distance from each point to its nearest reference point (|a|^2 + |b|^2 - 2ab, by
    blocks of points, so a batch of 100,000 networks costs matrix products, not a 3-D array)."""
    if len(reference) == 0:
        return np.full(len(points), np.inf)
    out = np.empty(len(points))
    reference_norms = (reference**2).sum(axis=1)
    for start in range(0, len(points), 1024):
        block = points[start : start + 1024]
        squared = (block**2).sum(axis=1)[:, None] + reference_norms[None, :] - 2.0 * block @ reference.T
        out[start : start + 1024] = np.sqrt(np.maximum(squared.min(axis=1), 0.0) / points.shape[1])
    return out
