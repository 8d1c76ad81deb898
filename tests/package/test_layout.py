"""The tree is the data flow: imports only go down the layers, with no circles, and
predicting needs nothing from fitting or measuring.

Layers, top to bottom: cli -> search -> fitting -> predictor -> models, search -> measuring,
cli -> report -> fitting, measuring (a report reads what they write),
measuring -> models, drivers, dataset; models -> drivers (the host's facts: the memory a model may take);
everything may use the base modules. Modules named in strings, to be loaded on first use, count as imports: the
package root's lazy table may name any layer, as the public API does.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

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
MAY_IMPORT["root"] = set(LAYER_OF_PACKAGE.values())  # the package root's lazy table, the public API


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


# a whole string naming a module: "hwprof.x.y", "hwprof.x.y:attribute"
MODULE_NAME = re.compile(r"hwprof(\.\w+)+(:[\w.]+)?")
IMPORT_CALLS = {"import_module", "__import__"}


def named_modules(path: Path, known: dict[str, Path]) -> set[str]:
    """Every hwprof module the file at `path` names in a string, to load it later (a lazy table's "hwprof.x.y" or
    "hwprof.x.y:attr", an import_module or __import__ argument), which no import statement shows. An import call
    whose argument is built (f"hwprof.x.{name}") names the module its leading text lies in, or, where that text
    shows none, the text itself, for the layering test to refuse."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_NAME.fullmatch(node.value):
            module = _known_prefix(node.value.partition(":")[0], known)
            if module:  # else a file name such as hwprof.parquet
                found.add(module)
        elif isinstance(node, ast.Call) and _called_name(node.func) in IMPORT_CALLS and node.args:
            text = _leading_text(node.args[0])
            if text.startswith("hwprof.") and not isinstance(node.args[0], ast.Constant):
                found.add(_known_prefix(text.rstrip("."), known) or text)
    return found


def _known_prefix(dotted: str, known: dict[str, Path]) -> str | None:
    """The longest module below the package root that `dotted` starts with (a module, or an attribute in one)."""
    parts = dotted.split(".")
    for end in range(len(parts), 1, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return None


def _called_name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _leading_text(node: ast.expr) -> str:
    """The text a string expression starts with: a constant, an f-string's first part, a sum's first term."""
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[0]
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        node = node.left
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


def graph() -> dict[str, set[str]]:
    """What each module's import statements import. A module named in a string loads on first use, after the
    module naming it has loaded, so it closes no circle: only the layering test counts those."""
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def upward_edges(edges: dict[str, set[str]], known: dict[str, Path]) -> list[str]:
    upward = []
    for module, targets in edges.items():
        mine = "root" if module == "hwprof" else layer(module)
        for target in targets:
            if target not in known:
                upward.append(f"{module} ({mine}) imports a module built from {target!r}: name the module whole")
                continue
            theirs = layer(target)
            if theirs != mine and theirs != "base" and theirs not in MAY_IMPORT[mine]:
                upward.append(f"{module} ({mine}) imports {target} ({theirs})")
    return sorted(upward)


def test_imports_only_go_down_the_layers():
    known = modules()
    edges = {name: imports(name, path, known) | named_modules(path, known) for name, path in known.items()}
    upward = upward_edges(edges, known)
    assert not upward, "\n".join(upward)


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


def test_modules_named_in_strings_are_held_to_the_layers(tmp_path):
    """A predictor module that loads fitting and measuring by name, as no import statement shows, is refused; the
    package root naming them in its lazy table is not, nor a file name that starts like a module."""
    known = modules()
    predictor = tmp_path / "predictor_module.py"
    predictor.write_text(
        "import importlib\n"
        "def lazy(name):\n"
        "    fit = importlib.import_module('hwprof.fitting.fit')\n"
        "    session = __import__('hwprof.measuring.session')\n"
        "    table = {'search': 'hwprof.search.study:run_search', 'out': 'hwprof.parquet'}\n"
        "    return importlib.import_module(f'hwprof.report.{name}'), importlib.import_module('hwprof.' + name)\n"
    )
    named = named_modules(predictor, known)
    assert named == {
        "hwprof.fitting.fit",
        "hwprof.measuring.session",
        "hwprof.search.study",
        "hwprof.report",
        "hwprof.",
    }
    assert upward_edges({"hwprof.predictor.lazy": named}, known) == [
        "hwprof.predictor.lazy (predictor) imports a module built from 'hwprof.': name the module whole",
        "hwprof.predictor.lazy (predictor) imports hwprof.fitting.fit (fitting)",
        "hwprof.predictor.lazy (predictor) imports hwprof.measuring.session (measuring)",
        "hwprof.predictor.lazy (predictor) imports hwprof.report (report)",
        "hwprof.predictor.lazy (predictor) imports hwprof.search.study (search)",
    ]
    assert upward_edges({"hwprof": named - {"hwprof."}}, known) == []


def test_predicting_loads_neither_fitting_nor_measuring_nor_their_libraries(tmp_path):
    from fakes.synthetic import fitted_predictor_path

    path, _ = fitted_predictor_path(tmp_path, cv=False)
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
