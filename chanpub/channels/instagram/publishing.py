"""The steps of one Instagram post: a container, its status, the quota, media_publish, and
finding the post a container became when an answer was lost.

Docs: https://developers.facebook.com/docs/instagram-platform/content-publishing
(troubleshooting: query a container's status at most once a minute, for at most five
minutes), .../reference/ig-container (status_code IN_PROGRESS, FINISHED, ERROR, EXPIRED,
PUBLISHED), .../reference/ig-user/media (reading: the account's media, newest first, with
`caption` and `timestamp`), .../reference/ig-user/content_publishing_limit.

A container does not name the media it became, so a lost media_publish answer is settled
by the container's status (PUBLISHED or not) and then by the account's media: the one
with this caption, posted since the attempt started.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chanpub.channels import meta_graph
from chanpub.contract import ChannelContext, ItemJournal
from chanpub.errors import AmbiguousError, AuthError, PermanentError, RetryableError
from chanpub.i18n import _

CONTAINER = "container"  # journal item: the media container id
PUBLISHED = "published"  # journal item: the IG media id
MARKER = "request"  # journal item: what a lookup matches (caption, start time, slug)
POLL_INTERVAL = 60.0  # seconds between status queries: at most once a minute
POLL_WINDOW = 300.0  # for at most five minutes per run
CLOCK_SLACK = 300  # the platform's clock may differ from ours


class ContainerSteps:
    """Container, status, quota and recovery calls of the instagram channel."""

    name: str
    options: Any
    context: ChannelContext
    sleep: Callable[[float], None]  # injected by tests: time passes on the stand-in
    clock: Callable[[], float]  # monotonic seconds

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError  # provided by GraphChannel, first in the MRO

    def _note_attempt(self, journal: ItemJournal, caption: str, slug: str) -> None:
        """What a later lookup matches, recorded before the first remote call."""
        if journal.remote_id(MARKER) is None:
            since = int(datetime.now(UTC).timestamp())
            journal.sent(MARKER, json.dumps({"caption": caption, "since": since, "slug": slug}))

    def _create_container(self, data: dict[str, str], journal: ItemJournal) -> str:
        journal.begin(CONTAINER)
        try:
            payload = self._call("POST", f"{self.options.account_id}/media", data=data)
        except AmbiguousError:
            # A container is not a post and expires unpublished: making another is safe.
            journal.failed(CONTAINER, "answer lost", permanent=False)
            raise RetryableError(
                _(
                    "{channel}: the answer to the container's creation was lost; the next "
                    "attempt makes a new container (an unpublished one is never shown)"
                ).format(channel=self.name)
            ) from None
        container = str(payload.get("id") or "")
        if not container:
            raise PermanentError(
                _("{channel}: the Graph API answered without a container id").format(
                    channel=self.name
                )
            )
        journal.sent(CONTAINER, container)
        return container

    def _status(self, container: str) -> str:
        try:
            payload = self._call("GET", container, params={"fields": "status_code,status"})
        except RetryableError as error:
            # The query may have reached Meta: the next one waits a minute all the same.
            wait = max(error.retry_after or 0.0, POLL_INTERVAL)
            raise RetryableError(error.message, retry_after=wait, hint=error.hint) from None
        return str(payload.get("status_code") or "")

    def _known_status(self, container: str) -> str:
        """A journalled container's status; GONE when Meta no longer knows it."""
        try:
            return self._status(container)
        except AuthError:
            raise
        except PermanentError:
            return "GONE"

    def _wait_until_ready(
        self, container: str, journal: ItemJournal, status: str | None = None
    ) -> None:
        """Query the status once a minute for at most five minutes (Meta's rule);
        `status` is one just read."""
        started = self.clock()
        while True:
            if status is None:
                status = self._status(container)
            if status in ("FINISHED", "PUBLISHED"):
                return
            if status in ("ERROR", "EXPIRED"):
                journal.failed(CONTAINER, status)
                raise PermanentError(
                    _(
                        "{channel}: Instagram could not prepare the image ({status}): check that "
                        "the image is a JPEG under 8 MB with an aspect ratio between 4:5 and "
                        "1.91:1"
                    ).format(channel=self.name, status=status)
                )
            if self.clock() - started + POLL_INTERVAL > POLL_WINDOW:
                break
            self.sleep(POLL_INTERVAL)
            status = None
        # Longer than dispatch waits within a run: the next run continues the container.
        raise RetryableError(
            _(
                "{channel}: Instagram is still preparing the image; the next run continues with "
                "the same container"
            ).format(channel=self.name),
            retry_after=POLL_WINDOW,
        )

    def _check_quota(self) -> None:
        payload = self._call(
            "GET",
            f"{self.options.account_id}/content_publishing_limit",
            params={"fields": "quota_usage,config"},
        )
        entries = payload.get("data") or [{}]
        entry = entries[0] if isinstance(entries[0], dict) else {}
        used = entry.get("quota_usage")
        total = (entry.get("config") or {}).get("quota_total")
        if isinstance(used, int) and isinstance(total, int) and used >= total:
            # The window is rolling: the next run tries again (an hour keeps this run from
            # waiting for it).
            raise RetryableError(
                _(
                    "{channel}: the account has used its {total} posts for the last 24 hours; "
                    "the next run tries again"
                ).format(channel=self.name, total=total),
                retry_after=3600.0,
            )

    def _find_media(self, journal: ItemJournal) -> str | None:
        """The account's newest media with the journalled caption, posted since the
        attempt started (recorded in the journal), or None."""
        marker = json.loads(journal.remote_id(MARKER) or "{}")
        if "caption" not in marker:
            return None
        since = int(marker.get("since", 0)) - CLOCK_SLACK
        payload = self._call(
            "GET",
            f"{self.options.account_id}/media",
            params={"fields": "id,caption,timestamp", "limit": "25"},
        )
        for media in payload.get("data") or []:
            if (
                isinstance(media, dict)
                and media.get("id")
                and str(media.get("caption") or "").split() == str(marker["caption"]).split()
                and _posted_since(media.get("timestamp"), since)
            ):
                journal.sent(PUBLISHED, str(media["id"]))
                return str(media["id"])
        return None

    def _unfound(self, journal: ItemJournal, container: str) -> PermanentError:
        """A PUBLISHED container whose post is not among the account's recent media: a
        person decides, with the `chanpub resolve` command named."""
        marker = json.loads(journal.remote_id(MARKER) or "{}")
        reason = _("the container {id} is published but no recent post has its caption").format(
            id=container
        )
        return PermanentError(
            meta_graph.resolve_hint(self.name, str(marker.get("slug", "")), reason)
        )


def _posted_since(timestamp: Any, since: int) -> bool:
    try:
        posted = datetime.strptime(str(timestamp), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return True  # an unreadable time does not rule the post out
    return posted.timestamp() >= since
