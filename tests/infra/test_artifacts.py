"""What ``sam deploy`` ships: the code zip, and a template cfn-lint (and SAM) accept."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra import package
from tests.infra.cfn import FUNCTION, without_sam
from tests.infra.conftest import Packaged

pytestmark = pytest.mark.infra

EM_AARCH64 = 183  # ELF e_machine of arm64 (Graviton)


def _elf_machine(binary: bytes) -> int:
    assert binary[:4] == b"\x7fELF"
    machine: int = struct.unpack_from("<H", binary, 18)[0]
    return machine


def test_zip_holds_the_app_and_our_packages_at_the_lambda_root(packaged: Packaged) -> None:
    # Given the deployment zip
    with zipfile.ZipFile(packaged.code) as code:
        names = set(code.namelist())

    # Then app.py and vendor/'s packages sit where Lambda's import path finds them
    assert {"app.py", "chalice/app.py", "shared/__init__.py", "functions/__init__.py"} <= names
    assert "shared/store/table.py" in names
    assert not [name for name in names if "__pycache__" in name]


def test_zip_carries_arm64_cp312_binary_wheels(packaged: Packaged) -> None:
    # Given pydantic-core's compiled extension in the zip
    with zipfile.ZipFile(packaged.code) as code:
        [extension] = [
            name for name in code.namelist() if name.startswith("pydantic_core/_pydantic_core.")
        ]
        binary = code.read(extension)

    # Then it was built for CPython 3.12 on aarch64, whatever machine packaged it
    assert extension.endswith(".cpython-312-aarch64-linux-gnu.so")
    assert _elf_machine(binary) == EM_AARCH64


def test_zip_carries_every_pdf_font_and_an_arm64_harfbuzz(packaged: Packaged) -> None:
    # Given the deployment zip, and the font files the PDFs load (the fallbacks from their
    # packages, found here in the dev environment's site-packages)
    from functions.rendering import pdf_fonts

    faces = {f"functions/rendering/fonts/{path.name}" for path in pdf_fonts.HOUSE_FACES.values()}
    fallbacks = [fallback.locate().as_posix() for fallback in pdf_fonts.FALLBACKS]
    with zipfile.ZipFile(packaged.code) as code:
        names = set(code.namelist())
        [shaper] = [name for name in names if name.startswith("uharfbuzz/_harfbuzz.")]
        binary = code.read(shaper)

    # Then each is in it, where the Lambda finds it, and HarfBuzz is built for Graviton
    assert faces <= names
    for path in fallbacks:  # .../site-packages/<package>/<file> is <package>/<file> in the zip
        assert any(path.endswith(f"/{name}") for name in names if name.endswith((".ttf", ".otf")))
    assert "functions/rendering/fonts/OFL.txt" in names
    assert _elf_machine(binary) == EM_AARCH64


def test_zip_carries_the_factur_x_library_and_an_arm64_lxml(packaged: Packaged) -> None:
    # Given the deployment zip
    with zipfile.ZipFile(packaged.code) as code:
        names = set(code.namelist())
        [etree] = [name for name in names if name.startswith("lxml/etree.cpython-312-")]
        binary = code.read(etree)

    # Then the Factur-X PDFs' library is there with the XMP schemas it writes into each PDF,
    # and lxml (which it needs) is built for Graviton
    assert {"facturx/__init__.py", "facturx/facturx.py", "pypdf/__init__.py"} <= names
    assert "facturx/xmp/Factur-X_extension_schema.xmp" in names
    assert _elf_machine(binary) == EM_AARCH64


def test_zip_leaves_boto3_to_the_runtime(packaged: Packaged) -> None:
    # Given the top-level packages of the zip
    with zipfile.ZipFile(packaged.code) as code:
        top_level = {name.split("/")[0] for name in code.namelist()}

    # Then the runtime's own boto3/botocore pair is used, not a second botocore of ours
    assert not top_level & {"boto3", "botocore", "s3transfer"}
    assert {"aws_lambda_powertools", "pydantic"} <= top_level


def test_template_points_every_function_at_the_zip_beside_it(packaged: Packaged) -> None:
    # Given every function's code location, relative to the template (as sam deploy reads it)
    functions = [
        resource["Properties"]
        for resource in packaged.template["Resources"].values()
        if resource["Type"] == FUNCTION
    ]

    # Then they all point at the zip that was built
    for properties in functions:
        assert (packaged.template_path.parent / properties["CodeUri"]).resolve() == packaged.code


def test_cfn_lint_accepts_the_template(packaged: Packaged) -> None:
    # When cfn-lint checks the packaged template
    status = package.lint(packaged.template_path)

    # Then it finds nothing, not even a warning
    assert status == 0


def test_cfn_lint_accepts_the_plain_cloudformation_part(packaged: Packaged, tmp_path: Path) -> None:
    # Given the template without its SAM resources (cfn-lint skips IAM action names on SAM ones)
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(without_sam(packaged.template)))

    # When cfn-lint checks it
    status = package.lint(plain)

    # Then the roles, queues, policies and alarms pass every rule
    assert status == 0


def test_sam_translates_the_template_into_cloudformation_cfn_lint_accepts(
    packaged: Packaged, tmp_path: Path
) -> None:
    # Given SAM's own translator (what CloudFormation runs on deploy)
    translator = pytest.importorskip("samtranslator.translator.transform")
    template: dict[str, Any] = json.loads(json.dumps(packaged.template))
    for resource in template["Resources"].values():
        if resource["Type"] == FUNCTION:  # sam deploy uploads the zip and rewrites CodeUri
            resource["Properties"]["CodeUri"] = "s3://artifacts/deployment.zip"

    # When it expands the template (triggers, schedules, mappings) and cfn-lint checks the result
    translated = translator.transform(template, {}, _NoManagedPolicies())
    expanded = tmp_path / "expanded.json"
    expanded.write_text(json.dumps(translated))

    # Then SAM accepted every trigger property and the CloudFormation it wrote is clean
    assert {r["Type"] for r in translated["Resources"].values()} >= {
        "AWS::Lambda::EventSourceMapping",
        "AWS::Scheduler::Schedule",
    }
    assert package.lint(expanded) == 0


class _NoManagedPolicies:
    """Our roles name no managed policy, so SAM never needs to look one up in IAM."""

    def load(self) -> dict[str, str]:
        return {}
