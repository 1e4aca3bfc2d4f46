"""Package once per session (the slow part) and share the result with every infra test."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra import package


@dataclass(frozen=True)
class Packaged:
    """The packaged template (parsed and on disk), Chalice's raw one, and the code zip."""

    template: dict[str, Any]
    template_path: Path
    chalice_template: dict[str, Any]
    code: Path


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    out = tmp_path_factory.mktemp("package")
    result = package.build(out)  # the wheel cache under build/cache is reused across sessions
    return Packaged(
        template=json.loads(result.template.read_text()),
        template_path=result.template,
        chalice_template=json.loads((out / "chalice" / "sam.json").read_text()),
        code=result.code,
    )


@pytest.fixture
def template(packaged: Packaged) -> dict[str, Any]:
    """A copy per test: a test that edits its template must not change the next one's."""
    return copy.deepcopy(packaged.template)
