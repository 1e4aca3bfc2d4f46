"""Every layer runs offline: fake credentials, no endpoint override, no profile."""

from __future__ import annotations

from infra.local.offline import use_offline_environment

use_offline_environment()
