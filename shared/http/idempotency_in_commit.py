"""Idempotency-Key for a POST whose effect is one transaction: the answer is saved in it.

``shared.http.idempotency`` (Powertools) claims a key with a PutItem before the work and saves
the answer with an UpdateItem after: two calls around every request. A use case that makes its
effect in one transaction, and knows its answer before committing, can save the answer in that
transaction instead (a conditional Put into the idempotency table): the answer exists exactly when
the effect does, and the first attempt of a request pays no extra call.

The guarantees stay: the same key with the same body replays the first answer; with another body
it answers 422. A request whose transaction meets a saved answer (a retry after a crash, or a
concurrent twin) replays it. A request refused before committing looks for a saved answer first,
so a retry gets the first answer even when the world moved meanwhile (e.g. the customer closed).
Two concurrent twins both do the work and the transaction admits one: the other replays its answer
instead of answering 409.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from shared import errors, request_scope
from shared.http import problems
from shared.store import answers
from shared.store.table import Put

Answer = dict[str, Any]  # {"status": int, "body": JSON value, "headers"?: {...}}

# Saving an answer, for the use case to write in its transaction: the answer -> the record's Put.
SaveAnswer = Callable[[Answer], Put]


def _digest(text: str | bytes) -> str:
    return hashlib.sha256(text if isinstance(text, bytes) else text.encode()).hexdigest()


def once(
    operation: str, caller: str, key: str, raw_body: bytes, produce: Callable[[SaveAnswer], Answer]
) -> Answer:
    """Run ``produce`` once per (operation, caller, key); replay its answer afterwards.

    ``produce`` gets the function that turns its answer into the Put to commit with its effect,
    and raises ``request_scope.AnsweredBefore`` when that Put's guard fails.
    """
    record_id = f"{operation}#committed#{_digest(f'{caller}#{key}')}"
    body_digest = _digest(raw_body)

    def save(answer: Answer) -> Put:
        return answers.save(record_id, body_digest, answer)

    scope = request_scope.producing.set(f"{operation}#{caller}#{key}")
    try:
        return produce(save)
    except request_scope.AnsweredBefore:
        replayed = _replayed(record_id, body_digest)
        if replayed is None:  # the saved answer expired between the guard and the read
            raise problems.request_in_progress() from None
        return replayed
    except errors.DomainError:
        replayed = _replayed(record_id, body_digest)
        if replayed is None:
            raise
        return replayed
    finally:
        request_scope.producing.reset(scope)


def _replayed(record_id: str, body_digest: str) -> Answer | None:
    saved = answers.find(record_id)
    if saved is None:
        return None
    if saved.body_digest != body_digest:
        raise problems.idempotency_key_reused()
    return saved.answer
