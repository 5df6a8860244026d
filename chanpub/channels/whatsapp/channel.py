"""whatsapp: the release to opted-in subscribers' phones through Meta's WhatsApp Business
Cloud API, one approved template message per subscriber, each exactly once.

Docs: https://developers.facebook.com/docs/whatsapp/cloud-api (see cloud_api.py for the
calls and errors). Auth: a system-user access token (`access_token`, from ${VAR}).
Limits: a business number sends 80 messages/second by default (`rate_per_second` paces it
at 20); each subscriber's outcome is kept in the ledger's item journal, like e-mail
recipients: marked in progress right before the POST and sent (with the wamid) right after.
The API has no idempotency key and no look-up, so a subscriber whose answer was lost is
never sent to again by itself: it is 'unknown' until a person runs `chanpub resolve`.
Corrections and retractions are a follow-up template message (`correction_template`,
`retraction_template`) to exactly the subscribers the release reached (followup.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from chanpub.channels.meta_graph import DEFAULT_API_VERSION, DEFAULT_GRAPH_BASE, numeric_id
from chanpub.channels.meta_graph import api_version as valid_api_version
from chanpub.channels.meta_graph import http_base as valid_http_base
from chanpub.channels.whatsapp import list_parts, list_summary
from chanpub.channels.whatsapp.cloud_api import CloudApi, Template
from chanpub.channels.whatsapp.followup import FollowUpTemplate
from chanpub.channels.whatsapp.list_summary import ListSummary, summarise
from chanpub.channels.whatsapp.message import PARAM_FIELDS, bubble_html, param_values
from chanpub.channels.whatsapp.subscribers import Invalid, Subscriber
from chanpub.contract import (
    Amendment,
    Capabilities,
    ChannelContext,
    ItemJournal,
    Links,
    Mechanism,
    Preview,
    PreviewKind,
    Receipt,
)
from chanpub.errors import PermanentError
from chanpub.i18n import _
from chanpub.journal import journal_part
from chanpub.release import Release

Param = Literal["title", "url", "summary", "date", "organisation", "claim", "verdict"]
assert set(PARAM_FIELDS) == set(Param.__args__)  # type: ignore[attr-defined]  # one list
CARD_SUFFIX = "-card.png"  # the 1080x1080 share card the poster-pdf channel writes


class WhatsappOptions(BaseModel):
    """Options of a whatsapp channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phone_number_id: str
    business_account_id: str
    access_token: SecretStr
    graph_base: str = DEFAULT_GRAPH_BASE
    api_version: str = DEFAULT_API_VERSION
    template: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    template_language: str = "id"
    params: list[Param] = ["title", "url"]
    header: Literal["card", "image", "none"] = "none"
    card_from: str = "poster"  # the poster-pdf channel whose share card `header: card` uses
    lists: list[str] | dict[str, list[str]]
    opt_out: list[str] | str | None = None
    rate_per_second: float = Field(default=20.0, gt=0, le=1000)
    correction_template: FollowUpTemplate | None = None  # approved; sent to those reached
    retraction_template: FollowUpTemplate | None = None

    _ids = field_validator("phone_number_id", "business_account_id", mode="before")(numeric_id)
    _version = field_validator("api_version")(valid_api_version)
    _base = field_validator("graph_base")(valid_http_base)

    def named_lists(self) -> dict[str, list[str]]:
        """Every list by name; a plain list of sources is the list 'default'."""
        return {"default": self.lists} if isinstance(self.lists, list) else dict(self.lists)

    def opt_out_sources(self) -> list[str]:
        """The opt-out CSV files (and inline numbers)."""
        if self.opt_out is None:
            return []
        return [self.opt_out] if isinstance(self.opt_out, str) else list(self.opt_out)


class WhatsappChannel:
    """Sends one template message per subscriber through the Cloud API."""

    channel_type: ClassVar[str] = "whatsapp"
    Options: ClassVar[type[BaseModel]] = WhatsappOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        images=1,
        recipients=True,
        corrections=Mechanism.NOTICE,
        retractions=Mechanism.NOTICE,
    )

    def __init__(self, name: str, options: WhatsappOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context

    def depends_on(self) -> tuple[str, ...]:
        """The poster channel must publish first when its share card is the header."""
        return (self.options.card_from,) if self.options.header == "card" else ()

    def check(self) -> None:
        """Fail before sending on list files that are missing or lack a phone column."""
        from chanpub.channels.whatsapp.subscribers import check_source

        where = f"channels.{self.name}"
        for name, sources in self.options.named_lists().items():
            for source in sources:
                check_source(source, self.context.base_dir, f"{where}.lists.{name}")
        for source in self.options.opt_out_sources():
            check_source(source, self.context.base_dir, f"{where}.opt_out")

    def subscribers(
        self, invalid: list[Invalid], journal: ItemJournal | None = None
    ) -> Iterator[Subscriber]:
        """Every subscriber to message, opt-outs left out; invalid numbers go to `invalid`.
        A batch job's `journal` shows one part: only that part's rows are read, once a job
        has noted where they are, and the journal told them (list_parts)."""
        from chanpub.channels.whatsapp.subscribers import iter_subscribers, opted_out

        base, opt_out = self.context.base_dir, self.options.opt_out_sources()
        refused = opted_out(opt_out, base)
        part = journal_part(journal)
        places = self.context.run_store(list_parts.NAMESPACE) if part is not None else None
        if part is None or places is None:
            return iter_subscribers(self.options.named_lists(), base, invalid, refused)
        return list_parts.part_subscribers(
            self.options.named_lists(),
            (opt_out, refused),
            base,
            invalid,
            places,
            part,
            known=getattr(journal, "narrow", None),
        )

    def _summary(self) -> ListSummary:
        """How many subscribers get the message, and the invalid numbers: kept in the
        ledger with the list files' stats, where there is a ledger (list_summary)."""
        invalid: list[Invalid] = []

        def read() -> ListSummary:
            return summarise(self.subscribers(invalid), invalid)

        store = self.context.run_store(list_summary.NAMESPACE)
        lists, opt_out = self.options.named_lists(), self.options.opt_out_sources()
        return list_summary.remembered(lists, opt_out, self.context.base_dir, store, read)

    # --- preview ------------------------------------------------------------------------

    def header_image(self, release: Release, links: Links) -> Path | None:
        """The header image: the poster's share card, the release's image, or None."""
        if self.options.header == "image":
            return release.image
        if self.options.header == "card":
            receipt = links.outputs.get(self.options.card_from)
            cards = [p for p in receipt.files if p.name.endswith(CARD_SUFFIX)] if receipt else []
            return cards[0] if cards else None
        return None

    def preview(self, release: Release, links: Links) -> Preview:
        """The template's parameters as WhatsApp shows them, the header image, and how
        many subscribers get it."""
        self.check()
        lists = self._summary()
        values = param_values(release, links, self.context.organisation, self.options.params)
        image = self.header_image(release, links)
        warnings = self._warnings(release, values, image, lists)
        header = self._header_label(image)
        facts = [
            (_("Template"), f"{self.options.template} ({self.options.template_language})"),
            (_("Header"), header or _("none")),
        ]
        facts += [
            (f"{{{{{number}}}}} {field}", value)
            for number, (field, value) in enumerate(
                zip(self.options.params, values, strict=True), start=1
            )
        ]
        lines = [f"[{self.options.template} ({self.options.template_language})]"]
        if header:
            lines.append(f"[{header}]")
        lines += [f"{{{{{n}}}}} {v}" for n, v in enumerate(values, start=1)]
        text = "\n".join(lines)
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            text=text,
            html=bubble_html(self.options.template, self.options.template_language, values, header),
            warnings=tuple(warnings),
            attachments=(image,) if image else (),
            recipients=lists.count,
            kind=PreviewKind.MESSAGE,
            facts=tuple(facts),
            picture=image,
            data={"params": values, "invalid": list(lists.invalid)},  # the first few
        )

    def _header_label(self, image: Path | None) -> str | None:
        if self.options.header == "none":
            return None
        if image is not None:
            return image.name
        if self.options.header == "card":
            return _("share card from '{name}'").format(name=self.options.card_from)
        return _("release image")

    def _warnings(
        self, release: Release, values: list[str], image: Path | None, lists: ListSummary
    ) -> list[str]:
        warnings: list[str] = []
        if lists.invalid_count:
            warnings.append(
                _("{n} invalid number(s): {numbers}").format(
                    n=lists.invalid_count, numbers=", ".join(lists.invalid)
                )
            )
        for field, value in zip(self.options.params, values, strict=True):
            if not value:
                warnings.append(_("the template parameter '{field}' is empty").format(field=field))
        if self.options.header == "card" and image is None:
            warnings.append(
                _("the share card from '{name}' will come from this run").format(
                    name=self.options.card_from
                )
            )
        if self.options.header == "image" and release.image is None:
            warnings.append(_("header: image, but the release has no image"))
        kind = release.amendment
        if kind is not None and self.follow_up(kind) is None:
            warnings.append(
                _(
                    "channels.{name}.{kind}_template: not set: the {kind} cannot go to the "
                    "subscribers until it names an approved template"
                ).format(name=self.name, kind=kind)
            )
        return warnings

    # --- publish ------------------------------------------------------------------------

    def _api(self) -> CloudApi:
        return CloudApi(
            client=self.context.http,
            base=f"{self.options.graph_base}/{self.options.api_version}",
            token=self.options.access_token,
            token_variable=self.context.variable_for("access_token"),
            channel=self.name,
        )

    def approved_template(self, api: CloudApi) -> Template:
        """The release's template, checked before the first message (templates.py)."""
        from chanpub.channels.whatsapp.templates import Wanted, approved

        where = f"channels.{self.name}"
        wanted = Wanted(
            name=self.options.template,
            language=self.options.template_language,
            variables=len(self.options.params),
            field=f"{where}.template",
            params_field=f"{where}.params",
            header=self.options.header,
        )
        return approved(api, self.options.business_account_id, wanted)

    def values(
        self, release: Release, links: Links, fields: Sequence[str], note: str = ""
    ) -> list[str]:
        """The body parameters; an empty one fails the channel before anything is sent."""
        values = param_values(release, links, self.context.organisation, fields, note=note)
        empty = [f for f, v in zip(fields, values, strict=True) if not v]
        if empty:
            raise PermanentError(
                _(
                    "{channel}: the template parameter(s) {fields} would be empty: nothing "
                    "was sent; fill them in the release or change params"
                ).format(channel=self.name, fields=", ".join(empty))
            )
        return values

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Check the template, then message every subscriber not yet reached."""
        from chanpub.channels.whatsapp.sending import Sender, run_receipt

        release = preview.release
        values = self.values(release, preview.links, self.options.params)
        api = self._api()
        template = self.approved_template(api)
        image = self.header_image(release, preview.links)
        if self.options.header != "none" and image is None:
            raise PermanentError(
                _(
                    "{channel}: the header image ({header}) is not there: nothing was sent; "
                    "check that '{name}' published, or set header: none"
                ).format(channel=self.name, header=self.options.header, name=self.options.card_from)
            )
        invalid: list[Invalid] = []
        journal = self.context.journal(key)
        subscribers = self.subscribers(invalid, journal)  # a part's: its journal told first
        sender = Sender(self, api, journal, key=key, values=values, image=image, template=template)
        sender.send(subscribers)
        return run_receipt(sender, invalid, release)

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """The correction or retraction as a follow-up template message to exactly the
        subscribers the release reached, each once (followup.py)."""
        from chanpub.channels.whatsapp.followup import send_follow_up

        return send_follow_up(self, preview, amendment, key)

    def verify(self) -> None:
        """The token and the phone number id work, and the template exists and is approved."""
        from chanpub.channels.whatsapp.followup import approved_follow_up

        api = self._api()
        api.phone_number(self.options.phone_number_id)
        self.approved_template(api)
        for kind in ("correction", "retraction"):
            if self.follow_up(kind) is not None:
                approved_follow_up(self, api, kind)

    def follow_up(self, kind: str) -> FollowUpTemplate | None:
        """The template configured for a correction or a retraction."""
        if kind == "correction":
            return self.options.correction_template
        return self.options.retraction_template
