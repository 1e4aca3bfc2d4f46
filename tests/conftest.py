"""Every layer runs offline: fake credentials, no endpoint override, no profile."""

from __future__ import annotations

import pytest

from infra.local.offline import use_offline_environment

use_offline_environment()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``make test`` runs two workers), keep the layers that share one
    expensive session fixture on one worker each: the packaged template (infra) and the local
    stack (e2e). ``--dist loadgroup`` honours these groups; plain pytest ignores them."""
    for item in items:
        layer = item.path.parent.name
        if layer in ("infra", "e2e"):
            item.add_marker(pytest.mark.xdist_group(layer))
