"""The local stack's pump thread sleeps while idle and passes again as soon as work is announced."""

import threading
import time

from infra.local.moto_writes import ANNOUNCED, action_of
from infra.local.server import PumpThread

WITHIN_SECONDS = 5.0  # far below the idle interval below: only an announcement can explain a pass


class CountingPump:
    def __init__(self) -> None:
        self.passes = 0
        self.passed = threading.Event()

    def pump_once(self) -> int:
        self.passes += 1
        self.passed.set()
        return 0

    @property
    def stream_positions(self) -> dict[str, tuple[str, str] | None]:
        return {}


def test_an_idle_pump_passes_again_only_when_work_is_announced_and_stops_at_once():
    pump, work_waiting = CountingPump(), threading.Event()
    thread = PumpThread(pump, work_waiting=work_waiting, idle_interval=600)
    thread.start()
    try:
        # Given the pump made its first pass and found nothing
        assert pump.passed.wait(WITHIN_SECONDS)
        time.sleep(0.3)
        assert pump.passes == 1  # it sleeps instead of polling
        # When a request announces work
        pump.passed.clear()
        work_waiting.set()
        # Then it passes again at once
        assert pump.passed.wait(WITHIN_SECONDS)
        assert pump.passes == 2
    finally:
        started = time.monotonic()
        thread.stop()
    assert not thread.is_alive() and time.monotonic() - started < WITHIN_SECONDS


def test_writes_and_sends_are_announced_and_reads_are_not():
    assert action_of("DynamoDB_20120810.TransactWriteItems") in ANNOUNCED
    assert action_of("AmazonSQS.SendMessage") in ANNOUNCED
    assert action_of("AWSEvents.PutEvents") in ANNOUNCED
    assert action_of("AmazonSQS.ReceiveMessage") not in ANNOUNCED
    assert action_of("DynamoDBStreams_20120810.GetRecords") not in ANNOUNCED
    assert action_of("") not in ANNOUNCED


def test_moto_announces_a_message_sent_and_not_one_received():
    import boto3
    from moto import mock_aws

    from infra.local.moto_writes import announced_writes

    work_waiting = threading.Event()
    with mock_aws(), announced_writes(work_waiting):
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="work")["QueueUrl"]
        assert not work_waiting.is_set()
        sqs.send_message(QueueUrl=url, MessageBody="{}")
        assert work_waiting.is_set()
        work_waiting.clear()
        sqs.receive_message(QueueUrl=url)
        assert not work_waiting.is_set()
