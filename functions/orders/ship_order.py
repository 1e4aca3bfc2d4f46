"""Record a shipment of reserved units: stock leaves, and OrderShipped says what went out."""

from __future__ import annotations

from functions.orders.get_order import get_order
from functions.orders.refusals import refused_as_conflicts
from functions.orders.reservations import Move, commit
from shared import errors, request_scope
from shared.domain import order as order_domain
from shared.domain.access import Principal
from shared.domain.order import Order, Shipment, ShipmentError, ShipmentRequest
from shared.store import orders, stock


def ship_order(
    order_id: str, request: ShipmentRequest, principal: Principal
) -> tuple[Order, Shipment]:
    order = get_order(order_id, principal)
    try:
        return _ship(order, request, principal)
    except errors.DomainError:
        # A retry whose first attempt recorded the shipment, then died before its answer was
        # saved: the order has shipped those units (refused now), the shipment is there. The
        # answer is the order as it is now, with that shipment (not the read from before it).
        if shipment := request_scope.made_before(
            "shp", lambda made: orders.shipment(order_id, made)
        ):
            return get_order(order_id, principal), shipment
        raise


def _ship(order: Order, request: ShipmentRequest, principal: Principal) -> tuple[Order, Shipment]:
    shipment_id = request_scope.request_scoped_id("shp")  # the same on a retry of this request
    try:
        with refused_as_conflicts(order.order_id):
            shipped, shipment, event = order_domain.ship(
                order, request, principal.principal_id, shipment_id=shipment_id
            )
    except ShipmentError as error:
        pointer = f"#/lines/{error.index}/{error.field}"
        raise errors.Unprocessable(
            "over-shipment", error.detail, errors=[{"pointer": pointer, "detail": error.detail}]
        ) from None
    tracked = {line.line_no for line in order.lines if line.tracked}
    leaving: dict[str, int] = {}
    for line in shipment.lines:
        if line.line_no in tracked:
            leaving[line.sku] = leaving.get(line.sku, 0) + line.quantity
    move = Move(
        before=order,
        after=shipped,
        events=[event],
        stock=[stock.ship(sku, units) for sku, units in sorted(leaving.items())],
        extra=[orders.shipment_record(shipped, shipment)],
    )
    with refused_as_conflicts(order.order_id):
        commit(lambda: move)
    return shipped, shipment
