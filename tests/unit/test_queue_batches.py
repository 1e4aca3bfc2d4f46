"""Each queue's Lambda reads its messages in the batch app.py means: ten (a partial batch failure
retries only the failed messages), except where one message is a whole file or a customer's
reminders must stay few per invocation."""

from __future__ import annotations

from chalice.app import SQSEventConfig

import app as app_module

SMALLER_BATCHES = {"start_imports": 1, "import_bank_statements": 1, "remind_customers": 5}


def test_every_queue_is_read_ten_messages_at_a_time_unless_app_py_says_otherwise():
    # Given the queues app.py wires
    sizes = {
        source.name: source.batch_size
        for source in app_module.app.event_sources
        if isinstance(source, SQSEventConfig)
    }

    # Then
    assert len(sizes) >= 13
    assert sizes == {name: SMALLER_BATCHES.get(name, 10) for name in sizes}
