"""The X stand-in holds to X's rules: for each rule one request X accepts and one it
refuses with its documented answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .base import make_image
from .x import XStandIn

X = "https://api.x.com"
URL = "https://id.wikipedia.org/wiki/Jawa_(pulau)"


def client(standin: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(standin))


# --- X ----------------------------------------------------------------------------------


def x_post(standin: XStandIn, token: str = "user-token", **body: Any) -> httpx.Response:
    return client(standin).post(
        f"{X}/2/tweets", json=body, headers={"Authorization": f"Bearer {token}"}
    )


@pytest.mark.parametrize(
    ("token", "advance", "status"),
    [("user-token", 0, 201), ("user-token", 7200, 401), ("wrong", 0, 401), ("app-token", 0, 403)],
)
def test_x_user_tokens_live_two_hours_and_app_tokens_cannot_post(
    token: str, advance: int, status: int
) -> None:
    standin = XStandIn(oauth2_token="user-token", app_token="app-token")
    standin.clock.advance(advance)
    assert x_post(standin, token, text="Halo").status_code == status


def test_x_refresh_rotates_the_refresh_token() -> None:
    standin = XStandIn(oauth2_token="user-token", refresh_token="r1")
    form = {"grant_type": "refresh_token", "refresh_token": "r1", "client_id": "chanpub-client"}
    fresh = client(standin).post(f"{X}/2/oauth2/token", data=form).json()
    assert fresh["expires_in"] == 7200 and fresh["refresh_token"] != "r1"
    assert x_post(standin, fresh["access_token"], text="Halo").status_code == 201
    again = client(standin).post(f"{X}/2/oauth2/token", data=form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"


def test_x_checks_oauth1_signatures() -> None:
    from chanpub.channels.oauth1 import OAuth1Signer

    standin = XStandIn(oauth1=(("ck", "cs"), ("at", "as")))
    good = httpx.Client(
        transport=httpx.MockTransport(standin), auth=OAuth1Signer("ck", "cs", "at", "as")
    )
    bad = httpx.Client(
        transport=httpx.MockTransport(standin), auth=OAuth1Signer("ck", "WRONG", "at", "as")
    )
    assert good.post(f"{X}/2/tweets", json={"text": "Halo"}).status_code == 201
    assert bad.post(f"{X}/2/tweets", json={"text": "Halo lagi"}).status_code == 401


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("a" * 280, 201),
        ("a" * 281, 400),
        ("a" * 256 + " " + URL + "/" + "x" * 60, 201),  # a URL weighs 23
        ("字" * 140, 201),  # CJK weighs 2
        ("字" * 141, 400),
        ("ꦲꦏ꧀ꦱꦫ" * 28, 201),  # Javanese script weighs 2 a code point: 5 x 2 x 28
        ("👨‍👩‍👧‍👦" * 140, 201),  # an emoji sequence weighs 2
        ("👨‍👩‍👧‍👦" * 141, 400),
    ],
)
def test_x_counts_as_twitter_text(text: str, status: int) -> None:
    answer = x_post(XStandIn(oauth2_token="user-token"), text=text)
    assert answer.status_code == status
    if status == 400:
        assert answer.json()["type"] == "https://api.twitter.com/2/problems/invalid-request"


def test_x_refuses_duplicates_and_replies_to_missing_posts() -> None:
    standin = XStandIn(oauth2_token="user-token")
    first = x_post(standin, text="Halo").json()["data"]["id"]
    duplicate = x_post(standin, text="Halo")
    assert duplicate.status_code == 403 and "duplicate content" in duplicate.json()["detail"]
    assert x_post(standin, text="Dua", reply={"in_reply_to_tweet_id": first}).status_code == 201
    assert x_post(standin, text="Tiga", reply={"in_reply_to_tweet_id": "1"}).status_code == 403


def test_x_edits_within_30_minutes_at_most_5_times() -> None:
    standin = XStandIn(oauth2_token="user-token")
    post_id = x_post(standin, text="Versi 0").json()["data"]["id"]
    for n in range(1, 6):
        answer = x_post(standin, text=f"Versi {n}", edit_options={"previous_post_id": post_id})
        assert answer.status_code == 201, answer.json()
        post_id = answer.json()["data"]["id"]
    assert len(answer.json()["data"]["edit_history_tweet_ids"]) == 6
    assert (
        x_post(standin, text="Versi 6", edit_options={"previous_post_id": post_id}).status_code
        == 403
    )
    late = x_post(standin, text="Lain").json()["data"]["id"]
    standin.clock.advance(31 * 60)
    assert (
        x_post(standin, text="Lain 2", edit_options={"previous_post_id": late}).status_code == 403
    )
    no_edits = XStandIn(oauth2_token="user-token", edits_allowed=False)
    plain = x_post(no_edits, text="Versi 0").json()["data"]["id"]
    refused = x_post(no_edits, text="Versi 1", edit_options={"previous_post_id": plain})
    assert (
        refused.status_code == 403
        and refused.json()["detail"] == "You are not permitted to edit this Post."
    )


def test_x_delete_removes_the_whole_edit_chain() -> None:
    standin = XStandIn(oauth2_token="user-token")
    first = x_post(standin, text="Versi 0").json()["data"]["id"]
    x_post(standin, text="Versi 1", edit_options={"previous_post_id": first})
    auth = {"Authorization": "Bearer user-token"}
    assert client(standin).delete(f"{X}/2/tweets/{first}", headers=auth).json() == {
        "data": {"deleted": True}
    }
    assert standin.live() == []
    assert client(standin).delete(f"{X}/2/tweets/{first}", headers=auth).status_code == 404


def test_x_timeline_shows_links_as_tco_and_needs_5_to_100() -> None:
    standin = XStandIn(oauth2_token="user-token")
    x_post(standin, text=f"Info & jadwal {URL}")
    auth = {"Authorization": "Bearer user-token"}
    timeline = (
        client(standin)
        .get(f"{X}/2/users/1500000000000000001/tweets", params={"max_results": 5}, headers=auth)
        .json()
    )
    assert timeline["data"][0]["text"].startswith("Info &amp; jadwal https://t.co/")
    assert "entities" not in timeline["data"][0], "only the fields asked for"
    assert (
        client(standin)
        .get(f"{X}/2/users/1500000000000000001/tweets", params={"max_results": 4}, headers=auth)
        .status_code
        == 400
    )


def test_x_media_rules_and_the_gone_v11_endpoint() -> None:
    standin = XStandIn(oauth2_token="user-token")
    auth = {"Authorization": "Bearer user-token"}
    upload = client(standin).post(
        f"{X}/2/media/upload",
        data={"media_category": "tweet_image"},
        files={"media": ("a.jpg", make_image(60, 60), "image/jpeg")},
        headers=auth,
    )
    too_big = client(standin).post(
        f"{X}/2/media/upload",
        data={"media_category": "tweet_image"},
        files={"media": ("a.jpg", make_image(60, 60, padding=5 * 1024 * 1024), "image/jpeg")},
        headers=auth,
    )
    assert (upload.status_code, too_big.status_code) == (200, 400)
    media_id = upload.json()["data"]["id"]
    alt = {"id": media_id, "metadata": {"alt_text": {"text": "x" * 1001}}}
    assert client(standin).post(f"{X}/2/media/metadata", json=alt, headers=auth).status_code == 400
    assert x_post(standin, text="Foto", media={"media_ids": [media_id]}).status_code == 201
    assert x_post(standin, text="Foto 2", media={"media_ids": ["404"]}).status_code == 400
    gone = client(standin).post(
        f"{X}/1.1/statuses/update.json", data={"status": "Halo"}, headers=auth
    )
    assert gone.status_code == 403 and gone.json()["errors"][0]["code"] == 453


def test_x_429_says_when_to_come_back() -> None:
    standin = XStandIn(oauth2_token="user-token")
    standin.throttle(900)
    answer = x_post(standin, text="Halo")
    assert answer.status_code == 429
    assert int(answer.headers["x-rate-limit-reset"]) == standin.clock.timestamp() + 900


def test_x_timeline_gives_expanded_links_and_replies_when_asked() -> None:
    standin = XStandIn(oauth2_token="user-token")
    first = x_post(standin, text="Lihat kominfo.go.id").json()["data"]["id"]
    standin.clock.advance(60)
    x_post(standin, text=f"Info {URL} ya", reply={"in_reply_to_tweet_id": first})
    timeline = (
        client(standin)
        .get(
            f"{X}/2/users/1500000000000000001/tweets",
            params={"max_results": 5, "tweet.fields": "entities,referenced_tweets,created_at"},
            headers={"Authorization": "Bearer user-token"},
        )
        .json()["data"]
    )
    reply, post = timeline
    (link,) = reply["entities"]["urls"]
    assert reply["text"][link["start"] : link["end"]] == link["url"]
    assert link["expanded_url"] == URL and reply["text"].startswith("Info https://t.co/")
    assert reply["referenced_tweets"] == [{"type": "replied_to", "id": first}]
    assert post["entities"]["urls"][0]["expanded_url"] == "http://kominfo.go.id"
    assert "referenced_tweets" not in post and post["created_at"].endswith("Z")


def test_x_confidential_clients_refresh_with_basic_auth() -> None:
    standin = XStandIn(refresh_token="r1", client_id="cid", client_secret="cs")
    form = {"grant_type": "refresh_token", "refresh_token": "r1"}
    refused = client(standin).post(f"{X}/2/oauth2/token", data=form)
    fresh = client(standin).post(f"{X}/2/oauth2/token", data=form, auth=("cid", "cs"))
    assert (refused.status_code, fresh.status_code) == (401, 200)
