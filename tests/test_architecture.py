"""The house holds its directions (issue 15): no import cycle, and no import up the layers.

Layers, bottom to top (docs/architecture.md draws them):

    domain      registry/domain/      pure rules (tests/domain/test_purity.py: stdlib and pure helpers only)
    platform    registry/platform/, registry/cli/base.py, config/
                                      database, clock, mailer, bounds, per-app resources, CLI helpers
    features    registry/<feature>/   models, services, queries, API and pages of one feature each,
                registry/web/         and the web kit every feature's views stand on (blueprints, errors, forms)
    shell       registry/__init__.py, registry/routes.py, registry/schema.py, registry/cli/ (the group),
                registry/devserver.py, jobs/ (the scheduler process and its runners)

A module may import its own layer and the layers below; nothing imports the shell but the shell.
Imports under `if TYPE_CHECKING:` are annotations only and are not counted; imports inside
functions are counted (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"domain": 0, "platform": 1, "features": 2, "shell": 3}
SHELL = {"registry", "registry.routes", "registry.schema", "registry.cli", "registry.cli.commands",
         "registry.cli.demo", "registry.devserver"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    if module in SHELL or module == "jobs" or module.startswith("jobs."):
        return "shell"
    if module.startswith("registry.domain"):
        return "domain"
    if module.startswith(("registry.platform", "config")) or module == "registry.cli.base":
        return "platform"
    return "features"


def our_modules() -> dict[str, Path]:
    files = [*ROOT.joinpath("registry").rglob("*.py"), *ROOT.joinpath("jobs").rglob("*.py"),
             *ROOT.joinpath("config").rglob("*.py")]
    return {module_name(f): f for f in files if "__pycache__" not in f.parts}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that `path` imports (a name imported from a package is the submodule if
    there is one, else the package itself)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target:
                found.add(target)
    found.discard(module_name(path))
    return found


def graph() -> dict[str, set[str]]:
    modules = our_modules()
    return {name: imports_of(path, modules) for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def upward(edges: dict[str, set[str]]) -> list[str]:
    return sorted(f"{source} ({layer_of(source)}) -> {target} ({layer_of(target)})"
                  for source, targets in edges.items() for target in targets
                  if LAYERS[layer_of(target)] > LAYERS[layer_of(source)])


def test_there_is_no_import_cycle():
    assert cycles(graph()) == []


def test_nothing_imports_up_the_layers():
    assert upward(graph()) == []


#: a feature's route modules (its API resources and pages): another feature never imports them — features use
#: each other through their models, services, queries, forms and fields, the web kit's shared pieces aside
VIEW_MODULES = ("api", "api_*", "*_api", "pages", "page_*", "*_pages")


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 3 or parts[0] != "registry" or parts[1] == "web" or layer_of(module) != "features":
        return None  # the web kit owns the blueprints every feature adds to
    return parts[1]


def into_other_views(edges: dict[str, set[str]]) -> list[str]:
    return sorted(f"{source} -> {target}" for source, targets in edges.items() for target in targets
                  if feature_of(source) and feature_of(target) and feature_of(source) != feature_of(target)
                  and any(fnmatch(target.rsplit(".", 1)[-1], pattern) for pattern in VIEW_MODULES))


def test_features_use_each_other_only_through_their_public_modules():
    assert into_other_views(graph()) == []


def test_every_feature_lives_in_one_folder():
    """No loose modules beside the features: registry/ holds packages and the shell only."""
    loose = sorted(p.name for p in ROOT.joinpath("registry").glob("*.py"))
    assert loose == ["__init__.py", "devserver.py", "routes.py", "schema.py"]


def test_the_checks_see_a_cycle_and_an_upward_import():
    """The checks themselves can fail: a made-up graph with a cycle and an upward import."""
    made_up = {"registry.a.x": {"registry.b.y"}, "registry.b.y": {"registry.a.x"},
               "registry.platform.db": {"registry.titles.models"}, "registry.titles.models": set()}
    assert cycles(made_up) == [["registry.a.x", "registry.b.y"]]
    assert upward(made_up) == ["registry.platform.db (platform) -> registry.titles.models (features)"]
    views = {"registry.titles.pages": {"registry.roster.pages", "registry.titles.api", "registry.roster.queries"}}
    assert into_other_views(views) == ["registry.titles.pages -> registry.roster.pages"]


def test_tests_are_organised_like_the_code():
    """Every package of registry/ has its tests folder of the same name, and no test file is named
    after an issue number (files say what behaviour they pin down)."""
    packages = sorted(p.name for p in ROOT.joinpath("registry").iterdir() if (p / "__init__.py").exists())
    assert [name for name in packages if not ROOT.joinpath("tests", name).is_dir()] == []
    assert sorted(str(p.relative_to(ROOT)) for p in ROOT.joinpath("tests").rglob("test_issue*.py")) == []
