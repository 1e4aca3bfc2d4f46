"""The base of every pydantic model of the app: its validators are built on first use.

A model's core schema costs far more to build than its module to import, and a cold start imports
many models it never validates (a route module's neighbours, a worker's unused event shapes).
``defer_build`` moves each model's build from its class statement to its first validation,
serialization or JSON schema, so a cold start pays only for the models its request uses.
Subclasses keep it: pydantic merges ``model_config`` with the bases' config.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
