"""Stored timestamps (one fixed-width UTC format) and business dates (a window, YYYY-MM-DD)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared import clock
from shared.domain import dates
from shared.domain.dates import BusinessDate, BusinessMoment

moments = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999)
).map(lambda moment: moment.replace(tzinfo=UTC))


@given(moments)
def test_every_moment_of_years_1_to_9999_round_trips_at_millisecond_precision(moment: datetime):
    # When
    text = clock.iso(moment)

    # Then
    assert len(text) == len("2026-01-01T00:00:00.000Z") and text.endswith("Z")
    assert clock.parse(text) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert clock.iso(clock.parse(text)) == text


@given(moments, moments)
def test_stored_timestamps_sort_as_text_in_the_order_of_time(first: datetime, second: datetime):
    # When
    a, b = clock.iso(first), clock.iso(second)

    # Then
    assert (a < b) == (clock.parse(a) < clock.parse(b))
    assert (a == b) == (clock.parse(a) == clock.parse(b))


def test_a_year_below_1000_is_zero_padded():
    # Given
    moment = datetime(44, 7, 8, 1, 2, 3, 456789, tzinfo=UTC)

    # Then
    assert clock.iso(moment) == "0044-07-08T01:02:03.456Z"
    assert clock.iso(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00.000Z"


def test_another_offset_is_written_in_utc():
    # Given
    moment = datetime(2026, 12, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))

    # Then
    assert clock.iso(moment) == "2026-11-30T23:30:00.000Z"


@pytest.mark.parametrize(
    "text",
    [
        "1-01-01T00:00:00.000Z",  # what the unpadded year wrote
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00.000+00:00",
        "2026-01-01T00:00:00.000",
        "2026-01-01 00:00:00.000Z",
        "2026-01-01",
        "2026-02-30T00:00:00.000Z",
        "2026-01-01T24:00:00.000Z",
        "\uff12\uff10\uff12\uff16-01-01T00:00:00.000Z",  # fullwidth digits
        "2026-01-01T00:00:00.000Z\n",
        "",
        None,
        0,
    ],
)
def test_the_parser_refuses_anything_but_the_stored_shape(text: object):
    # When / Then
    with pytest.raises(clock.TimestampError):
        clock.parse(text)


class Dated(BaseModel):
    day: BusinessDate
    at: BusinessMoment | None = None


@pytest.mark.parametrize("day", ["2000-01-01", "2026-12-01", "2099-12-31"])
def test_a_business_date_is_a_day_inside_the_window(day: str):
    # When / Then
    assert Dated.model_validate({"day": day}).day == date.fromisoformat(day)


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01",
        "0044-07-08",
        "1999-12-31",
        "2100-01-01",
        "9999-12-31",
        "2026-01-01T00:00:00",
        "2026-01-01T00:00:00Z",
        "20260101",
        "2026-1-1",
        "2026-02-30",
        "",
        0,
        1767225600,
        True,
        None,
        [],
    ],
)
def test_anything_else_is_a_validation_error_of_the_field(value: object):
    # When / Then
    with pytest.raises(ValidationError) as raised:
        Dated.model_validate({"day": value})
    assert [error["loc"] for error in raised.value.errors()] == [("day",)]


@pytest.mark.parametrize(
    "value", ["1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", 0]
)
def test_a_business_moment_is_inside_the_window_too(value: object):
    # When / Then
    with pytest.raises(ValidationError):
        Dated.model_validate({"day": "2026-01-01", "at": value})


def test_a_business_moment_inside_the_window_is_accepted():
    # When
    found = Dated.model_validate({"day": "2026-01-01", "at": "2026-01-01T10:00:00+02:00"})

    # Then
    assert found.at == datetime(2026, 1, 1, 8, tzinfo=UTC)


def test_the_window_is_configured_by_the_environment(monkeypatch: pytest.MonkeyPatch):
    # Given
    monkeypatch.setenv("BUSINESS_DATES_FROM", "2020-01-01")
    monkeypatch.setenv("BUSINESS_DATES_TO", "2030-12-31")

    # Then
    assert dates.check_day(date(2020, 1, 1)) == date(2020, 1, 1)
    with pytest.raises(dates.OutOfWindowError, match="2020-01-01 to 2030-12-31"):
        dates.check_day(date(2031, 1, 1))
    with pytest.raises(ValidationError):
        Dated.model_validate({"day": "2019-12-31"})


def test_outside_a_skipping_scope_an_unreadable_item_raises_naming_its_key():
    # Given
    from shared.store import readable

    items = [{"pk": "P#1", "sk": "S", "at": "2026-01-01T00:00:00.000Z"}, {"pk": "P#2", "sk": "S"}]

    # When / Then
    with pytest.raises(readable.UnreadableRecord) as raised:
        readable.each(items, lambda item: clock.parse(item["at"]))
    assert (raised.value.pk, raised.value.sk) == ("P#2", "S")
    assert "'at'" in raised.value.reason


def test_inside_a_skipping_scope_an_unreadable_item_is_left_out_and_named_once():
    # Given
    from shared.store import readable

    bad = {"pk": "P#2", "sk": "S", "at": "1-01-01T00:00:00.000Z"}
    items = [{"pk": "P#1", "sk": "S", "at": "2026-01-01T00:00:00.000Z"}, bad]

    # When
    with readable.skipping() as skipped:
        read = readable.each(items, lambda item: clock.parse(item["at"]))
        with readable.skipping():  # a nested scope notes into the outer one
            assert readable.one(bad, lambda item: clock.parse(item["at"])) is None

    # Then
    assert read == [datetime(2026, 1, 1, tzinfo=UTC)]
    assert readable.wire(skipped) == [
        {
            "pk": "P#2",
            "sk": "S",
            "reason": "TimestampError: "
            + str(
                clock.TimestampError(
                    "not a timestamp in the stored format YYYY-MM-DDTHH:MM:SS.mmmZ"
                )
            ),
        }
    ]
