"""Cold import time of each Lambda entry point of app.py, against the floor of any boto3 Lambda.

A cold start imports ``app`` and then, on the first invocation, the modules the handler imports
lazily. Each entry point is timed in a fresh interpreter (the only honest cold import), with the
environment a Lambda would have, and compared with the least a Python Lambda that talks to AWS
pays: ``import boto3`` plus one client.

Entry points and their lazy imports are read from the syntax trees of app.py and of the route
modules (Blueprints) it imports, so the benchmark follows the handlers as they change: every route
shares the API Lambda (as Chalice packages it), every other registration (SQS, stream, schedule,
...) is a Lambda of its own, and each gets the ``import``/``from ... import`` statements written in
its handler bodies (a route that requires an API key also those of the key's check).
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
APP_SOURCE = REPO_ROOT / "app.py"
ROUTING_SOURCE = REPO_ROOT / "shared" / "http" / "routing.py"  # where a route admits its caller
_ADMISSION = "authenticate"  # the function every route but a public one runs first
PROBLEMS_SOURCE = REPO_ROOT / "shared" / "http" / "problems.py"
_WRAPPER = "answering_outages"  # wraps every route's view (an outage answers 503)
_PUBLIC = "PUBLIC"
_APP_CLASSES = {"Chalice", "Blueprint", "Routes"}
REGION = "us-east-1"
API_ENTRY = "api_handler"
DEFAULT_REPEAT = 7
FLOOR_STATEMENTS = ("import boto3", f"boto3.client('dynamodb', region_name={REGION!r})")
_MARKER = "BENCH_MS"
_ROUTE = "route"
_MIDDLEWARE = "middleware"
# Chalice middleware event types -> the registration method of the Lambdas they wrap.
_MIDDLEWARE_TARGETS = {
    "sqs": "on_sqs_message",
    "scheduled": "schedule",
    "cloudwatch": "on_cw_event",
    "s3": "on_s3_event",
    "sns": "on_sns_message",
    "pure_lambda": "lambda_function",
}


@dataclass(frozen=True)
class EntryPoint:
    """One Lambda function of the packaged app and what its cold start imports."""

    name: str
    kind: str  # the Chalice registration: "route", "on_sqs_message", "schedule", ...
    handlers: tuple[str, ...]
    lazy_imports: tuple[str, ...]

    @property
    def statements(self) -> tuple[str, ...]:
        return ("import app", *self.lazy_imports)


@dataclass(frozen=True)
class Timing:
    """Samples in milliseconds of one measured import sequence."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)


@dataclass(frozen=True)
class Row:
    label: str
    imports: tuple[str, ...]
    timing: Timing


@dataclass(frozen=True)
class ColdImportReport:
    repeat: int
    floor: Timing
    app_only: Timing
    entries: tuple[tuple[EntryPoint, Timing], ...]
    traced: Timing | None = None  # ``import app`` with the stack's Tracing=Active

    def rows(self) -> list[Row]:
        rows = [
            Row("floor: import boto3 + 1 client", (), self.floor),
            Row("import app (module level only)", (), self.app_only),
        ]
        if self.traced is not None:
            rows.append(Row("import app with Tracing=Active (X-Ray SDK)", (), self.traced))
        for entry, timing in self.entries:
            rows.append(Row(f"{entry.name} ({_describe(entry)})", entry.lazy_imports, timing))
        return rows


@dataclass
class _Builder:
    kind: str
    handlers: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)


# --- discovery ----------------------------------------------------------------------------------


def discover_entry_points(source: str | None = None) -> list[EntryPoint]:
    """The Lambda entry points declared in app.py, each with its handlers' lazy imports."""
    entries: dict[str, _Builder] = {}
    middlewares: list[tuple[str, list[str]]] = []
    for handler, imports, registrations in _handlers(source):
        for method, call in registrations:
            if method == _MIDDLEWARE:
                middlewares.append((_middleware_event_type(call), imports))
                continue
            name = API_ENTRY if method == _ROUTE else handler
            builder = entries.setdefault(name, _Builder(kind=method))
            builder.handlers.append(handler)
            builder.imports.extend(imports)
    _apply_middlewares(entries, middlewares)
    ordered = sorted(entries.items(), key=lambda item: item[0] != API_ENTRY)
    return [
        EntryPoint(name, b.kind, tuple(b.handlers), tuple(dict.fromkeys(b.imports)))
        for name, b in ordered
    ]


@dataclass(frozen=True)
class Route:
    """One route: what its first request imports after ``import app`` (a cold start serves one
    route, not all of them)."""

    method: str
    path: str
    statements: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def discover_routes(source: str | None = None) -> list[Route]:
    """Every route of app.py with its handler's lazy imports and the HTTP middlewares'."""
    routes: list[tuple[str, str, list[str]]] = []
    middleware: list[str] = []
    for _handler, imports, registrations in _handlers(source):
        for method, call in registrations:
            if method == _MIDDLEWARE and _middleware_event_type(call) in ("all", "http"):
                middleware += imports
            elif method == _ROUTE:
                path = call.args[0].value if isinstance(call.args[0], ast.Constant) else "?"
                for verb in _methods(call):
                    routes.append((verb, str(path), imports))
    return [
        Route(verb, path, tuple(dict.fromkeys(["import app", *middleware, *imports])))
        for verb, path, imports in routes
    ]


def _methods(call: ast.Call) -> list[str]:
    for keyword in call.keywords:
        if keyword.arg == "methods" and isinstance(keyword.value, ast.List | ast.Tuple):
            return [str(e.value) for e in keyword.value.elts if isinstance(e, ast.Constant)]
    return ["GET"]


def lazy_imports(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Every import statement inside the function (nested helpers included), in source order,
    but those of ``except`` clauses: only a failure runs them."""
    nodes = [n for n in _running(function) if isinstance(n, ast.Import | ast.ImportFrom)]
    nodes.sort(key=lambda node: (node.lineno, node.col_offset))
    return [ast.unparse(node) for node in nodes]


def _running(node: ast.AST) -> Iterable[ast.AST]:
    """``ast.walk`` without ``except`` clauses and decorators: what a call that succeeds runs
    (a route's decorator is its admission, counted on its own)."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        for name, value in ast.iter_fields(current):
            if name == "decorator_list":
                continue
            children = value if isinstance(value, list) else [value]
            pending.extend(
                c
                for c in children
                if isinstance(c, ast.AST) and not isinstance(c, ast.ExceptHandler)
            )


def _handlers(source: str | None) -> Iterable[tuple[str, list[str], list[tuple[str, ast.Call]]]]:
    """Every handler of app.py (or ``source``) and of the route modules it imports: its name,
    the imports its cold path makes and its registrations on the app or a Blueprint, as
    (method, call); a route's admission is in the imports.

    A handler is a decorated top-level function, or a function of another module that app.py
    wires with one assignment: ``confirm_orders = app.on_sqs_message(...)(triggers.confirm)``.
    """
    tree = ast.parse(source if source is not None else APP_SOURCE.read_text())
    app_module = _Module(tree, APP_SOURCE)
    modules = [app_module, *(_blueprint_modules(tree) if source is None else [])]
    for module in modules:
        apps = _chalice_instances(module.tree) or {"app"}
        for function in _top_level_functions(module.tree):
            registrations = _registrations(function, apps)
            imports = module.reach(function) if registrations else []
            for method, call in registrations:
                if method == _ROUTE:
                    imports = [*_admission_imports(call, module), *_wrapper_imports(call), *imports]
                    _resolve_path(call, module)
            yield function.name, imports, registrations
    apps = _chalice_instances(tree) or {"app"}
    aliases = _registration_aliases(tree, apps)
    for node in tree.body:
        registered = _registered_middleware(node, apps)
        if registered is not None:
            call, (alias, function_name) = registered
            path = app_module.imported_modules.get(alias)
            found = _Module.at(path) if path else None
            middleware = found.functions.get(function_name) if found else None
            imports = found.reach(middleware) if found and middleware else []
            yield function_name, imports, [(_MIDDLEWARE, call)]
        wired = _wiring(node, apps, aliases)
        if wired is not None:
            name, (method, call), (alias, function_name) = wired
            path = app_module.imported_modules.get(alias)
            wired_module = _Module.at(path) if path else None
            wired_function = wired_module.functions.get(function_name) if wired_module else None
            imports = wired_module.reach(wired_function) if wired_module and wired_function else []
            yield name, imports, [(method, call)]


def _registration_aliases(tree: ast.Module, apps: set[str]) -> dict[str, str]:
    """Module-level names bound to an app's registration method, as app.py binds them:
    ``schedule = app.schedule`` or ``sqs = partial(app.on_sqs_message, ...)`` -> method."""
    aliases = {}
    for node in tree.body:
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            continue
        value = node.value
        if isinstance(value, ast.Call) and _called_name(value) == "partial" and value.args:
            value = value.args[0]
        method = _app_method(value, apps)
        if method is not None:
            aliases[node.targets[0].id] = method
    return aliases


def _registered_middleware(
    node: ast.stmt, apps: set[str]
) -> tuple[ast.Call, tuple[str, str]] | None:
    """``app.register_middleware(module.function, "http")``: (a call saying its event type as
    ``@app.middleware("http")`` does, (module, function))."""
    if not (
        isinstance(node, ast.Expr)
        and isinstance(call := node.value, ast.Call)
        and _app_method(call.func, apps) == "register_middleware"
        and call.args
        and isinstance(target := call.args[0], ast.Attribute)
        and isinstance(target.value, ast.Name)
    ):
        return None
    event_type = call.args[1:] + [k.value for k in call.keywords if k.arg == "event_type"]
    return ast.Call(func=call.func, args=event_type[:1], keywords=[]), (
        target.value.id,
        target.attr,
    )


def _app_method(node: ast.AST, apps: set[str]) -> str | None:
    """``app.<method>`` -> method."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in apps
    ):
        return node.attr
    return None


def _wiring(
    node: ast.stmt, apps: set[str], aliases: dict[str, str] | None = None
) -> tuple[str, tuple[str, ast.Call], tuple[str, str]] | None:
    """``name = app.<method>(...)(module.function)`` (or through a name ``aliases`` binds to
    the method): (name, (method, call), (module, function))."""
    if not (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Call)
        and isinstance(registration := node.value.func, ast.Call)
        and len(node.value.args) == 1
        and isinstance(target := node.value.args[0], ast.Attribute)
        and isinstance(target.value, ast.Name)
    ):
        return None
    method = _app_method(registration.func, apps)
    if method is None and isinstance(registration.func, ast.Name):
        method = (aliases or {}).get(registration.func.id)
    if method is None:
        return None
    return node.targets[0].id, (method, registration), (target.value.id, target.attr)


class _Module:
    """One module of this repository, parsed, and what a function of it reaches.

    ``reach`` follows what a cold path runs: the function's own import statements, then those of
    every function it names (called or passed on, as a route passes its admission rule to a
    Requirement) among the module's functions and module-level constants, the functions it
    imports from this repository by name or calls through a module alias, and the Routes methods
    it calls on a Blueprint (or on ``self`` inside one). Module-level imports are not followed:
    ``import app`` pays them.
    """

    _parsed: dict[Path, _Module] = {}

    def __init__(self, tree: ast.Module, path: Path) -> None:
        self.tree = tree
        self.path = path
        self.functions = {f.name: f for f in _top_level_functions(tree)}
        self.constants = {
            target.id: node.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        self.imported_modules = _imported_modules(tree)
        self.imported_names = _imported_names(tree)
        self.apps = _chalice_instances(tree)

    @classmethod
    def at(cls, path: Path) -> _Module:
        if path not in cls._parsed:
            cls._parsed[path] = cls(ast.parse(path.read_text()), path)
        return cls._parsed[path]

    def reach(self, node: ast.AST) -> list[str]:
        """The import statements ``node`` (a function or an expression) runs, in reach order."""
        found: list[str] = []
        self._reach(node, found, set())
        return list(dict.fromkeys(found))

    def _reach(self, node: ast.AST, found: list[str], seen: set[tuple[Path, str]]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.extend(lazy_imports(node))
        for child in _running(node):
            target = self._target(child)
            if target is None:
                continue
            module, name = target
            if (module.path, name) in seen:
                continue
            seen.add((module.path, name))
            reached = module.functions.get(name) or module.constants.get(name)
            if reached is not None:
                module._reach(reached, found, seen)

    def _target(self, node: ast.AST) -> tuple[_Module, str] | None:
        """The function or constant of this repository that the name or attribute names."""
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in self.functions or node.id in self.constants:
                return self, node.id
            if node.id in self.imported_names:
                return _Module.at(self.imported_names[node.id]), node.id
            return None
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            return None
        owner = node.value.id
        if owner in self.imported_modules:
            return _Module.at(self.imported_modules[owner]), node.attr
        if owner in self.apps or (owner == "self" and self.path == ROUTING_SOURCE):
            return _routes_methods(), node.attr
        return None


def _routes_methods() -> _Module:
    """The methods of the Routes Blueprint, as a module of their own (``routes.json_body``)."""
    routing = _Module.at(ROUTING_SOURCE)
    cls = next(n for n in routing.tree.body if isinstance(n, ast.ClassDef) and n.name == "Routes")
    methods = _Module(ast.Module(body=list(cls.body), type_ignores=[]), ROUTING_SOURCE)
    methods.imported_names = {n: ROUTING_SOURCE for n in routing.functions}
    methods.imported_modules = routing.imported_modules
    return methods


def _imported_modules(tree: ast.Module) -> dict[str, Path]:
    """``from a.b import c as d`` at module level -> {"d": <repo>/a/b/c.py}, for modules."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                path = REPO_ROOT.joinpath(*node.module.split("."), alias.name).with_suffix(".py")
                if path.is_file():
                    found[alias.asname or alias.name] = path
    return found


def _imported_names(tree: ast.Module) -> dict[str, Path]:
    """``from a.b import f`` at module level -> {"f": <repo>/a/b.py}, for names in modules."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            path = REPO_ROOT.joinpath(*node.module.split(".")).with_suffix(".py")
            if path.is_file():
                found.update({alias.asname or alias.name: path for alias in node.names})
    return found


def _blueprint_modules(tree: ast.Module) -> list[_Module]:
    """The modules of this repository that app.py imports at module level and that declare a
    Blueprint (the routes of one bounded context)."""
    found = []
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or not node.module or node.level:
            continue
        path = REPO_ROOT.joinpath(*node.module.split(".")).with_suffix(".py")
        if path.is_file():
            module = _Module.at(path)
            if module.apps:
                found.append(module)
    return found


def _admission_imports(route: ast.Call, module: _Module) -> list[str]:
    """What a route's check of its caller imports: nothing for a public route (or a plain
    ``@app.route``), the API key's check for an action, what its Requirement runs otherwise."""
    requires = next((k.value for k in route.keywords if k.arg == "requires"), None)
    if requires is None or (isinstance(requires, ast.Name) and requires.id == _PUBLIC):
        return []
    routing = _Module.at(ROUTING_SOURCE)
    if isinstance(requires, ast.Attribute) and not module.imported_modules.get(
        getattr(requires.value, "id", "")
    ):  # ``Action.X``: an API key whose role may perform it
        return routing.reach(routing.functions[_ADMISSION])
    return module.reach(requires)


def _resolve_path(route: ast.Call, module: _Module) -> None:
    """A route whose path is a module constant (``@routes.route(DOCUMENT, ...)``) gets its value."""
    if route.args and isinstance(route.args[0], ast.Name):
        value = module.constants.get(route.args[0].id)
        if isinstance(value, ast.Constant):
            route.args[0] = value


def _wrapper_imports(route: ast.Call) -> list[str]:
    """What the wrapper around every Routes route's view (one with ``requires=``) imports on each
    request."""
    if not any(keyword.arg == "requires" for keyword in route.keywords):
        return []
    problems = _Module.at(PROBLEMS_SOURCE)
    return problems.reach(problems.functions[_WRAPPER])


def _chalice_instances(tree: ast.Module) -> set[str]:
    """Names bound to ``Chalice(...)`` or a Blueprint at module level (``app``, ``routes``)."""
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and isinstance(node.value, ast.Call)
        and _called_name(node.value) in _APP_CLASSES
        for target in ([node.target] if isinstance(node, ast.AnnAssign) else node.targets)
        if isinstance(target, ast.Name)
    }


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _top_level_functions(tree: ast.Module) -> Iterable[ast.FunctionDef | ast.AsyncFunctionDef]:
    return (n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))


def _registrations(
    function: ast.FunctionDef | ast.AsyncFunctionDef, apps: set[str]
) -> list[tuple[str, ast.Call]]:
    """The ``@app.<method>(...)`` decorators of a function, as (method, call)."""
    found = []
    for decorator in function.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and isinstance(decorator.func.value, ast.Name)
            and decorator.func.value.id in apps
        ):
            found.append((decorator.func.attr, decorator))
    return found


def _middleware_event_type(call: ast.Call) -> str:
    """``@app.middleware("http")`` -> "http"; Chalice's default is "all"."""
    arguments = list(call.args) + [k.value for k in call.keywords if k.arg == "event_type"]
    if arguments and isinstance(arguments[0], ast.Constant) and isinstance(arguments[0].value, str):
        return arguments[0].value
    return "all"


def _apply_middlewares(
    entries: dict[str, _Builder], middlewares: Sequence[tuple[str, list[str]]]
) -> None:
    """Middleware runs inside the Lambdas of its event type, so its lazy imports count there."""
    for event_type, imports in middlewares:
        for name, builder in entries.items():
            if (
                event_type == "all"
                or (event_type == "http" and name == API_ENTRY)
                or _MIDDLEWARE_TARGETS.get(event_type) == builder.kind
            ):
                builder.imports.extend(imports)


def _describe(entry: EntryPoint) -> str:
    if entry.kind == _ROUTE:
        return f"{len(entry.handlers)} routes"
    return entry.kind


# --- measuring ----------------------------------------------------------------------------------


class _DummyOutputs(dict[str, str]):
    """Stack outputs that name any resource asked for: the env needs names, not resources."""

    def __missing__(self, key: str) -> str:
        return f"otc-bench-{key}"


def lambda_environment(function_name: str = "otc-bench") -> dict[str, str]:
    """What a Lambda's process sees: region, function identity, task root, the app's variables,
    and tracing as the stack's default (off).

    Nothing is inherited from this shell, so a developer's AWS profile or ``AWS_ENDPOINT_URL``
    cannot change what boto3 loads; config and credential files point at nothing, as on Lambda.
    """
    from infra.local import stack  # the packaged template's variable names, in one place

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{version}",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        # Lambda sets it; without it the X-Ray SDK builds a botocore session at import
        "LAMBDA_TASK_ROOT": str(REPO_ROOT),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "LANG": "C.UTF-8",
        "POWERTOOLS_SERVICE_NAME": "otc",
        "POWERTOOLS_METRICS_NAMESPACE": "OrderToCash",
        "POWERTOOLS_TRACE_DISABLED": "1",
        **stack.environment(_DummyOutputs()),
    }


def timing_script(statements: Sequence[str]) -> str:
    """A script that times ``statements`` and prints the milliseconds.

    Only ``time`` (a builtin) is imported before the clock starts, so nothing the measured code
    imports is already loaded.
    """
    return "\n".join(
        [
            "import time",
            "_bench_start = time.perf_counter()",
            *statements,
            f"print({_MARKER!r}, (time.perf_counter() - _bench_start) * 1000.0)",
        ]
    )


def time_once(statements: Sequence[str], env: dict[str, str]) -> float:
    """Run the statements in a fresh interpreter; return their import time in ms."""
    result = subprocess.run(
        [sys.executable, "-c", timing_script(statements)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"cold import failed:\n{result.stderr}")
    for line in result.stdout.splitlines():
        if line.startswith(_MARKER):
            return float(line.split()[1])
    raise RuntimeError(f"no timing in output:\n{result.stdout}")


def measure(repeat: int = DEFAULT_REPEAT, *, warmup: bool = True) -> ColdImportReport:
    """Time the floor, ``import app`` and every entry point ``repeat`` times each.

    Runs go round-robin so drift on the machine spreads over every target alike; the optional
    warm-up round (discarded) makes sure bytecode caches and the OS file cache are filled.
    """
    entries = discover_entry_points()
    traced = {**lambda_environment(), "POWERTOOLS_TRACE_DISABLED": "false"}
    targets = {
        "floor": (FLOOR_STATEMENTS, lambda_environment()),
        "app": (("import app",), lambda_environment()),
        "traced": (("import app",), traced),
        **{e.name: (e.statements, lambda_environment(e.name)) for e in entries},
    }
    samples: dict[str, list[float]] = defaultdict(list)
    for round_number in range(repeat + int(warmup)):
        for name, (statements, env) in targets.items():
            elapsed = time_once(statements, env)
            if round_number >= int(warmup):
                samples[name].append(elapsed)
    return ColdImportReport(
        repeat=repeat,
        floor=Timing(tuple(samples["floor"])),
        app_only=Timing(tuple(samples["app"])),
        entries=tuple((e, Timing(tuple(samples[e.name]))) for e in entries),
        traced=Timing(tuple(samples["traced"])),
    )


def measure_routes(repeat: int = 3) -> tuple[Timing, list[tuple[Route, Timing]]]:
    """The floor and each route's cold path, round-robin in fresh interpreters."""
    routes = discover_routes()
    env = lambda_environment(API_ENTRY)
    targets = {"floor": FLOOR_STATEMENTS, **{route.name: route.statements for route in routes}}
    samples: dict[str, list[float]] = defaultdict(list)
    for round_number in range(repeat + 1):  # the first round warms the caches up
        for name, statements in targets.items():
            elapsed = time_once(statements, env)
            if round_number:
                samples[name].append(elapsed)
    floor = Timing(tuple(samples["floor"]))
    return floor, [(route, Timing(tuple(samples[route.name]))) for route in routes]


def routes_table(floor: Timing, routes: Sequence[tuple[Route, Timing]], top: int = 12) -> str:
    """Markdown: the spread of the routes' cold paths against the floor, and the slowest."""
    ratios = sorted(((t.median / floor.median, r) for r, t in routes), key=lambda x: -x[0])
    values = [ratio for ratio, _ in ratios]
    lines = [
        f"{len(routes)} routes; a route's cold path is `import app`, the HTTP middleware's and its "
        f"handler's lazy imports. x floor: median {statistics.median(values):.2f}, "
        f"worst {values[0]:.2f}, best {values[-1]:.2f}; "
        f"{sum(v <= 1.3 for v in values)} of {len(values)} at or under 1.3.",
        "",
        "| Slowest routes | Median ms | x floor |",
        "|---|---:|---:|",
        f"| floor: import boto3 + 1 client | {floor.median:.0f} | 1.00 |",
    ]
    timings = dict((r.name, t) for r, t in routes)
    lines += [
        f"| {route.name} | {timings[route.name].median:.0f} | {ratio:.2f} |"
        for ratio, route in ratios[:top]
    ]
    return "\n".join(lines)


# --- where the time goes ------------------------------------------------------------------------


def import_profile(
    statements: Sequence[str], env: dict[str, str], runs: int = 3
) -> dict[str, float]:
    """Median self import time in ms per top-level package, over ``runs`` ``-X importtime`` runs.

    Modules the interpreter loads before the script runs are left out, so the sum is what the
    statements themselves import.
    """
    startup = {name for name, _ in _importtime(["import time"], env)}
    per_run: list[dict[str, float]] = []
    for _ in range(runs):
        by_package: dict[str, float] = defaultdict(float)
        for name, self_us in _importtime(statements, env):
            if name not in startup:
                by_package[name.split(".")[0]] += self_us / 1000.0
        per_run.append(by_package)
    packages = {package for run in per_run for package in run}
    medians = {p: statistics.median(run.get(p, 0.0) for run in per_run) for p in packages}
    return dict(sorted(medians.items(), key=lambda item: -item[1]))


def _importtime(statements: Sequence[str], env: dict[str, str]) -> list[tuple[str, int]]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "\n".join(statements)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((name.strip(), int(self_us)))
    return rows


def profile_table(report: ColdImportReport, top: int = 6) -> str:
    """Markdown: the packages that weigh most in each entry point's cold import, and why."""
    lines = [
        "| Entry point | Heaviest packages: self ms, median of 3 `-X importtime` runs |",
        "|---|---|",
    ]
    for entry, _timing in report.entries:
        profile = import_profile(entry.statements, lambda_environment(entry.name))
        heaviest = ", ".join(f"{name} {ms:.0f}" for name, ms in list(profile.items())[:top])
        lines.append(f"| {entry.name} | {heaviest} (all: {sum(profile.values()):.0f}) |")
    return "\n".join(lines)


# --- output -------------------------------------------------------------------------------------


def table(report: ColdImportReport) -> str:
    """Markdown table: median/min ms, what the lazy imports add, and the ratio to the floor."""
    lines = [
        "| Entry point | Lazy imports | Median ms | Min ms | Lazy part ms | x floor |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in report.rows():
        imports = "<br>".join(f"`{statement}`" for statement in row.imports) or "-"
        lazy = f"{row.timing.median - report.app_only.median:.0f}" if row.imports else "-"
        ratio = row.timing.median / report.floor.median
        lines.append(
            f"| {row.label} | {imports} | {row.timing.median:.0f} | {row.timing.min:.0f} "
            f"| {lazy} | {ratio:.2f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_import", description=__doc__)
    parser.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_REPEAT,
        help="fresh interpreters per target (default %(default)s)",
    )
    parser.add_argument(
        "--routes", action="store_true", help="also time each route's own cold path"
    )
    options = parser.parse_args(argv)
    print(table(measure(options.repeat)))
    if options.routes:
        floor, routes = measure_routes(options.repeat)
        print(f"\nPer route (median of {options.repeat}):\n\n{routes_table(floor, routes)}")


if __name__ == "__main__":
    main()
