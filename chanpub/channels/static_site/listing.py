"""The website's listing: a manifest of every article (`.chanpub-site.json`), and the index
page and Atom feed made from it.

The manifest is written before an article's page and the index and feed after it, each
whole. So a run killed between the page and the listing leaves the article in the
manifest, and `write()` (which `lookup` calls when it finds the page) brings the index and
feed up to date. Only articles whose page exists are listed; withdrawn ones stay in the
feed (updated, so readers learn of it) and leave the index.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from chanpub.files import write_atomically
from chanpub.i18n import _

MANIFEST = ".chanpub-site.json"


class Listing:
    """The manifest, index.html and feed.xml of one site folder."""

    def __init__(
        self, folder: Path, base: str, *, site_title: str, organisation: str, language: str
    ) -> None:
        self.folder = folder
        self.base = base
        self.site_title = site_title
        self.organisation = organisation
        self.language = language

    def entries(self) -> dict[str, dict[str, Any]]:
        """The manifest's articles by slug (empty when missing or damaged)."""
        path = self.folder / MANIFEST
        if not path.is_file():
            return {}
        try:
            return {e["slug"]: e for e in json.loads(path.read_text("utf-8"))}
        except (ValueError, KeyError, TypeError):
            return {}  # a damaged manifest is rebuilt from what we publish next

    def record(self, entry: dict[str, Any]) -> None:
        """Put an article's entry in the manifest (replacing the slug's earlier one)."""
        entries = self.entries()
        entries[entry["slug"]] = entry
        ordered = sorted(entries.values(), key=lambda e: (e["published"], e["slug"]), reverse=True)
        write_atomically(self.folder / MANIFEST, json.dumps(ordered, ensure_ascii=False, indent=1))

    def write(self) -> None:
        """Write index.html and feed.xml from the manifest's articles whose page exists."""
        shown = [
            entry
            for entry in sorted(
                self.entries().values(), key=lambda e: (e["published"], e["slug"]), reverse=True
            )
            if (self.folder / entry["href"]).is_file()
        ]
        write_atomically(
            self.folder / "index.html", self._index([e for e in shown if not e.get("retracted")])
        )
        write_atomically(self.folder / "feed.xml", self._feed(shown))

    def _index(self, entries: list[dict[str, Any]]) -> str:
        from chanpub.render.dates import long_date
        from chanpub.render.templating import render_page

        shown = [
            {
                **e,
                "date_long": long_date(
                    date.fromisoformat(e["date"]), e.get("language") or self.language
                ),
            }
            for e in entries
        ]
        return render_page(
            "index.html",
            language=self.language,
            entries=shown,
            site_title=self.site_title or self.organisation or _("Releases"),
            feed_url="feed.xml",
        )

    def _feed(self, entries: list[dict[str, Any]]) -> bytes:
        """The newest 50 articles as an Atom 1.0 feed (RFC 4287,
        https://www.rfc-editor.org/rfc/rfc4287), newest first. An amended entry carries its
        `updated` time and the note in its title or summary. The template is autoescaped,
        which escapes & < > and both quotes as XML needs; the file is UTF-8."""
        from chanpub.render.notices import notice_labels
        from chanpub.render.templating import render_page

        shown = []
        for item in entries[:50]:
            labels = notice_labels(item.get("language") or self.language)
            title = f"[{item['verdict']}] {item['title']}" if item.get("verdict") else item["title"]
            summary = item["summary"]
            if item.get("retracted"):
                title = f"[{labels['retraction']}] {title}"
                reason = item["retracted"]["note"]
                summary = f"{labels['retracted_notice']} {labels['reason']}: {reason}"
            elif item.get("corrections"):
                note = item["corrections"][-1]["note"]
                summary = f"{labels['correction']}: {note} — {summary}"
            published = _rfc3339(item["published"])
            shown.append(
                {
                    "url": item["url"],  # the id too: stable, and an IRI
                    "title": title,
                    "summary": summary,
                    "published": published,
                    "updated": _rfc3339(item["updated"]) if item.get("updated") else published,
                }
            )
        feed = render_page(
            "feed.xml",
            language=self.language,
            base=self.base,
            title=self.site_title or self.organisation or "chanpub",
            author=self.organisation or "chanpub",
            # The feed's time is its newest change's, so the same articles give the same file.
            updated=max((e["updated"] for e in shown), default="1970-01-01T00:00:00+00:00"),
            entries=shown,
        )
        return (feed + "\n").encode("utf-8")


def _rfc3339(stamp: str) -> str:
    """An ISO timestamp from the manifest as RFC 3339 (a date-time with its UTC offset)."""
    moment = datetime.fromisoformat(stamp)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
