"""The tree shows who each file serves, and the imports keep it that way.

Each app (`incidents`, `people`; `accounts` too, with a staff face only) keeps its domain at
its root (models, querysets and their visibility rules, partial dates, names, filters,
counts, services, admin, commands) and shows its three faces as packages: `public/` (the
journalists' pages), `staff/` (the ombudsman staff's pages) and `api/` (the scripts' REST
API). `cabar_tracker/` holds the settings, the
root URL maps and the machinery both apps share (history, publishing, roles, staff access and
editing, the API's base classes).

The rules, read from the source with `ast` (imports inside functions count too):

1. The domain never imports a face: no module at an app's root (nor its `management/` or
   `templatetags/`) imports any app's `public`, `staff` or `api`.
2. `public/` never imports `staff/`: a public page cannot reach staff code, of either app or of
   the shared staff machinery (`cabar_tracker.staff`).
3. `people` never imports `incidents`' faces (people is the lower app: incidents builds on it).
4. The shared machinery in `cabar_tracker` imports no app's face; only the root URL maps
   (`cabar_tracker.urls`, `cabar_tracker.api.urls`, `cabar_tracker.staff.urls`) wire the
   faces' views in.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("incidents", "people", "accounts", "evidence")
# The apps of records, which the three users all see; `accounts` (staff accounts' security)
# has a staff face only, `evidence` (captures, attachments) a public and a staff face.
RECORD_APPS = ("incidents", "people")
FACES = ("public", "staff", "api")
PACKAGES = (*APPS, "cabar_tracker")
URL_MAPS = {"cabar_tracker.urls", "cabar_tracker.api.urls", "cabar_tracker.staff.urls"}


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the project's packages (migrations aside), by dotted name."""
    modules = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The project modules (or packages) that `module` imports, anywhere in its source."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from incidents.public import views` imports the module incidents.public.views.
            targets = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in known else origin
                for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t.split(".")[0] in PACKAGES)
    return found


def face_of(module: str) -> str | None:
    """ "public", "staff" or "api" for a module of an app's face, None for the domain."""
    parts = module.split(".")
    if parts[0] in APPS and len(parts) > 1 and parts[1] in FACES:
        return parts[1]
    return None


def broken_rules(graph: dict[str, set[str]]) -> list[str]:
    """Every import in `graph` (module -> modules it imports) that breaks a rule above."""
    broken = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            app, target_app = module.split(".")[0], target.split(".")[0]
            target_face = face_of(target)
            is_staff_code = target_face == "staff" or target.startswith("cabar_tracker.staff")
            if app in APPS and face_of(module) is None and target_face is not None:
                broken.append(f"{module} -> {target}: the domain imports a face")
            if face_of(module) == "public" and is_staff_code:
                broken.append(f"{module} -> {target}: a public page imports staff code")
            if app == "people" and target_app == "incidents" and target_face is not None:
                broken.append(f"{module} -> {target}: people imports a face of incidents")
            if app == "cabar_tracker" and module not in URL_MAPS and target_face is not None:
                broken.append(f"{module} -> {target}: shared machinery imports an app's face")
    return broken


def project_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def test_the_project_keeps_every_import_rule():
    assert broken_rules(project_graph()) == []


def test_each_app_shows_its_three_faces_as_packages():
    modules = project_modules()
    for app in RECORD_APPS:
        for face in FACES:
            assert f"{app}.{face}" in modules, f"{app}/{face}/ is missing"
    # The views of each face live in it, not at the app's root.
    for app in APPS:
        assert f"{app}.views" not in modules
    for app in RECORD_APPS:
        assert f"{app}.public.views" in modules


def test_the_graph_sees_nested_and_relative_imports(tmp_path):
    """The reader of imports must catch the ways a forbidden import can be written."""
    package = tmp_path / "incidents"
    (package / "public").mkdir(parents=True)
    (package / "staff").mkdir()
    for init in (package, package / "public", package / "staff"):
        (init / "__init__.py").write_text("")
    (package / "staff" / "forms.py").write_text("")
    (package / "public" / "views.py").write_text(
        "def page():\n    from ..staff import forms\n    return forms\n"
    )
    (package / "models.py").write_text("import incidents.public.views\n")
    modules = {
        name: path
        for name, path in project_modules(tmp_path).items()
        if name.startswith("incidents")
    }
    graph = {name: imports_of(name, path, set(modules)) for name, path in modules.items()}
    assert graph["incidents.public.views"] == {"incidents.staff.forms"}
    assert graph["incidents.models"] == {"incidents.public.views"}


@pytest.mark.parametrize(
    ("module", "target", "rule"),
    [
        ("incidents.models", "incidents.public.views", "the domain imports a face"),
        ("incidents.workflow", "incidents.staff.forms", "the domain imports a face"),
        ("people.names", "people.api.views", "the domain imports a face"),
        (
            "incidents.management.commands.load_demo",
            "incidents.staff.entry",
            "the domain imports a face",
        ),
        ("incidents.templatetags.cases", "incidents.public.views", "the domain imports a face"),
        ("incidents.public.views", "incidents.staff.forms", "a public page imports staff code"),
        ("people.public.views", "incidents.staff.views", "a public page imports staff code"),
        ("incidents.public.search", "cabar_tracker.staff.access", "a public page imports staff"),
        ("people.api.views", "incidents.api.views", "people imports a face of incidents"),
        ("people.staff.forms", "incidents.staff.forms", "people imports a face of incidents"),
        ("cabar_tracker.history", "incidents.public.views", "shared machinery imports an app"),
        ("cabar_tracker.api.viewsets", "people.api.views", "shared machinery imports an app"),
    ],
)
def test_each_rule_catches_its_forbidden_import(module, target, rule):
    broken = broken_rules({module: {target}})
    assert len(broken) >= 1
    assert any(rule in message for message in broken), broken


@pytest.mark.parametrize(
    ("module", "target"),
    [
        ("incidents.public.views", "incidents.models"),
        ("incidents.staff.views", "incidents.workflow"),
        ("incidents.staff.entry", "people.staff.duplicates"),
        ("incidents.api.views", "cabar_tracker.api.viewsets"),
        ("people.api.views", "incidents.models"),
        ("cabar_tracker.staff.urls", "incidents.staff.views"),
        ("cabar_tracker.api.summaries", "incidents.models"),
    ],
)
def test_allowed_imports_pass(module, target):
    assert broken_rules({module: {target}}) == []
