"""Corrections and retractions on Instagram: a comment on the post, because the API can
neither edit a caption nor delete a post.

Docs: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media
(updating takes only `comment_enabled`; no deleting) and
https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments
(POST `message` creates a comment; GET lists them with `id`, `text`).

A comment is never posted twice: before posting again after an attempt whose answer was
lost, the post's comments are read for the same text. A retraction leaves the post up
(only a person can delete or archive it in the app): the receipt's details say so under
`todo`, and the live view hears it as a warning.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chanpub.contract import Action, Amendment, ChannelContext, ItemJournal, Preview, Receipt
from chanpub.errors import ChannelError
from chanpub.i18n import _
from chanpub.render.notices import labelled_note

COMMENT = "comment"  # journal item of an amendment: the comment id


class CommentSteps:
    """The instagram channel's `amend`."""

    name: str
    options: Any
    context: ChannelContext

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError  # provided by GraphChannel, first in the MRO

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """Comment the note under the post ('Ralat: ...' / 'Dicabut: ...'), once per key."""
        media_id = amendment.previous.remote_id
        journal = self.context.journal(key)
        language = preview.release.language or self.context.language
        text = labelled_note(amendment.kind, amendment.note, language)
        comment = self._comment_once(journal, media_id, text)
        details: dict[str, Any] = {"account_id": self.options.account_id, "comment_id": comment}
        if amendment.retraction:
            todo = _(
                "{channel}: Instagram's API cannot delete a post: a comment says it is "
                "withdrawn; delete or archive the post by hand in the Instagram app: {url}"
            ).format(channel=self.name, url=amendment.previous.url or media_id)
            details |= {"todo": todo, "warning": todo}
            self.context.report("warning", message=todo)
        return Receipt(
            remote_id=media_id,
            url=amendment.previous.url,
            published_at=datetime.now(UTC),
            details=details,
            action=Action.REPLIED,
        )

    def _comment_once(self, journal: ItemJournal, media_id: str, text: str) -> str:
        done = journal.remote_id(COMMENT)
        if done:
            return done
        if journal.status(COMMENT) is not None:  # tried before: its answer may be lost
            found = self._find_comment(media_id, text)
            if found:
                journal.sent(COMMENT, found)
                return found
        journal.begin(COMMENT)
        try:
            payload = self._call("POST", f"{media_id}/comments", data={"message": text})
        except ChannelError as error:
            journal.failed(COMMENT, error.message, permanent=False)
            raise
        comment = str(payload.get("id") or "")
        journal.sent(COMMENT, comment)
        return comment

    def _find_comment(self, media_id: str, text: str) -> str | None:
        payload = self._call(
            "GET", f"{media_id}/comments", params={"fields": "id,text", "limit": "50"}
        )
        for comment in payload.get("data") or []:
            if isinstance(comment, dict) and str(comment.get("text", "")).split() == text.split():
                return str(comment.get("id") or "") or None
        return None
