"""The routes of one bounded context: a Chalice Blueprint whose every route says what it requires.

``@routes.route("/orders", methods=["POST"], requires=Action.PLACE_ORDERS)`` is the one place a
route's authorization is written, and the wrapper is the one place it is checked, before the
handler runs: an ``Action`` admits an API key whose role may perform it; a ``Requirement``
(``PUBLIC``, ``AUTHENTICATED``, ``staff(...)``, ``any_of(...)``, ``partner_itself_or(...)`` or a
route's own) admits by its rule. A handler naming a ``principal`` parameter gets the admitted
caller. Scoping by data (a partner's own customers) stays with the use case.

This module is imported at cold start by every route module: it imports only chalice, pydantic
and the light shared modules; the store and the use cases load inside the handlers.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from shared.domain.access import Action, Role
from shared.http import problems

if TYPE_CHECKING:
    from shared.http.auth import Principal

Model = TypeVar("Model", bound=BaseModel)
Answer = dict[str, Any]  # what an idempotent run answers: {"status", "body", "headers"?}


class Requirement:
    """A rule admitting a request other than "a key whose role may perform one action".

    ``api_key`` says what openapi.yaml states of the X-Api-Key header: "required" (the rule
    authenticates a key), "optional" (a key, or a credential the handler reads) or "none".
    A plain class (not a dataclass): this module is imported at every cold start.
    """

    __slots__ = ("admit", "api_key", "name")

    def __init__(
        self,
        name: str,
        admit: Callable[[Request], Principal | None],
        api_key: Literal["required", "optional", "none"] = "required",
    ) -> None:
        self.name = name
        self.admit = admit
        self.api_key = api_key

    def __repr__(self) -> str:
        return f"Requirement({self.name!r})"


Requires = Action | Requirement


def authenticate(request: Request) -> Principal:
    """The caller of the request's API key (401 without a valid one)."""
    from shared import actor
    from shared.http import auth

    principal = auth.authenticate(request.headers)
    actor.set_actor(principal.principal_id)  # the events this request causes name who caused them
    return principal


def _anyone(_request: Request) -> None:
    return None


# No API key: health, or a signature the handler checks
PUBLIC = Requirement("public", _anyone, api_key="none")
AUTHENTICATED = Requirement("authenticated", authenticate)  # any key; the use case scopes it


def staff(action: Action, doing: str) -> Requirement:
    """A key that may ``action`` and is not a partner's (the answer spans every customer)."""

    def admit(request: Request) -> Principal:
        principal = authenticate(request)
        principal.require(action)
        if principal.role is Role.PARTNER:
            raise problems.forbidden(f"the partner role may not {doing}")
        return principal

    return Requirement(f"staff:{action.value}", admit)


def any_of(*actions: Action) -> Requirement:
    """A key that may perform at least one of ``actions`` (the use case checks which it needs)."""

    def admit(request: Request) -> Principal:
        principal = authenticate(request)
        if not any(principal.may(action) for action in actions):
            principal.require(actions[0])  # raises the 403
        return principal

    return Requirement("any:" + ",".join(a.value for a in actions), admit)


def partner_itself_or(action: Action) -> Requirement:
    """A partner (about its own resources: the use case answers 404 for another's), or staff
    who may ``action``."""

    def admit(request: Request) -> Principal:
        principal = authenticate(request)
        if principal.role is not Role.PARTNER:
            principal.require(action)
        return principal

    return Requirement(f"partner-itself-or:{action.value}", admit)


def admit(requires: Requires, request: Request) -> Principal | None:
    if isinstance(requires, Requirement):
        return requires.admit(request)
    principal = authenticate(request)
    principal.require(requires)
    return principal


class Routes(Blueprint):
    """A Blueprint whose ``route`` takes ``requires=`` (mandatory) and checks it first."""

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self.declared: dict[tuple[str, str], Requires] = {}

    def route(self, path: str, **kwargs: Any) -> Callable[..., Any]:
        if "requires" not in kwargs:
            raise TypeError(f"route {path} declares no requires= (use PUBLIC for an open route)")
        requires: Requires = kwargs.pop("requires")
        for method in kwargs.get("methods", ["GET"]):
            self.declared[(path, method)] = requires
        register = super().route(path, **kwargs)

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            code = view.__code__  # cheaper at cold start than inspect.signature, run per route
            gets_principal = "principal" in code.co_varnames[: code.co_argcount]

            @functools.wraps(view)
            def admitted(**params: str) -> Any:
                principal = admit(requires, self.current_request)
                if gets_principal:
                    return view(principal=principal, **params)
                return view(**params)

            register(problems.answering_outages(admitted))
            return view

        return decorate

    # --- the request, read the one way every route reads it ------------------------------------

    @property
    def request(self) -> Request:
        return self.current_request

    def json_body(self, model: type[Model]) -> Model:
        from shared import payloads

        request = self.request
        return payloads.parse(
            request.raw_body, model, content_type=request.headers.get("Content-Type")
        )

    def optional_body(self, model: type[Model]) -> Model:
        """The body as ``model``, or ``model()`` when the request has none."""
        return self.json_body(model) if self.request.raw_body else model()

    def query(self, model: type[Model]) -> Model:
        """The query string as ``model``; bad parameters answer 400, one error per parameter."""
        try:
            return model.model_validate(self.request.query_params or {})
        except ValidationError as error:
            raise problems.invalid_query(
                [
                    {"parameter": ".".join(str(p) for p in item["loc"]), "detail": item["msg"]}
                    for item in error.errors(include_url=False, include_input=False)
                ]
            ) from None

    def base_url(self, suffix: str) -> str:
        """The API's URL as the caller reached it: the host, and the stage or base path that
        API Gateway's ``path`` holds before ``suffix`` (the end of the path asked for); empty
        when unknown."""
        request = self.request
        host = request.headers.get("host")
        asked = str(request.context.get("path") or "")
        if not host or not asked.endswith(suffix):
            return ""
        scheme = request.headers.get("x-forwarded-proto", "http").split(",")[0].strip()
        return f"{scheme}://{host}{asked.removesuffix(suffix)}"

    def once(
        self, operation: str, principal: Principal, payload: BaseModel, run: Callable[[], Answer]
    ) -> Response:
        """Run a POST once per Idempotency-Key; a retry gets the first answer again."""
        from shared.http import idempotency

        key = idempotency.require_key(self.request.headers)
        answer = idempotency.once(
            operation,
            principal.principal_id,
            key,
            payload.model_dump_json().encode(),
            run,
            lambda_context=self.lambda_context,
        )
        return json_response(answer["body"], answer["status"], answer.get("headers"))

    def once_in_commit(
        self,
        operation: str,
        principal: Principal,
        payload: BaseModel,
        run: Callable[[Callable[[Answer], Any]], Answer],
    ) -> Response:
        """Run a POST once per Idempotency-Key, its answer saved in the transaction ``run``
        commits (``run`` gets the function making the answer's Put; see
        ``shared.http.idempotency_in_commit``)."""
        from shared.http import idempotency_in_commit
        from shared.http.idempotency_key import require_key

        key = require_key(self.request.headers)
        answer = idempotency_in_commit.once(
            operation, principal.principal_id, key, payload.model_dump_json().encode(), run
        )
        return json_response(answer["body"], answer["status"], answer.get("headers"))


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def no_content() -> Response:
    return Response(body="", status_code=204)
