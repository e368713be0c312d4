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


# Output column names are spelled once, in planner/output/contract.py (`Col`, the declared sheets); elsewhere a
# string equal to one is a column spelled twice. Allowed: these (module, names), which are no output column.
INPUT_COLUMNS = "names an input sheet's column (planner/input/schema.py), not an output column"
ALLOWED_LITERALS: dict[str, tuple[frozenset[str], str]] = {
    # models/ knows no output workbook: its strings are PlanData (input) columns, cost components and units
    "models/costs.py": (frozenset({"wafers"}), "the cost component 'wafers' (COST_COMPONENTS)"),
    "models/manufacturing.py": (frozenset({"wafers"}), "the cost component 'wafers'"),
    "models/data.py": (frozenset({"packaging_line"}), INPUT_COLUMNS),
    "models/sets.py": (frozenset({"packaging_line"}), INPUT_COLUMNS),
    "models/finance.py": (frozenset({"commitment_usd", "min_deal_usd"}), INPUT_COLUMNS),
    "models/serving.py": (frozenset({"utilization"}), INPUT_COLUMNS),
    "models/stochastic.py": (frozenset({"min_deal_usd"}), INPUT_COLUMNS + " (Partners)"),
    "models/registry.py": (frozenset({"wafers", "stacks", "product", "site", "cell", "commitment_usd", "min_deal_usd",
                                      "own_capex_usd"}),
                           "units of a family's limit ('wafers', 'stacks'), InstalledBase/Partners input columns and "
                           "the Budget row own_capex_usd, as models/ reads them"),
    # the command line's argument names
    "planner/cli.py": (frozenset({"plan", "old", "new", "scenario", "draws"}), "argparse argument names"),
    "planner/cli_checks.py": (frozenset({"plan", "old", "new", "scenario", "draws"}), "argparse argument names"),
    # the roll writes the next *input* workbook; 'key'/'quarter' in convert(...) are input dtypes
    "planner/cycle/roll_book.py": (frozenset({"key", "value"}), INPUT_COLUMNS + " or an input dtype"),
    "planner/cycle/roll_quarters.py": (frozenset({"key", "value"}), "Settings input columns"),
    "planner/cycle/roll_notes.py": (frozenset({"what", "sheet", "cell", "value"}),
                                    "the RollNotes sheet of the next input workbook"),
    "planner/cycle/roll_plan.py": (frozenset({"key", "quarter", "base"}),
                                   "input dtypes of convert(); 'base' is the base scenario's name"),
    "planner/cycle/roll_steps.py": (frozenset({"product", "site", "commitment_usd", "min_deal_usd", "quarter"}),
                                    INPUT_COLUMNS + " (the next input workbook) or an input dtype"),
    "planner/cycle/freeze.py": (frozenset({"site"}), INPUT_COLUMNS + " (InstalledBase)"),
    "planner/diagnose/diagnosis.py": (frozenset({"commitment_usd", "min_deal_usd"}), INPUT_COLUMNS + " (Partners)"),
    "planner/output/extract.py": (frozenset({"packaging_line", "commitment_usd", "min_deal_usd"}),
                                  INPUT_COLUMNS + " (Products, Partners)"),
    "planner/output/reasons.py": (frozenset({"utilization", "packaging_line"}), INPUT_COLUMNS + " (Products)"),
    "planner/output/unit_economics.py": (frozenset({"utilization"}), INPUT_COLUMNS + " (Products)"),
    "planner/output/input_values.py": (frozenset({"value"}), INPUT_COLUMNS + " (Settings)"),
    "planner/output/plan_writer.py": (frozenset({"value"}), INPUT_COLUMNS + " (Settings)"),
    "planner/whatif/hedged_ph.py": (frozenset({"value", "bound"}), "the Settings input column; a phase name"),
    "planner/whatif/hedged.py": (frozenset({"scenario"}), INPUT_COLUMNS + " (ScenarioWeights)"),
    # Scenarios and Uncertainty are input sheets: their rows name a sheet, key, column, value, distribution
    "planner/whatif/overrides.py": (frozenset({"sheet", "key", "column", "value"}), INPUT_COLUMNS + " (Scenarios)"),
    "planner/whatif/rows.py": (frozenset({"key", "column", "value"}), INPUT_COLUMNS + " (Scenarios)"),
    "planner/whatif/scenarios.py": (frozenset({"scenario", "sheet", "key", "column", "value", "base"}),
                                    INPUT_COLUMNS + " (Scenarios); 'base' is the base scenario's name"),
    "planner/whatif/uncertainty.py": (frozenset({"sheet", "key", "column", "value", "distribution", "p1", "p2", "p3"}),
                                      INPUT_COLUMNS + " (Uncertainty)"),
    "planner/pipeline.py": (frozenset({"base"}), "the base scenario's name"),
    # words that are no column: an openpyxl option, a progress bar's unit, an Excel table's fallback name
    "planner/output/hedged_writer.py": (frozenset({"max"}), "openpyxl axis option crosses='max'"),
    "planner/whatif/sweep.py": (frozenset({"draw"}), "tqdm's unit"),
    "planner/output/xlsx.py": (frozenset({"sheet"}), "an Excel table's name when the sheet title has none"),
}


def output_column_literals() -> list[tuple[str, str, int]]:
    """(module, name, line) of every string constant equal to an output column name outside the contract and the
    input package; docstrings and f-string parts are prose."""
    from planner.output.contract import Col
    names = {k for k in vars(Col) if not k.startswith("_")}
    found = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("planner/input/") or rel == "planner/output/contract.py":
                continue
            tree = ast.parse(path.read_text())
            prose = set()
            for node in ast.walk(tree):
                body = getattr(node, "body", None)
                if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body \
                        and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    prose.add(id(body[0].value))
                if isinstance(node, ast.JoinedStr):
                    prose.update(id(n) for n in ast.walk(node))
            found += [(rel, node.value, node.lineno) for node in ast.walk(tree)
                      if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names
                      and id(node) not in prose]
    return found


def test_no_output_column_spelled_outside_the_contract():
    allowed = {(module, name) for module, (names, _why) in ALLOWED_LITERALS.items() for name in names}
    spelled = [f"{m}:{line} {name!r}" for m, name, line in output_column_literals() if (m, name) not in allowed]
    assert not spelled, "use planner.output.contract.Col: " + ", ".join(spelled)


def test_the_literal_allowlist_has_no_stale_entry():
    used = {(m, name) for m, name, _line in output_column_literals()}
    stale = [(m, n) for m, (names, _why) in ALLOWED_LITERALS.items() for n in names if (m, n) not in used]
    assert not stale, stale
