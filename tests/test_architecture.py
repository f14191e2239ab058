"""The layout of docs/architecture.md holds: floors, no import circles, short modules.

The imports are read from the source (``ast``), function-level imports included, so a lazy
import cannot hide an arrow that runs back up.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Each part of the library and its floor (docs/architecture.md): a part imports only
#: parts on lower floors, and itself.
FLOORS = {
    "skeleton": 0, "metrics": 0, "io": 0, "paths": 0, "outputs": 0, "interrupts": 0,
    "native_output": 0,
    "layers": 1, "losses": 1, "video_writer": 1,
    "models": 2, "render": 2,
    "data": 3, "visualize": 3,
    "engine": 4, "training": 4,
    "export": 5, "pretrained": 5,
    "inference": 6,
    "evaluation": 7, "triangulation": 7,
    "bench": 8,
    "posenet": 9,  # the package's face: hands ``Predictor`` on
    "cli": 10,
}
MAX_LINES = 400


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for posenet/ and cli/."""
    found = {}
    for top in ("posenet", "cli"):
        for path in sorted((ROOT / top).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known) -> set[str]:
    """The project modules that module ``name`` imports (anywhere in its body)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                out.add(target if target in known else base)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {m for m in out if m in known and m != name}


def part(name: str) -> str:
    pieces = name.split(".")
    return "cli" if pieces[0] == "cli" else (pieces[1] if len(pieces) > 1 else "posenet")


@pytest.fixture(scope="module")
def graph():
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_every_part_has_a_floor(graph):
    assert sorted({part(m) for m in graph} - set(FLOORS)) == []


def test_imports_run_down_the_floors(graph):
    upward = [f"{a} -> {b}" for a, targets in graph.items() for b in sorted(targets)
              if part(a) != part(b) and FLOORS[part(b)] >= FLOORS[part(a)]]
    assert upward == []


def test_no_import_circles(graph):
    # Tarjan's strongly connected components; any component of two or more is a circle.
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert circles == []


def test_modules_are_short():
    long = {str(p.relative_to(ROOT)): n for p in modules().values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_floor_check_sees_an_upward_import(graph):
    # the check itself: a data module importing inference would be reported
    fake = dict(graph)
    fake["posenet.data.loader"] = graph["posenet.data.loader"] | {"posenet.inference.schema"}
    upward = [a for a, targets in fake.items() for b in targets
              if part(a) != part(b) and FLOORS[part(b)] >= FLOORS[part(a)]]
    assert upward == ["posenet.data.loader"]
