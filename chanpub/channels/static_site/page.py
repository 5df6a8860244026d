"""The article page's amendment notes and structured data (schema.org JSON-LD)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chanpub.release import Release
from chanpub.render.notices import notice_labels, notice_time


def correction_boxes(corrections: list[dict[str, str]], language: str) -> list[dict[str, str]]:
    """The visible "Ralat" boxes above the text, newest first: label, time and note."""
    labels = notice_labels(language)
    return [
        {
            "label": labels["correction"],
            "iso": item["at"],
            "when": notice_time(datetime.fromisoformat(item["at"]), language),
            "note": item["note"],
        }
        for item in reversed(corrections)
    ]


def retraction_notice(retracted: dict[str, str] | None, language: str) -> dict[str, str] | None:
    """The notice that replaces a withdrawn article's text: label, time, notice and reason."""
    if not retracted:
        return None
    labels = notice_labels(language)
    return {
        "label": labels["retraction"],
        "iso": retracted["at"],
        "when": notice_time(datetime.fromisoformat(retracted["at"]), language),
        "notice": labels["retracted_notice"],
        "reason_label": labels["reason"],
        "note": retracted["note"],
    }


def json_ld(
    release: Release,
    url: str,
    organisation: str,
    published: datetime,
    image_url: str | None,
    modified: str | None = None,
) -> str:
    """NewsArticle markup, or ClaimReview for a clarification (no link to the hoax), with
    `dateModified` once the article was corrected or withdrawn
    (https://schema.org/dateModified)."""
    author = {"@type": "Organization", "name": organisation or release.source or ""}
    data: dict[str, Any]
    if release.is_clarification:
        data = {
            "@context": "https://schema.org",
            "@type": "ClaimReview",
            "url": url,
            "claimReviewed": release.claim,
            "datePublished": published.date().isoformat(),
            "author": author,
            "itemReviewed": {"@type": "Claim", "name": release.claim},
            "reviewRating": {
                "@type": "Rating",
                "alternateName": release.verdict,
                "ratingValue": 1,
                "bestRating": 5,
                "worstRating": 1,
            },
        }
    else:
        data = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": release.title,
            "description": release.summary,
            "datePublished": published.isoformat(),
            "mainEntityOfPage": url,
            "author": author,
            "publisher": author,
        }
        if image_url:
            data["image"] = [image_url]
    if modified:
        data["dateModified"] = modified
    # "<" escaped so no text inside can close the script element.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
