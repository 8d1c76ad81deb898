"""The tree is the data flow: imports only go down the layers, with no circles, and
predicting needs nothing from fitting or measuring.

Layers, top to bottom: cli -> search -> fitting -> predictor -> models, search -> measuring,
cli -> report -> fitting, measuring (a report reads what they write),
measuring -> models, drivers, dataset; models -> drivers (the host's facts: the memory a model may take);
everything may use the base modules.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {
    "hwprof": ROOT / "hwprof",
    "hwprof.drivers": ROOT / "drivers",
    "hwprof.sample_models": ROOT / "sample_models",
}
BASE = {
    "hwprof",
    "hwprof.errors",
    "hwprof.interrupts",
    "hwprof.schema",
    "hwprof.files",
    "hwprof.progress",
    "hwprof.plotting",
}
LAYER_OF_PACKAGE = {
    "hwprof.sample_models": "sample_models",
    "hwprof.drivers": "drivers",
    "hwprof.dataset": "dataset",
    "hwprof.samples": "dataset",
    "hwprof.traces": "dataset",
    "hwprof.compare": "dataset",
    "hwprof.models": "models",
    "hwprof.measuring": "measuring",
    "hwprof.predictor": "predictor",
    "hwprof.fitting": "fitting",
    "hwprof.search": "search",
    "hwprof.report": "report",
    "hwprof.cli": "cli",
    "hwprof.__main__": "cli",
}
MAY_IMPORT = {
    "base": set(),
    "sample_models": set(),
    "drivers": set(),
    "dataset": set(),
    "models": {"sample_models", "drivers"},
    "measuring": {"models", "sample_models", "drivers", "dataset"},
    "predictor": {"models", "sample_models"},
    "fitting": {"predictor", "models", "sample_models", "dataset"},
    "search": {"fitting", "predictor", "measuring", "models", "sample_models", "drivers", "dataset"},
    "report": {"fitting", "predictor", "measuring", "models", "sample_models", "drivers", "dataset"},
    "cli": {"search", "report", "fitting", "predictor", "measuring", "models", "sample_models", "drivers", "dataset"},
}


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if package == "hwprof" and parts[0] in ("drivers", "sample_models"):
                continue
            name = ".".join((package, *parts))
            found[name.removesuffix(".__init__")] = path
    return found


def layer(module: str) -> str:
    if module in BASE:
        return "base"
    for package, name in LAYER_OF_PACKAGE.items():
        if module == package or module.startswith(package + "."):
            return name
    raise AssertionError(f"{module} belongs to no layer: add it to LAYER_OF_PACKAGE or BASE")


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every hwprof module `name` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t == "hwprof" or t.startswith("hwprof."))
    return found - {name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_imports_only_go_down_the_layers():
    upward = []
    for module, targets in graph().items():
        for target in targets:
            mine, theirs = layer(module), layer(target)
            if theirs != mine and theirs != "base" and theirs not in MAY_IMPORT[mine]:
                upward.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert not upward, "\n".join(sorted(upward))


def test_no_module_imports_itself_through_others():
    edges = graph()
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    circles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if target not in edges:
                continue
            if state.get(target) == 1:
                circles.append(" -> ".join(path[path.index(target) :] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not circles, "\n".join(circles)


def test_the_layer_map_catches_an_upward_import():
    """The checker itself can fail: predictor importing fitting is refused."""
    assert "fitting" not in MAY_IMPORT[layer("hwprof.predictor.predictor")]
    assert layer("hwprof.fitting.pipeline") == "fitting" and layer("hwprof.files") == "base"


@pytest.mark.slow
def test_predicting_loads_neither_fitting_nor_measuring_nor_their_libraries(tmp_path):
    from fakes.synthetic import fitted_predictor_path

    path, _ = fitted_predictor_path(tmp_path)
    script = f"""
import sys
import hwprof
predictor = hwprof.load_predictor({str(path)!r})
predictor.predict_many(["mlp"], batch_size=2)
heavy = sorted(m for m in sys.modules if m.startswith(("sklearn", "scipy.optimize", "hwprof.fitting", "hwprof.measuring")))
print(",".join(heavy))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_import_hwprof_is_cheap_and_the_public_api_is_what_all_names():
    script = """
import sys
import hwprof
print("torch" in sys.modules)
print(",".join(sorted(hwprof.__all__)))
print(all(getattr(hwprof, name) is not None for name in hwprof.__all__))
"""
    lines = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert lines[0] == "False"
    assert lines[1].split(",") == sorted(
        [
            "EnergyMonitor",
            "HwprofError",
            "HwprofWarning",
            "MeasureOptions",
            "UnfinishedDatasetWarning",
            "Predictor",
            "__version__",
            "energy_window",
            "evaluate",
            "fit",
            "load_predictor",
            "measure",
            "merge",
            "read_dataset",
        ]
    )
    assert lines[2] == "True"
