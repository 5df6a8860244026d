"""Post text for social channels: one template per channel (or the network's default),
filled with the release's fields and fitted to the network's counting rule.

Template fields: title, summary, url, hashtags, tags, verdict, claim, kind, source, date,
organisation. The link, verdict and hashtags are never shortened; summary goes first, then
the title.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chanpub.contract import Links
from chanpub.release import Release
from chanpub.render.shaping import Fitted, LengthRule, fit, hashtags

DEFAULT_TEMPLATE = (
    "{% if verdict %}[{{ verdict }}] {% endif %}{{ title }}\n\n"
    "{{ summary }}\n\n"
    "{{ url }}"
    "{% if hashtags %}\n\n{{ hashtags }}{% endif %}"
)

FIELDS = (
    "title",
    "summary",
    "url",
    "hashtags",
    "tags",
    "verdict",
    "claim",
    "kind",
    "source",
    "date",
    "organisation",
)


def post_fields(release: Release, links: Links, organisation: str = "") -> dict[str, Any]:
    """Every field a post template may use."""
    return {
        "title": release.title,
        "summary": release.summary,
        "url": links.canonical_url or "",
        "hashtags": hashtags(release.tags),
        "tags": list(release.tags),
        "verdict": release.verdict if release.is_clarification else "",
        "claim": release.claim if release.is_clarification else "",
        "kind": release.kind,
        "source": release.source or "",
        "date": release.date.isoformat() if release.date else "",
        "organisation": organisation,
    }


def compose_post(
    release: Release,
    links: Links,
    rule: LengthRule,
    *,
    template: str | None,
    where: str,
    organisation: str = "",
    default: str = DEFAULT_TEMPLATE,
    overrides: Mapping[str, Any] | None = None,
) -> Fitted:
    """Render the channel's template and fit it to the rule (see module docstring).

    `where` names the option for errors, e.g. "channels.mastodon.template".
    """
    from chanpub.render.templating import render_template

    fields = {**post_fields(release, links, organisation), **(overrides or {})}
    source = template or default

    def render(values: dict[str, str]) -> str:
        text = render_template(source, {**fields, **values}, where=where)
        return _tidy(text)

    return fit(render, {"title": fields["title"], "summary": fields["summary"]}, rule)


def fit_post(
    release: Release,
    links: Links,
    rule: LengthRule,
    *,
    channel: str,
    template: str | None,
    organisation: str = "",
    default: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[Fitted, list[str]]:
    """compose_post for channel `channel`'s template, with the warnings the officer should
    see: shortened to fit, or still over the limit after shortening."""
    from chanpub.i18n import _

    fitted = compose_post(
        release,
        links,
        rule,
        template=template,
        where=f"channels.{channel}.template",
        organisation=organisation,
        default=default or DEFAULT_TEMPLATE,
        overrides=overrides,
    )
    warnings: list[str] = []
    if fitted.over_limit:
        warnings.append(
            _(
                "{channel}: {length} of {limit} {unit}: too long even after "
                "shortening the summary and title; shorten the template"
            ).format(channel=channel, length=fitted.length, limit=fitted.limit, unit=_(fitted.unit))
        )
    elif fitted.shortened:
        warnings.append(
            _("{channel}: the text was shortened to fit {limit} {unit}").format(
                channel=channel, limit=fitted.limit, unit=_(fitted.unit)
            )
        )
    return fitted, warnings


def _tidy(text: str) -> str:
    """Collapse the blank lines an empty field leaves behind."""
    lines = [line.rstrip() for line in text.split("\n")]
    tidy: list[str] = []
    for line in lines:
        if not line and (not tidy or not tidy[-1]):
            continue
        tidy.append(line)
    return "\n".join(tidy).strip()


def check_post_template(template: str | None, where: str) -> None:
    """Fail before sending on a template with a syntax error or an unknown field."""
    if template is None:
        return
    from chanpub.render.templating import render_template

    sample = {name: "x" for name in FIELDS}
    sample["tags"] = ["x"]  # type: ignore[assignment]  # a list field in the sample
    render_template(template, sample, where=where)
