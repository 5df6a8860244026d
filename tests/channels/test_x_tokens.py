"""An X OAuth 2.0 user token lives two hours: with `oauth2_refresh_token` and `client_id`
chanpub renews it before it expires and keeps the rotated refresh token in the state
directory's database (never in channels.yaml), against the strict X stand-in."""

from __future__ import annotations

import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from standins.x import USER, XStandIn

from chanpub.channels.x import XChannel, XOptions
from chanpub.errors import AuthError
from chanpub.testing import make_context, sample_links, sample_release

VARIABLES = {"oauth2_token": "X_OAUTH2_TOKEN", "oauth2_refresh_token": "X_OAUTH2_REFRESH_TOKEN"}
OPTIONS = {"oauth2_token": "access-0", "oauth2_refresh_token": "refresh-1", "client_id": "cid"}


def channel_for(tmp_path: Path, x: XStandIn, **options: Any) -> XChannel:
    events: list[tuple[str, dict[str, Any]]] = []
    context = make_context(
        tmp_path, x, secrets=VARIABLES, progress=lambda e, d: events.append((e, dict(d)))
    )
    channel = XChannel("x", XOptions.model_validate({**OPTIONS, **options}), context)
    channel.now = x.clock.now
    channel.events = events  # type: ignore[attr-defined]  # what verify reported, for the test
    return channel


def post(channel: XChannel, tmp_path: Path, title: str) -> None:
    release = sample_release(tmp_path / title[:8], title=title)
    channel.publish(channel.preview(release, sample_links()), f"key-{title}")


def test_a_token_two_hours_old_is_renewed_and_the_rotated_refresh_token_kept(
    tmp_path: Path,
) -> None:
    x = XStandIn(oauth2_token="access-0", refresh_token="refresh-1", client_id="cid")
    x.clock.advance(2 * 3600)  # the token from the authorisation is two hours old
    channel = channel_for(tmp_path, x)
    post(channel, tmp_path, "Layanan pertama")
    assert len(x.live()) == 1
    (rotated,) = x.refresh_tokens
    assert rotated != "refresh-1", "X rotated the refresh token"
    kept = channel.context.store("x").get("oauth2:x")
    assert kept["refresh_token"] == rotated and kept["access_token"] != "access-0"
    database = tmp_path / ".chanpub" / "ledger.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_the_kept_token_is_renewed_before_it_expires_without_a_refusal(tmp_path: Path) -> None:
    x = XStandIn(refresh_token="refresh-1", client_id="cid")
    channel = channel_for(tmp_path, x, oauth2_token=None)
    post(channel, tmp_path, "Layanan pertama")  # no access token yet: renewed first
    x.clock.advance(2 * 3600 - 120)  # a later cron run, two minutes before expiry
    later = channel_for(tmp_path, x, oauth2_token=None)
    post(later, tmp_path, "Layanan kedua")
    assert len(x.live()) == 2
    assert len(x.calls("POST", "/2/oauth2/token")) == 2, "renewed ahead, in the second run"
    assert len(x.calls("POST", "/2/tweets")) == 2, "each post went out once, never refused"


def test_the_stored_token_wins_over_the_option_once_there(tmp_path: Path) -> None:
    x = XStandIn(refresh_token="refresh-1", client_id="cid")
    post(channel_for(tmp_path, x, oauth2_token=None), tmp_path, "Layanan pertama")
    # refresh-1 is spent; the next run must use the rotated token kept in the state dir.
    post(channel_for(tmp_path, x, oauth2_token=None), tmp_path, "Layanan kedua")
    x.clock.advance(3 * 3600)
    post(channel_for(tmp_path, x, oauth2_token=None), tmp_path, "Layanan ketiga")
    assert len(x.live()) == 3


def test_a_new_refresh_token_in_the_variable_starts_over(tmp_path: Path) -> None:
    x = XStandIn(refresh_token="refresh-1", client_id="cid")
    post(channel_for(tmp_path, x, oauth2_token=None), tmp_path, "Layanan pertama")
    x.refresh_tokens = {"re-authorised"}  # the officer authorised the app again
    x.clock.advance(3 * 3600)
    channel = channel_for(tmp_path, x, oauth2_token=None, oauth2_refresh_token="re-authorised")
    post(channel, tmp_path, "Layanan kedua")
    assert len(x.live()) == 2


def test_a_refused_refresh_names_the_variable_and_says_to_authorise_again(
    tmp_path: Path,
) -> None:
    x = XStandIn(refresh_token="someone-else", client_id="cid")
    channel = channel_for(tmp_path, x, oauth2_token=None)
    with pytest.raises(AuthError) as caught:
        post(channel, tmp_path, "Layanan pertama")
    assert "X_OAUTH2_REFRESH_TOKEN" in caught.value.message
    assert "authorise the app again" in caught.value.message
    assert "refresh-1" not in caught.value.message
    assert x.live() == []


def test_a_confidential_client_renews_with_its_secret(tmp_path: Path) -> None:
    x = XStandIn(refresh_token="refresh-1", client_id="cid", client_secret="cs")
    channel = channel_for(tmp_path, x, oauth2_token=None, client_secret="cs")
    post(channel, tmp_path, "Layanan pertama")
    assert len(x.live()) == 1


def test_verify_shows_when_the_token_expires(tmp_path: Path) -> None:
    x = XStandIn(refresh_token="refresh-1", client_id="cid")
    channel = channel_for(tmp_path, x, oauth2_token=None)
    channel.verify()
    expires = x.clock.now().timestamp() + 7200
    ((event, facts),) = channel.events  # type: ignore[attr-defined]
    assert event == "verified" and facts["account"] == USER["username"]
    assert facts["renewed_automatically"] is True
    assert datetime.fromisoformat(facts["expires_at"]).timestamp() == expires


def test_verify_warns_that_a_token_without_refresh_token_expires_today(tmp_path: Path) -> None:
    x = XStandIn(oauth2_token="access-0")
    events: list[tuple[str, dict[str, Any]]] = []
    context = make_context(tmp_path, x, progress=lambda e, d: events.append((e, dict(d))))
    XChannel("x", XOptions.model_validate({"oauth2_token": "access-0"}), context).verify()
    assert events == [("verified", {"account": USER["username"], "days_left": 0})]
