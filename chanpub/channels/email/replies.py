"""What an SMTP reply says: its words for people, its enhanced status code (RFC 3463), and
whether it is about one address or about the sending account.

A 5xx is permanent, but not always the recipient's: RFC 3463 names the subject in the
enhanced code's middle number: 1 addressing and 2 mailbox (this recipient), 4 network and
routing, where X.4.5 is the mail system's congestion (Gmail's daily limit), 3 mail system,
5 protocol, 6 content and 7 policy (the same for every copy of one message).
Docs: https://www.rfc-editor.org/rfc/rfc3463 (section 3), https://www.rfc-editor.org/rfc/rfc5321
(section 4.2).
"""

from __future__ import annotations

import re

from chanpub.errors import shorten_reason

# An enhanced status code (RFC 3463) after a reply's code: class.subject.detail.
_ENHANCED_STATUS = re.compile(r"\d{3}[ -]([245])\.(\d{1,3})\.(\d{1,3})(?!\S)")


def reply_text(code: int, reply: bytes | str) -> str:
    """'451 4.3.0 Try again later', at most ~200 characters, for the journal and messages."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return shorten_reason(f"{code} {text}")  # masked before it is cut


def enhanced_status(text: str) -> tuple[int, int, int] | None:
    """The enhanced status code (RFC 3463) of a reply's text ('550 5.1.1 ...'), if any."""
    found = _ENHANCED_STATUS.match(text)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def halts_sending(text: str) -> bool:
    """A permanent refusal about the sending mail system, not the mailbox: X.4.5 'mail
    system congestion' (RFC 3463 3.5), which Gmail gives once an account's rolling 24-hour
    limit is reached ('550 5.4.5 Daily user sending limit exceeded') and to every message
    after it (https://support.google.com/a/answer/3726730). Every later recipient would be
    refused the same, and none of them is at fault."""
    status = enhanced_status(text)
    return status is not None and status[0] == 5 and status[1:] == (4, 5)


def about_the_address(text: str) -> bool:
    """A refusal about the recipient: X.1 (addressing) or X.2 (mailbox), RFC 3463 3.2
    and 3.3; '550 5.1.1 ... does not exist' is one address's, whatever the others'."""
    status = enhanced_status(text)
    return status is not None and status[1] in (1, 2)
