"""Posting a delivery part by part (a thread: Mastodon, Bluesky, Telegram, X) through its
item journal, so an interrupted thread resumes where it stopped and nothing goes out twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chanpub.contract import ItemJournal, Receipt
from chanpub.errors import AmbiguousError, ChannelError, PartialFailure, PermanentError
from chanpub.i18n import _

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
