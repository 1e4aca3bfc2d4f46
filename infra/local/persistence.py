"""The local stack's state across restarts, in a folder: moto's world, the pump's place, the keys.

moto keeps its world in memory, one ``BackendDict`` per service, and has no API to save it (its
server can only reset it). Its models pickle, as moto's own tests pickle them, except for a few
members, which are saved as what they stand for: locks and conditions as new ones (nothing holds
them once the stack is stopped), private keys (KMS, CloudFormation) as PKCS#8 DER, and SSM's
tag dictionary (a defaultdict of a lambda) as its items.

Beside the world, ``state.json`` holds what lives outside moto: where the event pump has read
each stream shard (so a restart neither publishes an old event again nor skips a new one), the
demo keys (only their hashes are in the table), and what the world was saved with (moto's
version, the template's digest): a world saved by another moto, or from another resources.yaml,
is refused rather than half-loaded.
"""

from __future__ import annotations

import copyreg
import importlib
import io
import json
import pickle
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

WORLD_FILE = "moto.pickle"
STATE_FILE = "state.json"

Position = tuple[str, str] | None


class IncompatibleStateError(Exception):
    """The saved state cannot be loaded into this stack (another moto, another template)."""


@dataclass(frozen=True)
class SavedState:
    partner_key: str
    admin_key: str
    stream_positions: dict[str, Position]
    moto_version: str
    template_digest: str

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2)

    @classmethod
    def from_json(cls, text: str) -> SavedState:
        values = json.loads(text)
        positions = {
            shard: None if position is None else (position[0], position[1])
            for shard, position in values.pop("stream_positions").items()
        }
        return cls(stream_positions=positions, **values)


def moto_version() -> str:
    return metadata.version("moto")


def exists(directory: Path) -> bool:
    return (directory / STATE_FILE).is_file() and (directory / WORLD_FILE).is_file()


def save(directory: Path, state: SavedState) -> None:
    """Write moto's world, then the state that points into it (each file replaced atomically)."""
    directory.mkdir(parents=True, exist_ok=True)
    _replace(directory / WORLD_FILE, dump_world())
    _replace(directory / STATE_FILE, state.to_json().encode())


def load(directory: Path, *, template_digest: str) -> SavedState:
    """Install the saved world into moto (in this process) and return the state beside it."""
    state = SavedState.from_json((directory / STATE_FILE).read_text())
    if state.moto_version != moto_version():
        raise IncompatibleStateError(
            f"saved by moto {state.moto_version}, this is moto {moto_version()}"
        )
    if state.template_digest != template_digest:
        raise IncompatibleStateError("infra/resources.yaml changed since the state was saved")
    install_world((directory / WORLD_FILE).read_bytes())
    return state


def _replace(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


# --- moto's world -------------------------------------------------------------------------------

World = dict[tuple[str, str], dict[str, dict[str, Any]]]  # (module, service) -> account -> region


def dump_world(kept: list[Any] | None = None) -> bytes:
    """Every backend moto has created, per service, account and region, pickled at once (objects
    shared between services stay shared).

    With ``kept`` (a snapshot that stays in this process), private keys are not written out but
    appended to it, and ``install_world`` given the same list puts those very objects back: a key
    never changes, and loading one from DER costs more than the rest of a small world.
    """
    from moto.core.base_backend import BackendDict

    world: World = {
        (backends.backend.__module__, backends.service_name): {
            account_id: dict(regions) for account_id, regions in backends.items()
        }
        for backends in BackendDict._instances  # type: ignore[misc]
    }
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _reducers()
    if kept is not None:
        pickler.persistent_id = _keeping_private_keys(kept)  # type: ignore[method-assign]
    pickler.dump(world)
    return buffer.getvalue()


def install_world(data: bytes, kept: list[Any] | None = None) -> None:
    """Put a world from ``dump_world`` into moto (``kept``: the list that dump was given)."""
    unpickler = pickle.Unpickler(io.BytesIO(data))  # noqa: S301 - our own, from dump_world
    if kept is not None:
        unpickler.persistent_load = kept.__getitem__  # type: ignore[method-assign]
    world: World = unpickler.load()
    for (module_name, service_name), accounts in world.items():
        backends = _backend_dict(module_name, service_name)
        for account_id, regions in accounts.items():
            account = backends[account_id]
            for region, backend in regions.items():
                account[region] = backend


def _keeping_private_keys(kept: list[Any]) -> Callable[[Any], int | None]:
    key_types = tuple(type(key) for key in _private_keys())

    def persistent_id(value: Any) -> int | None:
        if not isinstance(value, key_types):
            return None
        kept.append(value)
        return len(kept) - 1

    return persistent_id


def _backend_dict(module_name: str, service_name: str) -> Any:
    from moto.core.base_backend import BackendDict

    module = importlib.import_module(module_name)
    for value in vars(module).values():
        if isinstance(value, BackendDict) and value.service_name == service_name:
            return value
    raise IncompatibleStateError(f"moto has no {service_name} backends in {module_name}")


def _new_lock(lock: Any) -> tuple[Callable[[], Any], tuple[()]]:
    return threading.Lock, ()


def _new_rlock(lock: Any) -> tuple[Callable[[], Any], tuple[()]]:
    return threading.RLock, ()


def _new_condition(condition: threading.Condition) -> tuple[Callable[[], Any], tuple[()]]:
    return threading.Condition, ()


def tags_of_a_resource() -> defaultdict[str, dict[str, str]]:
    return defaultdict(dict)


def nested_tags(items: Mapping[str, Any]) -> defaultdict[str, defaultdict[str, dict[str, str]]]:
    """SSM's resource tags, ``defaultdict(lambda: defaultdict(dict))`` in moto, rebuilt from its
    items with a factory that pickles."""
    return defaultdict(tags_of_a_resource, items)


def _defaultdict(value: defaultdict[Any, Any]) -> Any:
    factory = value.default_factory
    if getattr(factory, "__name__", "") != "<lambda>":
        return value.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    if "SimpleSystemManagerBackend" not in getattr(factory, "__qualname__", ""):
        raise pickle.PicklingError(f"cannot save a defaultdict of {factory!r}")
    return nested_tags, (dict(value),)


def empty_defaultdict(cls: type[defaultdict[Any, Any]], factory: Any) -> defaultdict[Any, Any]:
    """A defaultdict subclass (SSM's ParameterDict) without its ``__init__``: pickle then sets
    its attributes and items."""
    value = cls.__new__(cls)
    value.default_factory = factory
    return value


def private_key(der: bytes) -> PrivateKeyTypes:
    return serialization.load_der_private_key(der, None)


def _private_key(key: Any) -> tuple[Callable[[bytes], PrivateKeyTypes], tuple[bytes]]:
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return private_key, (der,)


def _defaultdict_subclass(value: defaultdict[Any, Any]) -> Any:
    return (
        empty_defaultdict,
        (type(value), value.default_factory),
        vars(value),
        None,
        iter(value.items()),
    )


def _reducers() -> dict[type, Callable[[Any], Any]]:
    """By exact type (a reducer looked up per object would double the time a save takes)."""
    from moto.ssm.models import ParameterDict

    return {
        **copyreg.dispatch_table,
        type(threading.Lock()): _new_lock,
        type(threading.RLock()): _new_rlock,
        threading.Condition: _new_condition,
        defaultdict: _defaultdict,
        ParameterDict: _defaultdict_subclass,
        **{type(key): _private_key for key in _private_keys()},
    }


@cache
def _private_keys() -> tuple[PrivateKeyTypes, ...]:
    """One key of each kind moto makes (their classes are only reached through an instance)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    return (
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec.generate_private_key(ec.SECP256R1()),
        ed25519.Ed25519PrivateKey.generate(),
    )
