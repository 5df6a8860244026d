"""What the social adapters (mastodon, bluesky, telegram) share: posting a delivery part by
part through its item journal so an interrupted thread resumes where it stopped, the
notes a later `lookup` needs, the wait a rate-limited answer asks for, and HTTP calls
classified with that wait.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chanpub.contract import ItemJournal, Links, Receipt
from chanpub.errors import (
    AmbiguousError,
    AuthError,
    ChannelError,
    PartialFailure,
    PermanentError,
)
from chanpub.http import error_for_exception, error_for_response, retry_after_seconds
from chanpub.i18n import _
from chanpub.release import Release
from chanpub.render.shaping import LengthRule

if TYPE_CHECKING:
    import httpx


def http_url(value: str, example: str) -> str:
    """An http(s) URL with a host, without its trailing slash; else a ValueError."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value.strip():
        raise ValueError(f"must be a web address like {example}")
    return value.strip().rstrip("/")


def rate_limit_wait(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds a rate-limited answer asks us to wait: `Retry-After` (seconds or HTTP
    date), else Mastodon's `X-RateLimit-Reset` (ISO 8601), else `RateLimit-Reset` (Unix
    seconds, Bluesky), else Telegram's `parameters.retry_after` in the body."""
    moment = now or datetime.now(UTC)
    wait = retry_after_seconds(response.headers.get("Retry-After"), moment)
    if wait is not None:
        return wait
    reset = response.headers.get("X-RateLimit-Reset")
    if reset:
        try:
            when = datetime.fromisoformat(reset.strip().replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None:
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            return max(0.0, (when - moment).total_seconds())
    reset = response.headers.get("RateLimit-Reset")
    if reset and reset.strip().isdigit():
        return max(0.0, float(reset.strip()) - moment.timestamp())
    try:
        payload: Any = response.json()
    except ValueError:
        return None
    parameters = payload.get("parameters") if isinstance(payload, dict) else None
    if isinstance(parameters, dict) and isinstance(parameters.get("retry_after"), int | float):
        return float(parameters["retry_after"])
    return None


def call(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    channel: str,
    secret_variable: str | None = None,
    shown_url: str | None = None,
    forbidden_is_auth: bool = False,
    **kwargs: Any,
) -> httpx.Response:
    """Like chanpub.http.request, but a 429/503 carries the platform's own wait signal.

    `shown_url` replaces `url` in messages when the URL holds a secret (Telegram's token);
    `forbidden_is_auth` makes a 403 an AuthError (a token without the needed scope).
    """
    response = send(client, method, url, channel=channel, shown_url=shown_url, **kwargs)
    if not response.is_success:
        raise classify(
            response,
            channel=channel,
            secret_variable=secret_variable,
            forbidden_is_auth=forbidden_is_auth,
        )
    return response


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    channel: str,
    shown_url: str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request and return any answer; a transport failure raises classified."""
    import httpx

    try:
        return client.request(method, url, **kwargs)
    except httpx.TransportError as error:
        raise error_for_exception(
            error, channel=channel, method=method, url=shown_url or url
        ) from None


def classify(
    response: httpx.Response,
    *,
    channel: str,
    secret_variable: str | None = None,
    forbidden_is_auth: bool = False,
) -> ChannelError:
    """The ChannelError for a non-2xx answer, with the platform's wait signal."""
    wait = rate_limit_wait(response) if response.status_code in (429, 503) else None
    error = error_for_response(
        response, channel=channel, secret_variable=secret_variable, retry_after=wait
    )
    if forbidden_is_auth and response.status_code == 403:
        return AuthError(
            _(
                "{message}: the credential in ${variable} lacks a permission this "
                "needs: renew it with the right scopes"
            ).format(message=error.message, variable=secret_variable),
            variable=secret_variable,
        )
    if isinstance(error, AuthError) and secret_variable:
        return AuthError(
            _("{message}: check or renew the credential in ${variable}").format(
                message=error.message, variable=secret_variable
            ),
            variable=secret_variable,
        )
    return error


@dataclass(frozen=True)
class DeliveryNotes:
    """What a later `lookup(key)` needs to recognise the posts: their texts and link."""

    parts: tuple[str, ...]
    url: str
    started: str

    @staticmethod
    def path(state_dir: Path, channel_type: str, key: str) -> Path:
        """Where the notes of one delivery live in the state directory."""
        return state_dir / channel_type / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    def save(self, path: Path) -> None:
        """Write the notes (public post text only, never a credential)."""
        from chanpub.files import write_atomically

        write_atomically(
            path,
            json.dumps(
                {"parts": list(self.parts), "url": self.url, "started": self.started},
                ensure_ascii=False,
            ),
            private=True,  # in the state directory
        )

    @classmethod
    def record(
        cls, state_dir: Path, channel_type: str, key: str, parts: Sequence[str], url: str
    ) -> None:
        """Write the notes of a delivery before its first post (kept if already there)."""
        path = cls.path(state_dir, channel_type, key)
        if cls.load(path) is None:
            cls(tuple(parts), url, now_iso()).save(path)

    @classmethod
    def load(cls, path: Path) -> DeliveryNotes | None:
        """The notes, or None when this delivery was never started here."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(tuple(data["parts"]), str(data["url"]), str(data["started"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None


# A part's journal entry: the remote id the next reply needs, as the adapter encodes it.
PostPart = Callable[[int, Sequence[str]], str]  # (index, ids of earlier parts) -> id
FindPart = Callable[[int, Sequence[str]], "str | None"]


def post_parts(
    journal: ItemJournal,
    count: int,
    post: PostPart,
    find: FindPart,
    *,
    channel: str,
    receipt: Callable[[Sequence[str]], Receipt],
) -> list[str]:
    """Post parts 0..count-1 in order, each journalled (item = its index) before the call.

    A part already sent is skipped; one left in progress by an interrupted run is first
    looked for with `find` (None: post it). A part that fails permanently after others
    went out raises PartialFailure carrying the receipt of what did go out. An ambiguous
    failure leaves the part in progress, so the next attempt looks for it first.
    """
    ids: list[str] = []
    for index in range(count):
        item = str(index)
        state = journal.status(item)
        known = journal.remote_id(item) if state == "sent" else None
        if known:
            ids.append(known)
            continue
        if state == "in_progress":
            found = find(index, ids)
            if found:
                journal.sent(item, found)
                ids.append(found)
                continue
        journal.begin(item)
        try:
            remote = post(index, ids)
        except AmbiguousError:
            raise
        except ChannelError as error:
            permanent = isinstance(error, PermanentError)
            journal.failed(item, error.message, permanent=permanent)
            if permanent and ids:
                raise PartialFailure(
                    _(
                        "{channel}: part {part} of {total} of the thread failed: {reason}; "
                        "the first {sent} went out"
                    ).format(
                        channel=channel,
                        part=index + 1,
                        total=count,
                        reason=error.message,
                        sent=len(ids),
                    ),
                    receipt=receipt(ids),
                    hint=error.hint,
                ) from None
            raise
        journal.sent(item, remote)
        ids.append(remote)
    return ids


def resolve_parts(journal: ItemJournal, count: int, find: FindPart) -> list[str] | None:
    """For lookup: every part's id when all of them are on the platform (recording the ones
    found), or None when some part is still to be posted (publish then resumes)."""
    ids: list[str] = []
    for index in range(count):
        item = str(index)
        known = journal.remote_id(item) if journal.status(item) == "sent" else None
        found = known or find(index, ids)
        if not found:
            return None
        if not known:
            journal.sent(item, found)
        ids.append(found)
    return ids


def social_parts(
    channel: Any,
    release: Release,
    links: Links,
    rule: LengthRule,
    *,
    default: str | None = None,
    first_rule: LengthRule | None = None,
) -> tuple[list[str], list[str]]:
    """The post (or thread parts) for a social channel, and the warnings for the officer."""
    where = f"channels.{channel.name}.template"
    warnings: list[str] = []
    if channel.options.thread:
        from chanpub.render.threads import split_paragraphs, thread_text

        text = thread_text(
            release,
            links,
            template=channel.options.template,
            where=where,
            organisation=channel.context.organisation,
        )
        parts = split_paragraphs(text, rule, link=links.canonical_url or "", first_rule=first_rule)
        chosen = [first_rule or rule, *([rule] * (len(parts) - 1))]
        over = [index + 1 for index, part in enumerate(parts) if not chosen[index].fits(part)]
        if over:
            warnings.append(
                _(
                    "{channel}: part {parts} of the thread is still too long: a word "
                    "in it is longer than a post"
                ).format(channel=channel.name, parts=", ".join(map(str, over)))
            )
    else:
        parts = [_fitted_post(channel, release, links, first_rule or rule, default, warnings)]
    if release.image and not release.image_alt:
        warnings.append(
            _("{channel}: the image has no alt text (image_alt)").format(channel=channel.name)
        )
    return parts, warnings


def _fitted_post(
    channel: Any,
    release: Release,
    links: Links,
    rule: LengthRule,
    default: str | None,
    warnings: list[str],
) -> str:
    from chanpub.render.social import fit_post

    fitted, notes = fit_post(
        release,
        links,
        rule,
        channel=channel.name,
        template=channel.options.template,
        organisation=channel.context.organisation,
        default=default,
    )
    warnings.extend(notes)
    return fitted.text


def now_iso() -> str:
    """Aware UTC now in RFC 3339 with 'Z', as Bluesky prefers for createdAt."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
