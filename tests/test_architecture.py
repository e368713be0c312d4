"""The layout's promises (README: Architecture), checked on the source: one-way data flow, no import cycle,
models/ independent of planner/, the CLI imported by nobody, no module that both solves and writes Excel,
no over-long function."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("planner", "models")
SOLVER_MODULES = ("pyomo", "highspy", "models.solve", "models.build")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[str]:
    """Every module `path` imports, at the top or inside a function (absolute names)."""
    tree = ast.parse(path.read_text())
    package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module_name(path)
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and getattr(block.test, "id", "") == "TYPE_CHECKING" for n in ast.walk(block)}
    out = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue  # type hints only: never imported at run time
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append(name)
            out += [f"{name}.{a.name}" for a in node.names]  # `from planner import pipeline`
    return out


def _graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    mods = {_module_name(p): p for p in files}
    graph = {}
    for name, path in mods.items():
        graph[name] = {i for i in _imports(path) if i in mods and i != name}
    return graph


def test_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if m in ("planner", "models"):
                continue  # the package __init__ holds only the version
            if state.get(m) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(m):] + [m]))
            if m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)


def test_models_import_nothing_of_planner():
    for path in (ROOT / "models").rglob("*.py"):
        bad = [i for i in _imports(path) if i == "planner" or i.startswith("planner.")]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_main_imports_the_cli():
    for pkg in PACKAGES + ("bench",):
        for path in (ROOT / pkg).rglob("*.py"):
            if path.relative_to(ROOT).as_posix() == "planner/__main__.py":
                continue
            assert "planner.cli" not in _imports(path), f"{path.relative_to(ROOT)} imports the CLI"


def test_no_module_both_solves_and_writes_excel():
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            imports = _imports(path)
            solver = [i for i in imports if i.split(".")[0] in ("pyomo", "highspy") or i in SOLVER_MODULES]
            excel = [i for i in imports if i.split(".")[0] == "openpyxl"]
            assert not (solver and excel), f"{path.relative_to(ROOT)} imports {solver[0]} and {excel[0]}"


MAX_FUNCTION_LINES = 100  # the architecture issue's limit; most functions are far shorter


def test_no_function_or_class_method_over_100_lines():
    long = []
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long
