"""Signed dashboard links: they open one path, for a short while, and cannot be forged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import signed_links
from shared.domain.signed_links import ExpiredLinkError, InvalidLinkError

SECRET = "s3cret-for-links"
NOW = 1_796_000_000  # 2026-11-30T...Z, any instant will do


def test_a_link_opens_its_path_until_it_expires():
    # Given a link minted now
    link = signed_links.sign("/dashboard", secret=SECRET, now=NOW)

    # When it is checked a second before its end
    expires = signed_links.verify(
        "/dashboard", link.token, secrets=[SECRET], now=link.expires_at - 1
    )

    # Then it opens the page, and it lived 15 minutes
    assert expires == link.expires_at == NOW + 15 * 60
    assert link.relative_url == f"/dashboard?token={link.token}"


def test_an_expired_link_is_refused_as_expired():
    # Given a link
    link = signed_links.sign("/dashboard", secret=SECRET, now=NOW)

    # When it is used at its expiry
    # Then
    with pytest.raises(ExpiredLinkError):
        signed_links.verify("/dashboard", link.token, secrets=[SECRET], now=link.expires_at)


def test_a_link_opens_no_other_path():
    # Given a link to the dashboard
    link = signed_links.sign("/dashboard", secret=SECRET, now=NOW)

    # When it is presented for another path
    # Then
    with pytest.raises(InvalidLinkError):
        signed_links.verify("/reports/aging", link.token, secrets=[SECRET], now=NOW)


def test_a_longer_expiry_written_into_the_token_breaks_its_signature():
    # Given a link whose holder moves its expiry a day ahead
    link = signed_links.sign("/dashboard", secret=SECRET, now=NOW)
    _, signature = link.token.split(".")
    stretched = f"{link.expires_at + 86_400}.{signature}"

    # When it is checked
    # Then
    with pytest.raises(InvalidLinkError) as refused:
        signed_links.verify("/dashboard", stretched, secrets=[SECRET], now=NOW)
    assert not isinstance(refused.value, ExpiredLinkError)


def test_a_link_signed_with_another_secret_is_refused():
    # Given a link signed by another deployment
    link = signed_links.sign("/dashboard", secret="someone-else", now=NOW)

    # Then
    with pytest.raises(InvalidLinkError):
        signed_links.verify("/dashboard", link.token, secrets=[SECRET], now=NOW)


def test_while_rotating_links_of_the_old_and_the_new_secret_open():
    # Given links signed before and after the new secret was added
    old = signed_links.sign("/dashboard", secret="old", now=NOW)
    new = signed_links.sign("/dashboard", secret="new", now=NOW)

    # Then both open while the parameter holds both secrets
    for link in (old, new):
        signed_links.verify("/dashboard", link.token, secrets=["new", "old"], now=NOW)


def test_a_validly_signed_token_living_longer_than_a_link_may_is_refused():
    # Given a token signed with our secret but an expiry a day away (no code of ours mints it)
    expires = NOW + 86_400
    forged = f"{expires}.{signed_links._signature(SECRET, '/dashboard', expires)}"

    # Then
    with pytest.raises(InvalidLinkError):
        signed_links.verify("/dashboard", forged, secrets=[SECRET], now=NOW)


def test_links_live_at_most_fifteen_minutes():
    with pytest.raises(ValueError):
        signed_links.sign("/dashboard", secret=SECRET, now=NOW, lifetime_seconds=16 * 60)
    with pytest.raises(ValueError):
        signed_links.sign("/dashboard", secret="", now=NOW)


@given(st.text(max_size=200))
def test_no_made_up_token_opens_the_page(token):
    # When any string is presented as a token
    # Then it is refused, as an invalid link (never another error)
    with pytest.raises(InvalidLinkError):
        signed_links.verify("/dashboard", token, secrets=[SECRET], now=NOW)


# --- grants: longer-lived links naming whom they were issued to, and when --------------------

MONTH = 30 * 24 * 3600


def _grant(path="/portal/cus_a", subject="ap@a.example", lifetime=7 * 24 * 3600):
    return signed_links.sign_grant(
        path, subject, secret=SECRET, now=NOW, lifetime_seconds=lifetime, max_lifetime_seconds=MONTH
    )


def _verify_grant(path, token, now=NOW):
    return signed_links.verify_grant(
        path, token, secrets=[SECRET], now=now, max_lifetime_seconds=MONTH
    )


def test_a_grant_names_its_subject_and_issue_time_and_opens_its_path_until_it_expires():
    # Given
    grant = _grant()

    # When
    verified = _verify_grant("/portal/cus_a", grant.token, now=NOW + 3600)

    # Then
    assert (verified.subject, verified.issued_at) == ("ap@a.example", NOW)
    assert verified.expires_at == NOW + 7 * 24 * 3600
    with pytest.raises(ExpiredLinkError):
        _verify_grant("/portal/cus_a", grant.token, now=grant.expires_at)
    with pytest.raises(InvalidLinkError):
        _verify_grant("/portal/cus_b", grant.token)


def test_a_grant_with_another_subject_or_issue_time_is_refused():
    # Given a grant whose subject, then issue time, is swapped
    issued, expires, subject, signature = _grant().token.split(".")
    other = signed_links._b64(b"boss@a.example")

    # Then
    with pytest.raises(InvalidLinkError):
        _verify_grant("/portal/cus_a", f"{issued}.{expires}.{other}.{signature}")
    with pytest.raises(InvalidLinkError):
        _verify_grant("/portal/cus_a", f"{int(issued) - 1}.{expires}.{subject}.{signature}")


def test_grants_live_at_most_their_maximum_and_dashboard_tokens_are_no_grants():
    with pytest.raises(ValueError):
        _grant(lifetime=MONTH + 1)
    with pytest.raises(ValueError):
        _grant(subject="x" * 400)
    dashboard = signed_links.sign("/portal/cus_a", secret=SECRET, now=NOW)
    with pytest.raises(InvalidLinkError):
        _verify_grant("/portal/cus_a", dashboard.token)


@given(st.text(max_size=600))
def test_no_made_up_token_is_a_grant(token):
    with pytest.raises(InvalidLinkError):
        _verify_grant("/portal/cus_a", token)
