"""The X API v2 as the x channel calls it: signed or bearer requests through chanpub.http,
X's own wait signal and error meanings, and the account's recent posts read back.

Docs: https://docs.x.com/x-api/fundamentals/rate-limits (429 with `x-rate-limit-reset`,
Unix seconds), https://docs.x.com/x-api/users/get-posts (GET /2/users/:id/tweets with
`start_time`, `tweet.fields=created_at,entities,referenced_tweets`), and
https://docs.x.com/x-api/fundamentals/fields. X shows a post's links as t.co links; the
`entities.urls[].expanded_url` says what each one stands for.
"""

from __future__ import annotations

import html
import json
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chanpub.channels.x.options import OAUTH1_KEYS, XOptions
from chanpub.channels.x.tokens import BearerTokens
from chanpub.channels.x_text import count_x, link_texts
from chanpub.contract import ChannelContext, Store
from chanpub.errors import AuthError, ChannelError, DuplicateError, PermanentError
from chanpub.i18n import N_, _
from chanpub.render.shaping import LengthRule

if TYPE_CHECKING:
    import httpx

    from chanpub.channels.oauth1 import OAuth1Signer

RECENT_POSTS = 100  # the most one page of GET /2/users/:id/tweets returns
CLOCK_SKEW = timedelta(minutes=2)  # our clock against X's, for time windows

TEXT_LIMIT = (
    280  # weighted, as twitter-text counts (https://docs.x.com/fundamentals/counting-characters)
)
RULE = LengthRule(TEXT_LIMIT, N_("weighted characters"), count_x)


def status_url(post_id: str) -> str:
    """The public address of a post, without knowing the account's handle."""
    return f"https://x.com/i/web/status/{post_id}"


def reset_wait(headers: Any, now: datetime) -> float | None:
    """Seconds until `x-rate-limit-reset` (Unix seconds); None when absent."""
    raw = headers.get("x-rate-limit-reset")
    if not raw or not str(raw).strip().isdigit():
        return None
    return max(0.0, int(raw) - now.timestamp())


def problem_detail(response: httpx.Response) -> str:
    """X's own words: a problem's `detail`, or the messages of an `errors` list."""
    try:
        body: Any = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    return str(body.get("detail") or "") + json.dumps(body.get("errors", ""))


def _bare(url: str) -> str:
    """A link without its scheme, as both our text and X's expanded_url can be compared."""
    return url.split("://", 1)[-1].rstrip("/")


def _replace_in_order(text: str, links: list[tuple[str, str]]) -> str:
    """Each (found, bare) link replaced in turn, left to right, by a marked bare form."""
    out, rest = "", text
    for found, bare in links:
        before, hit, rest = rest.partition(found)
        out += before + (f"\0{bare}\0" if hit else "")
    return out + rest


def comparable(text: str) -> str:
    """Our post's text, for comparison with what X shows: links bare, spaces folded."""
    text = unicodedata.normalize("NFC", text)
    text = _replace_in_order(text, [(link, _bare(link)) for link in link_texts(text)])
    return " ".join(text.split())


def shown_comparable(post: dict[str, Any]) -> str:
    """A post as X shows it, comparable with `comparable`: each t.co link replaced by
    the link it stands for (entities.urls[].expanded_url), entities decoded."""
    links = [
        (str(link["url"]), _bare(str(link["expanded_url"])))
        for link in (post.get("entities") or {}).get("urls") or []
        if isinstance(link, dict) and link.get("url") and link.get("expanded_url")
    ]
    text = _replace_in_order(str(post.get("text", "")), links)
    return " ".join(unicodedata.normalize("NFC", html.unescape(text)).split())


def replied_to(post: dict[str, Any]) -> str | None:
    """The id of the post this one replies to, or None."""
    for reference in post.get("referenced_tweets") or []:
        if isinstance(reference, dict) and reference.get("type") == "replied_to":
            return str(reference.get("id"))
    return None


class XApi:
    """One x channel's calls to the X API v2."""

    def __init__(
        self, name: str, options: XOptions, context: ChannelContext, now: Callable[[], datetime]
    ) -> None:
        self.name = name
        self.options = options
        self.context = context
        self.now = now
        self.tokens = BearerTokens(name, options, context, now) if options.oauth2 else None
        self._user: dict[str, Any] | None = None
        self._store: Store | None = None

    def store(self) -> Store:
        """The channel type's store (`context.store("x")`), opened once per channel."""
        if self._store is None:
            self._store = self.context.store("x")
        return self._store

    def variables(self) -> str:
        """The variables holding the credentials, e.g. 'X_ACCESS_TOKEN, X_ACCESS_SECRET'."""
        if self.tokens is not None:
            return self.tokens.variable
        return ", ".join(self.context.variable_for(k) for k in OAUTH1_KEYS)

    def _signer(self) -> OAuth1Signer:
        from chanpub.channels.oauth1 import OAuth1Signer

        o = self.options
        assert o.api_key and o.api_secret and o.access_token and o.access_secret  # validated
        return OAuth1Signer(
            o.api_key.get_secret_value(),
            o.api_secret.get_secret_value(),
            o.access_token.get_secret_value(),
            o.access_secret.get_secret_value(),
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        upload: bool = False,
        accept: tuple[int, ...] = (),
        **kw: Any,
    ) -> httpx.Response:
        """One request: 2xx (or a status in `accept`) or the classified ChannelError. A
        renewable token refused with 401 is renewed once and the request sent again (a
        401 means nothing was applied)."""
        from chanpub.http import send

        if not self.options.has_credentials:
            raise AuthError(
                _(
                    "{channel}: no credentials are configured: give the OAuth 1.0a "
                    "keys or oauth2_token"
                ).format(channel=self.name)
            )
        base = (self.options.upload_base or self.options.api_base) if upload else None
        url = f"{base or self.options.api_base}{path}"
        renewable = self.tokens is not None and self.tokens.renewable
        for attempt in (1, 2):
            if self.tokens is not None:
                kw["headers"] = {"Authorization": f"Bearer {self.tokens.access_token()}"}
            else:
                kw["auth"] = self._signer()
            response = send(
                self.context.http,
                method,
                url,
                channel=self.name,
                secret_variable=self.variables(),
                wait=lambda answer: reset_wait(answer.headers, self.now()),
                refine=self._refine,
                accept=(*([401] if renewable and attempt == 1 else []), *accept),
                **kw,
            )
            if response.status_code == 401 and attempt == 1 and self.tokens is not None:
                self.tokens.renew()
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """`call`, and the answer's JSON object ({} when there is none)."""
        try:
            payload: Any = self.call(method, path, **kwargs).json()
        except ValueError:
            payload = {}
        return payload if isinstance(payload, dict) else {}

    def _refine(self, response: httpx.Response, error: ChannelError) -> ChannelError:
        """X's meanings: 403 'duplicate content'; a reply to a post that is gone; else a
        401/403 means the credentials (or the app's permissions)."""
        detail = problem_detail(response).lower()
        if response.status_code == 403 and "duplicate" in detail:
            return DuplicateError(
                _("{channel}: X says this text was already posted").format(channel=self.name)
            )
        if response.status_code == 403 and "deleted or not visible" in detail:
            return PermanentError(
                _("{channel}: X says the post to reply to is deleted or not visible").format(
                    channel=self.name
                )
            )
        if response.status_code not in (401, 403):
            return error
        expiring = (
            _(" (an OAuth 2.0 user token lasts 2 hours)")
            if self.tokens is not None and not self.tokens.renewable
            else ""
        )
        variables = self.variables()
        return AuthError(
            _(
                "{channel}: X refused the credentials ({status} {reason}){expiring}: renew "
                "them and set {variables}; the app needs Read and Write permission"
            ).format(
                channel=self.name,
                status=response.status_code,
                reason=response.reason_phrase,
                expiring=expiring,
                variables=variables,
            ),
            variable=variables,
        )

    def me(self) -> dict[str, Any]:
        """The account: GET /2/users/me (asked once per channel object)."""
        if self._user is None:
            self._user = dict(self.json("GET", "/2/users/me").get("data") or {})
        return self._user

    def recent_posts(self, since: datetime) -> list[dict[str, Any]]:
        """The account's posts (latest versions) since a moment, newest first, with the
        fields a lookup compares: creation time, links' targets, what each replies to."""
        start = since - CLOCK_SKEW
        payload = self.json(
            "GET",
            f"/2/users/{self.me().get('id', '')}/tweets",
            params={
                "max_results": str(RECENT_POSTS),
                "tweet.fields": "created_at,entities,referenced_tweets,edit_history_tweet_ids",
                "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        return [post for post in payload.get("data") or [] if isinstance(post, dict)]

    def find(self, text: str, since: datetime, *, reply_to: str | None) -> dict[str, Any] | None:
        """THE post with this text (links compared by what they point to) posted since
        `since`, replying to `reply_to` (None: to nothing); None when it is not there."""
        wanted = comparable(text)
        for post in self.recent_posts(since):
            if replied_to(post) == reply_to and shown_comparable(post) == wanted:
                return post
        return None
