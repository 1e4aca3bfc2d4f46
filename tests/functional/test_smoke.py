import json

from tests.functional.conftest import PARTNER_KEY, order_body, post_order


def test_order_is_confirmed_through_outbox_bus_queue_and_worker(world, client):
    response = post_order(client, order_body())
    assert response.status_code == 201, response.body
    order = json.loads(response.body)
    assert order["status"] == "received"
    world.pump.drain()
    got = client.http.get(f"/orders/{order['id']}", headers={"X-Api-Key": PARTNER_KEY})
    assert json.loads(got.body)["status"] == "confirmed"
