"""A NAS-Bench-201 network's layers composed from its cell, without building or tracing the network.

Every NAS-Bench-201 network shares one skeleton (stem, two residual reductions,
head) and repeats one cell five times per stage; a cell's layers follow from
which edges run (`cell_plan`) and what each op records at its stage. So two
networks are traced once per batch size, dtype and layout, and every other cell's
layers, names included, are put together from their pieces: what a search over
the 15,625 cells needs, at microseconds a network instead of tens of
milliseconds for building and tracing each. The result equals a trace
(`tests/predictor/test_nb201_records.py` compares them).
"""

from __future__ import annotations

from dataclasses import dataclass

from hwprof.predictor.features import LayerRecord

# Two reference cells between them run every op, a sum of three terms, a sum of one tensor with itself
# (node 1 passes node 0 on, node 2 adds the two: torch records that add apart), and a node of `none` edges
# only (zeros_like).
EVERY_OP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_1x1~2|"
ZEROS = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
ADD, ZEROS_LIKE = "add", "zeros_like"  # fx names repeated functions add, add_1, add_2, ... network-wide
REDUCTION_ADDS = 1  # a residual reduction adds its shortcut to its convolutions


@dataclass(frozen=True)
class _Pieces:
    head: list[tuple[str, LayerRecord]]  # stem
    reductions: dict[int, list[tuple[str | None, LayerRecord]]]  # block index -> its layers (None: an add)
    edges: dict[tuple[int, str], list[tuple[str, LayerRecord]]]  # (stage, op) -> (name suffix, record)
    adds: dict[tuple[int, bool], LayerRecord]  # (stage, one tensor added to itself) -> a node's sum
    zeros: dict[int, LayerRecord]  # stage -> zeros_like of the cell input
    tail: list[tuple[str, LayerRecord]]  # final norm, pooling, classifier


_pieces: dict[tuple, _Pieces | None] = {}  # (batch size, dtype, channels_last) -> pieces, the oldest dropped
PIECES_SIZE = 16  # each holds two reference networks' records: a service's many batch sizes must not pile up


def clear_pieces() -> None:
    _pieces.clear()


def compose(parsed, batch_size: int, dtype: str, channels_last: bool, trace) -> tuple[list[str], list] | None:
    """(layer names, records) of the network of the `parsed` cell (`parse_arch`'s result); `trace(arch)`
    traces a whole network when pieces are needed. None when the reference networks could not be traced
    on meta (the caller then traces the cell's network itself)."""
    from hwprof.sample_models.nb201 import CELLS_PER_STAGE, cell_plan

    key = (batch_size, dtype, channels_last)
    if key not in _pieces:
        if len(_pieces) >= PIECES_SIZE:
            del _pieces[next(iter(_pieces))]
        _pieces[key] = _cut(trace(EVERY_OP), trace(ZEROS))
    pieces = _pieces[key]
    if pieces is None:
        return None
    plan = cell_plan(parsed)
    names, records = [n for n, _ in pieces.head], [r for _, r in pieces.head]
    counts = {ADD: 0, ZEROS_LIKE: 0}

    def numbered(function: str) -> str:
        count = counts[function]
        counts[function] += 1
        return function if count == 0 else f"{function}_{count}"

    repeats = iter(_self_sums(plan) * (3 * CELLS_PER_STAGE))
    for block in range(3 * CELLS_PER_STAGE + 2):
        if block in pieces.reductions:
            for name, record in pieces.reductions[block]:
                names.append(name or numbered(ADD))
                records.append(record)
            continue
        stage = block // (CELLS_PER_STAGE + 1)
        for terms in plan:
            if terms is None:
                continue
            if not terms:
                names.append(numbered(ZEROS_LIKE))
                records.append(pieces.zeros[stage])
            for position, (_, edge, op) in enumerate(terms):
                if edge is not None:
                    for suffix, record in pieces.edges[stage, op]:
                        names.append(f"cells.{block}.edges.{edge}{suffix}")
                        records.append(record)
                if position:
                    names.append(numbered(ADD))
                    records.append(pieces.adds[stage, next(repeats)])
    names += [n for n, _ in pieces.tail]
    records += [r for _, r in pieces.tail]
    return names, records


def _cut(every_op, zeros) -> _Pieces | None:
    """The pieces of the two reference traces (TracedNetwork), or None unless both ran on meta."""
    from hwprof.sample_models.nb201 import CELLS_PER_STAGE, cell_plan, parse_arch

    if every_op.traced_on != "meta" or zeros.traced_on != "meta":
        return None
    layers = list(zip(every_op.layer_names, every_op.records))
    blocks = 3 * CELLS_PER_STAGE + 2
    reduction_blocks = {CELLS_PER_STAGE * (s + 1) + s for s in range(2)}  # 5 and 11
    reference_plan = cell_plan(parse_arch(EVERY_OP))
    reference_sums = _self_sums(reference_plan)
    cell_adds = len(reference_sums)
    head = [(n, r) for n, r in layers if n.startswith("stem.")]
    rest = layers[len(head) :]
    # Adds carry no block in their names and a cell can begin with one, so each block takes its own named
    # layers and as many adds as it runs, in order.
    by_block: dict[int, list[tuple[str, LayerRecord]]] = {}
    position = 0
    for block in range(blocks):
        adds_left = REDUCTION_ADDS if block in reduction_blocks else cell_adds
        taken = []
        while position < len(rest):
            name, record = rest[position]
            if _is(name, ADD) and adds_left:
                adds_left -= 1
            elif not name.startswith(f"cells.{block}."):
                break
            taken.append((name, record))
            position += 1
        by_block[block] = taken
    tail = rest[position:]
    reductions = {b: [(None if _is(n, ADD) else n, r) for n, r in by_block[b]] for b in reduction_blocks}
    ops = {key: op for terms in reference_plan for _, key, op in terms if key}
    edges, adds = {}, {}
    for stage in range(3):
        block = stage * (CELLS_PER_STAGE + 1)
        prefix = f"cells.{block}.edges."
        repeats = iter(reference_sums)
        for name, record in by_block[block]:
            if _is(name, ADD):
                adds[stage, next(repeats)] = record
                continue
            edge, _, child = name[len(prefix) :].partition(".")
            suffix = f".{child}" if child else ""
            op_layers = edges.setdefault((stage, ops[edge]), [])
            if suffix not in [known for known, _ in op_layers]:  # the op's first edge; the others repeat it
                op_layers.append((suffix, record))
    zero_records = [r for n, r in zip(zeros.layer_names, zeros.records) if _is(n, ZEROS_LIKE)]
    zeros_by_stage = {stage: zero_records[stage * CELLS_PER_STAGE] for stage in range(3)}
    return _Pieces(head, reductions, edges, adds, zeros_by_stage, tail)


def _self_sums(plan) -> list[bool]:
    """For each add a cell runs, in order: whether it adds one tensor to itself (two skip connections
    from nodes holding the same tensor, as when node 1 only passes node 0 on)."""
    holds = [0]  # which tensor each node holds: a skip-only node holds its source's
    made = 0
    kinds = []
    for terms in plan:
        if not terms:
            made += 1
            holds.append(made)
            continue
        values = []
        for source, edge, _ in terms:
            made += edge is not None
            values.append(holds[source] if edge is None else made)
        if len(values) == 1:
            holds.append(values[0])
            continue
        kinds += [values[0] == values[1]] + [False] * (len(values) - 2)
        made += 1
        holds.append(made)
    return kinds


def _is(name: str, function: str) -> bool:
    """Whether a layer name is fx's name for a call of `function` (add, add_1, ...)."""
    return name == function or (name.startswith(function + "_") and name[len(function) + 1 :].isdigit())
