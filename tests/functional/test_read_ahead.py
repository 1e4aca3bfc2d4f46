"""Items read ahead in one call answer the reads that follow, once each."""

from __future__ import annotations

from shared.store import table


def test_items_read_ahead_answer_the_next_read_once_then_reads_are_fresh(world):
    # Given two items, one of them read ahead with a key that does not exist
    table.transact([table.Put(item={"pk": "T#1", "sk": "A", "n": 1})])
    table.transact([table.Put(item={"pk": "T#2", "sk": "A", "n": 2})])
    with table.reading_ahead([("T#1", "A"), ("T#9", "A")]):
        # When the first item changes after the read ahead
        table.transact([table.Put(item={"pk": "T#1", "sk": "A", "n": 10})])
        # Then the next read gets it as read ahead, the one after that afresh
        assert table.get("T#1", "A") == {"pk": "T#1", "sk": "A", "n": 1}
        assert table.get("T#1", "A") == {"pk": "T#1", "sk": "A", "n": 10}
        # and a missing item read ahead is missing without another read, others are read
        assert table.get_many([("T#9", "A"), ("T#2", "A")]) == [{"pk": "T#2", "sk": "A", "n": 2}]
    # and nothing read ahead outlives the block
    assert table.get("T#1", "A") == {"pk": "T#1", "sk": "A", "n": 10}
