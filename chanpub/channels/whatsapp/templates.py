"""The template check made before the first message of a run (the release's template, or
a correction's or retraction's follow-up template): it exists in the language, it is
APPROVED, and it has as many body variables as the channel fills, so the Cloud API's
132001 and 132000 never reach a subscriber.

Docs: https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
"""

from __future__ import annotations

from dataclasses import dataclass

from chanpub.channels.whatsapp.cloud_api import CloudApi, Template, TemplateProblem
from chanpub.i18n import _


@dataclass(frozen=True)
class Wanted:
    """What the channel will send with a template, and which option names it."""

    name: str
    language: str
    variables: int  # body variables the channel fills
    field: str  # channels.<name>.template, or .correction_template ...
    params_field: str  # where the variables are chosen
    header: str | None = None  # the `header` option (card, image, none); None: a follow-up

    @property
    def image(self) -> bool:
        """The channel sends an image header."""
        return self.header not in (None, "none")


def approved(api: CloudApi, business_account_id: str, wanted: Wanted) -> Template:
    """The template as `wanted` describes it, approved; else a TemplateProblem that says
    which option to change (raised before anything is sent)."""
    found = api.templates(business_account_id, wanted.name)
    template = next((t for t in found if t.language == wanted.language), None)
    if template is None:
        raise TemplateProblem(
            _(
                "{field}: there is no template '{name}' in language '{language}' "
                "(132001){others}: create it in WhatsApp Manager and wait for approval"
            ).format(
                field=wanted.field,
                name=wanted.name,
                language=wanted.language,
                others=f" ({', '.join(t.language for t in found)})" if found else "",
            )
        )
    if template.status != "APPROVED":
        raise TemplateProblem(
            _(
                "{field}: '{name}' is {status}, not APPROVED: only approved templates can be "
                "sent; see WhatsApp Manager"
            ).format(field=wanted.field, name=wanted.name, status=template.status)
        )
    if template.body_variables != wanted.variables:
        raise TemplateProblem(
            _(
                "{field}: the template '{name}' has {wanted} body variable(s), params gives "
                "{given} (132000): make them match"
            ).format(
                field=wanted.params_field,
                name=wanted.name,
                wanted=template.body_variables,
                given=wanted.variables,
            )
        )
    _check_header(template, wanted)
    return template


def _check_header(template: Template, wanted: Wanted) -> None:
    """An image header exactly when the channel sends an image."""
    if (template.header_format == "IMAGE") == wanted.image:
        return
    if wanted.header is None:
        raise TemplateProblem(
            _(
                "{field}: the template '{name}' has an image header: corrections and "
                "retractions are sent without an image; choose a template without one"
            ).format(field=wanted.field, name=wanted.name)
        )
    raise TemplateProblem(
        _(
            "{field}: the template '{name}' has header {format}, the channel says header: "
            "{header}: use an image header with card or image, else none"
        ).format(
            field=wanted.field.rsplit(".", 1)[0] + ".header",
            name=wanted.name,
            format=template.header_format or "-",
            header=wanted.header,
        )
    )
