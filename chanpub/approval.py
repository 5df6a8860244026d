"""`chanpub approve`: write the approval fields bound to the content hash, keeping the
rest of the file byte for byte."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from chanpub.errors import ApprovalError
from chanpub.files import remove_stale_temporaries, replace_keeping_owner
from chanpub.i18n import _
from chanpub.release import FENCE, Release, load_release, read_text, split_front_matter
from chanpub.release_image import check_image


def _scalar(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def set_fields(front: str, values: dict[str, str], newline: str) -> str:
    """Replace top-level `key: value` lines (and their continuation lines) or append them."""
    lines = front.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    remaining = dict(values)
    result: list[str] = []
    skipping = False
    for line in lines:
        match = re.match(r"([A-Za-z_][\w-]*)\s*:", line)
        if match and match.group(1) in remaining:
            key = match.group(1)
            result.append(_field(key, remaining.pop(key), newline))
            skipping = True  # drop an old multi-line value that follows
            continue
        if skipping and line[:1] in (" ", "\t", "-") and line.strip():
            continue
        skipping = False
        result.append(line)
    result.extend(_field(key, value, newline) for key, value in remaining.items())
    return "".join(result)


def _field(key: str, value: str, newline: str) -> str:
    """One `key: value` line; a value that starts on the next line (a block) follows 'key:'."""
    return f"{key}:{'' if value.startswith(newline) else ' '}{value}{newline}"


def approve(
    path: Path, by: str, now: datetime | None = None, extra: Mapping[str, str] | None = None
) -> Release:
    """Validate the release and record who approved exactly this content, and when.

    `extra` adds or overrides fields, values written as YAML (signed approvals: the
    `approvals:` block and every signer in `approved_by`)."""
    if not by.strip():
        raise ApprovalError(_('--by: give the approver\'s name, e.g. --by "Kepala Dinas"'))
    release = load_release(path)  # refuses a broken release before writing anything
    check_image(release)  # and one whose picture no channel could carry
    text = read_text(path)
    front, _body, _line = split_front_matter(path, text)
    newline = "\r\n" if "\r\n" in text[:200] else "\n"
    approved_at = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    new_front = set_fields(
        front,
        {
            "status": "retracted" if release.retraction else "approved",
            "approved_by": _scalar(by.strip()),
            "approved_at": _scalar(approved_at),
            "approved_sha256": _scalar(release.content_sha256),
            **(extra or {}),
        },
        newline,
    )
    match = FENCE.match(text)
    assert match is not None  # split_front_matter succeeded on the same text
    start = match.start(1) if match.group(1) is not None else text.index("\n") + 1
    end = match.end(1) if match.group(1) is not None else start
    try:  # officers and the cron account share the file: keep its mode and owner
        replace_keeping_owner(path, text[:start] + new_front + text[end:])
    except OSError as error:
        raise ApprovalError(
            _(
                "{path}: cannot write the approval ({reason}): ask the file's owner for write "
                "permission"
            ).format(path=path, reason=error.strerror)
        ) from None
    remove_stale_temporaries(path.parent)  # left by an approve that was killed
    approved = load_release(path)
    if not approved.is_approved:  # the hash must not depend on the approval fields
        raise ApprovalError(
            _("{path}: approval could not be recorded consistently: report this").format(path=path)
        )
    return approved
