"""Every layer runs offline: fake credentials, no endpoint override, no profile."""

from __future__ import annotations

from functools import cache

import botocore.loaders
import botocore.session
from hypothesis import HealthCheck, settings

from infra.local.offline import use_offline_environment

use_offline_environment()

# Property tests judge what the code does, never how fast it runs: on a loaded machine (the suite
# beside the benchmarks) a per-example deadline or the input-generation health check would fail a
# test whose every assertion held.
settings.register_profile(
    "loaded-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("loaded-machine")

# Every test builds a fresh moto world and fresh boto3 sessions; each new session would read and
# parse botocore's service models again (half of a world's set-up). The models never change within
# a run, so every session of the test process shares one loader.
botocore.session.create_loader = cache(botocore.loaders.create_loader)


def _symmetric_keys_share_their_unused_rsa_key() -> None:
    """moto makes an RSA-2048 key (a third of a world's set-up) even for symmetric KMS keys.

    A symmetric key never signs, so one such key serves every symmetric key of the run;
    asymmetric specs still get their own.
    """
    from moto.kms import models, utils

    generate = utils.generate_private_key
    spare = cache(generate)

    def private_key(key_spec: str) -> utils.AbstractPrivateKey:
        return spare(key_spec) if key_spec == "SYMMETRIC_DEFAULT" else generate(key_spec)

    models.generate_private_key = private_key


_symmetric_keys_share_their_unused_rsa_key()
