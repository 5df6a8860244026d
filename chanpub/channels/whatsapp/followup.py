"""Corrections (ralat) and retractions (pencabutan) on WhatsApp: a follow-up template
message to exactly the subscribers the release reached.

A sent WhatsApp message cannot be edited or deleted through the Cloud API
(https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages), and outside
the 24-hour window a business may only send approved templates
(https://developers.facebook.com/docs/whatsapp/pricing#customer-service-windows), so the
follow-up is a template of its own, approved like the release's (`correction_template`,
`retraction_template`), its body variables filled from the release and the `note`. It goes
through the release's sending loop (sending.py), journalled under the amendment's key:
each subscriber once, a lost answer left for `chanpub resolve ... --resend`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from chanpub.contract import Amendment, Preview, Receipt
from chanpub.errors import PermanentError
from chanpub.i18n import _

if TYPE_CHECKING:
    from chanpub.channels.whatsapp.channel import WhatsappChannel
    from chanpub.channels.whatsapp.cloud_api import CloudApi, Template

FollowUpParam = Literal[
    "title", "url", "summary", "date", "organisation", "claim", "verdict", "note"
]


class FollowUpTemplate(BaseModel):
    """`correction_template` / `retraction_template`: an approved template without an image
    header; `params` fill its body variables (`note`: the correction, or the reason)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    language: str | None = None  # default: the channel's template_language
    params: list[FollowUpParam] = ["title", "note"]


def original_key(amendment: Amendment) -> str:
    """The release's delivery key: the previous delivery's, or, when that was itself a
    follow-up, the one it recorded (every follow-up goes to the release's subscribers)."""
    details = amendment.previous.details
    return str(details.get("original") or details["key"])


def approved_follow_up(channel: WhatsappChannel, api: CloudApi, kind: str) -> Template:
    """The follow-up template for `kind`, checked like the release's before anything is
    sent; a PermanentError naming the option when none is configured."""
    from chanpub.channels.whatsapp.templates import Wanted, approved

    field = f"channels.{channel.name}.{kind}_template"
    follow_up = channel.follow_up(kind)
    if follow_up is None:
        raise PermanentError(
            _(
                "{field}: no template is set for a {kind} on WhatsApp: set it to an approved "
                "template (name and params, e.g. [title, note]), then run 'chanpub send' again"
            ).format(field=field, kind=kind)
        )
    wanted = Wanted(
        name=follow_up.name,
        language=follow_up.language or channel.options.template_language,
        variables=len(follow_up.params),
        field=field,
        params_field=f"{field}.params",
    )
    return approved(api, channel.options.business_account_id, wanted)


def send_follow_up(
    channel: WhatsappChannel, preview: Preview, amendment: Amendment, key: str
) -> Receipt:
    """Send the follow-up to every subscriber the release reached (opt-outs left out) who
    has not had it under `key`; the receipt keeps the release's id (see run_receipt)."""
    from chanpub.channels.whatsapp.sending import Sender, run_receipt
    from chanpub.channels.whatsapp.subscribers import Subscriber, opted_out

    api = channel._api()
    template = approved_follow_up(channel, api, amendment.kind)
    follow_up = channel.follow_up(amendment.kind)
    assert follow_up is not None  # approved_follow_up raised otherwise
    release = preview.release
    values = channel.values(release, preview.links, follow_up.params, note=amendment.note)
    original = original_key(amendment)
    refused = opted_out(channel.options.opt_out_sources(), channel.context.base_dir)
    reached = [item for item, _id in channel.context.delivered(original) if item not in refused]
    journal = channel.context.journal(key)
    sender = Sender(channel, api, journal, key=key, values=values, image=None, template=template)
    sender.send(Subscriber(phone) for phone in reached)
    return run_receipt(sender, [], release, amends=(amendment, original))
