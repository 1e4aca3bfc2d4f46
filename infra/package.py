"""``make package``: build/sam.json + build/deployment.zip for ``sam deploy`` (never chalice's).

Chalice owns the routes and triggers, so it generates the template; it packages only app.py,
chalicelib/ and vendor/, and resolves wheels for the machine it runs on. So the project is staged
in build/stage with our packages and the arm64 (Graviton) cp312 wheels already in vendor/ and an
empty requirements.txt; ``chalice package`` then runs there, and its template is merged with
infra/resources.yaml and patched (infra/wiring) into the template we deploy.

    python -m infra.package [--out build] [--cache-dir build/cache] [--skip-lint]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from infra.wiring import cfn_yaml, iam, merge, versions

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "infra" / "resources.yaml"
API_RESOURCES = ROOT / "infra" / "wiring" / "api.yaml"
REQUIREMENTS = ROOT / "requirements.txt"
SOURCE_PACKAGES = ("functions", "shared")

# Lambda's python3.12 runtime on arm64: only wheels built for it, never the build machine's.
LAMBDA_WHEELS = (
    "--platform", "manylinux2014_aarch64",
    "--implementation", "cp",
    "--python-version", "3.12",
    "--only-binary=:all:",
)  # fmt: skip
# The runtime ships these (boto3 and what it needs); vendoring a second botocore would pair the
# runtime's boto3 with a botocore it was not released with, and add 30 MB to every cold start.
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
)
# The template does not depend on Chalice's stage: the SAM parameter Stage picks dev or prod.
CHALICE_STAGE = "dev"


@dataclass(frozen=True)
class Package:
    """What ``sam deploy`` needs: the template, and the code it points at (CodeUri)."""

    template: Path
    code: Path


def build(out: Path, cache: Path | None = None) -> Package:
    """Stage, run ``chalice package``, merge; returns the template and the zip under ``out``."""
    out = out.resolve()
    dependencies = runtime_dependencies((cache or ROOT / "build" / "cache").resolve())
    stage = stage_project(out / "stage", dependencies)
    generated = chalice_package(stage, out / "chalice")
    template = merged_template(json.loads((generated / "sam.json").read_text()))
    package = Package(template=out / "sam.json", code=out / "deployment.zip")
    package.template.write_text(json.dumps(template, indent=2) + "\n")
    shutil.move(generated / "deployment.zip", package.code)
    return package


def runtime_dependencies(cache: Path) -> Path:
    """requirements.txt installed for the Lambda platform, once per distinct requirements.txt."""
    key = hashlib.sha256(
        REQUIREMENTS.read_bytes() + repr((LAMBDA_WHEELS, sorted(RUNTIME_PROVIDED))).encode()
    ).hexdigest()[:16]
    target = cache / f"deps-{key}"
    if target.is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f"partial-{key}-", dir=cache))
    try:
        _pip_install(partial)
        _remove_distributions(partial, RUNTIME_PROVIDED)
        shutil.rmtree(partial / "bin", ignore_errors=True)
        for stale in cache.glob("deps-*"):
            if stale != target:  # a concurrent build's copy of this key may be in use
                shutil.rmtree(stale, ignore_errors=True)
        with contextlib.suppress(OSError):  # a concurrent build got there first: use its copy
            partial.rename(target)  # only a complete install ever becomes the cache
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _pip_install(target: Path) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += [*LAMBDA_WHEELS, "--no-compile", "--target", str(target), "-r", str(REQUIREMENTS)]
    subprocess.run(command, check=True)


def _remove_distributions(site: Path, names: Iterable[str]) -> None:
    wanted = set(names)
    for distribution in metadata.distributions(path=[str(site)]):
        name = distribution.metadata["Name"].lower().replace("_", "-")
        if name in wanted:
            for file in distribution.files or []:
                (site / file).unlink(missing_ok=True)
    for directory in sorted(site.rglob("*"), key=lambda path: len(path.parts), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()


def stage_project(stage: Path, dependencies: Path) -> Path:
    """A Chalice project with our packages and the Lambda wheels in vendor/: nothing to resolve."""
    shutil.rmtree(stage, ignore_errors=True)
    (stage / ".chalice").mkdir(parents=True)
    shutil.copy2(ROOT / "app.py", stage / "app.py")
    shutil.copy2(ROOT / ".chalice" / "config.json", stage / ".chalice" / "config.json")
    # autogen_policy is false, so Chalice wants a policy file; the merge replaces every role.
    empty_policy = {"Version": "2012-10-17", "Statement": []}
    (stage / ".chalice" / f"policy-{CHALICE_STAGE}.json").write_text(json.dumps(empty_policy))
    (stage / "requirements.txt").write_text("")  # keeps Chalice from resolving x86 wheels
    shutil.copytree(dependencies, stage / "vendor")
    for package in SOURCE_PACKAGES:
        shutil.copytree(
            ROOT / package,
            stage / "vendor" / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    return stage


def chalice_package(stage: Path, out: Path) -> Path:
    """Run the Chalice CLI of this interpreter in the stage; returns the dir with sam.json + zip."""
    shutil.rmtree(out, ignore_errors=True)
    # Chalice insists on a region, though every ARN it writes uses ${AWS::Region}.
    environment = {"AWS_DEFAULT_REGION": "us-east-1", **os.environ}
    command = _cli("chalice.cli", "package", "--stage", CHALICE_STAGE, str(out))
    subprocess.run(command, cwd=stage, env=environment, check=True)
    return out


def merged_template(chalice_template: dict[str, Any]) -> dict[str, Any]:
    """Chalice's template + resources.yaml, triggers wired, a least-privilege role per function,
    the API's limits and access log (api.yaml), every function behind a published alias
    (SnapStart when the stack turns it on)."""
    placeholder = importlib.import_module("app").TABLE_STREAM
    resources = cfn_yaml.load(RESOURCES)
    template = merge.merge(chalice_template, resources, stream_placeholder=placeholder)
    iam.attach_roles(template, iam.load_permissions(), keep=frozenset(resources["Resources"]))
    merge.limit_and_log_api(template, cfn_yaml.load(API_RESOURCES))
    versions.publish_versions(template)
    return template


def lint(template: Path) -> int:
    """cfn-lint's exit code for the template (0: clean)."""
    return subprocess.run(_cli("cfnlint.runner", str(template)), check=False).returncode


def _cli(module: str, *arguments: str) -> list[str]:
    """A tool's CLI run by this interpreter: found wherever the venv is, whatever its bin/ holds."""
    return [
        sys.executable,
        "-c",
        f"import sys; from {module} import main; sys.exit(main())",
        *arguments,
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: build/cache")
    parser.add_argument("--skip-lint", action="store_true", help="do not run cfn-lint")
    args = parser.parse_args(argv)
    started = time.monotonic()
    package = build(args.out, args.cache_dir)
    size_mb = package.code.stat().st_size / 1e6
    print(f"{package.template}\n{package.code} ({size_mb:.1f} MB)")
    if not args.skip_lint and (status := lint(package.template)) != 0:
        print(f"cfn-lint rejected {package.template}", file=sys.stderr)
        return status
    print(f"packaged in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
