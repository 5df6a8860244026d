"""micropub: the article as an h-entry on a site that speaks Micropub (IndieWeb CMSs).

API: https://www.w3.org/TR/micropub/ (W3C Recommendation, 23 May 2017).
Auth: OAuth 2.0 / IndieAuth bearer token with the `create` scope (`media` for uploads,
`update` for `send --update`), from an environment variable.
Limits: set by each server; none in the protocol.

Options (channels.yaml)::

    site:
      type: micropub
      canonical: true
      endpoint: https://kominfo.example.go.id/micropub
      token: ${MICROPUB_TOKEN}
      media_endpoint: https://media.example.go.id/upload   # optional: else from q=config

The entry goes out as JSON (name, HTML content, summary, categories from the tags, `mp-slug`,
and the photo with its alt text); a server that answers 415 to JSON gets the same entry
form-encoded. The image is uploaded to the media endpoint (the option, else the
`media-endpoint` of `GET endpoint?q=config`); a server without one gets the entry as
multipart/form-data with the image as its `photo` part. The `Location` header of the answer
is the entry's URL (the canonical URL when this channel is canonical).

Micropub has no duplicate check: the ledger's in-progress mark is what prevents a second
post; the request also carries `Idempotency-Key` for servers that honour it.
"""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin

from pydantic import BaseModel, ConfigDict, SecretStr

from chanpub.contract import (
    Action,
    Amendment,
    Capabilities,
    ChannelContext,
    Links,
    Mechanism,
    Preview,
    Receipt,
)
from chanpub.errors import AuthError, ChannelError, PermanentError
from chanpub.files import read_file_for
from chanpub.i18n import _
from chanpub.options import WebAddress
from chanpub.release import Release

if TYPE_CHECKING:
    import httpx


class MicropubOptions(BaseModel):
    """Options of a micropub channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: WebAddress
    token: SecretStr
    media_endpoint: WebAddress | None = None


class MicropubChannel:
    """Creates an h-entry through a Micropub endpoint."""

    channel_type: ClassVar[str] = "micropub"
    Options: ClassVar[type[BaseModel]] = MicropubOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        title=True,
        html=True,
        images=1,
        edit=True,
        canonical=True,
        corrections=Mechanism.EDIT,
        retractions=Mechanism.DELETE,
    )

    def __init__(self, name: str, options: MicropubOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context

    def canonical_url(self, release: Release) -> str | None:
        """Unknown until the server answers with its Location."""
        return None

    # --- the entry ----------------------------------------------------------------------

    def properties(self, release: Release, photo: dict[str, str] | None) -> dict[str, list[Any]]:
        """The h-entry properties in Micropub's JSON form (every value a list)."""
        from chanpub.markdown import to_html

        result: dict[str, list[Any]] = {
            "name": [release.title],
            "content": [{"html": to_html(release.body)}],
            "summary": [release.summary],
            "mp-slug": [release.slug],
        }
        if release.tags:
            result["category"] = list(release.tags)
        if photo is not None:
            result["photo"] = [photo]
        return result

    def preview(self, release: Release, links: Links) -> Preview:
        """The entry as it will be sent (the photo's URL comes from the upload)."""
        from chanpub.markdown import to_html, to_plain

        photo = {"value": "(uploaded)", "alt": release.image_alt or ""} if release.image else None
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            title=release.title,
            text=to_plain(release.body),
            html=to_html(release.body),
            attachments=(release.image,) if release.image else (),
            data={
                "endpoint": self.options.endpoint,
                "entry": {"type": ["h-entry"], "properties": self.properties(release, photo)},
            },
        )

    # --- publish, update, verify ----------------------------------------------------------

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Upload the photo, create the entry and take its URL from Location."""
        release = preview.release
        media = self._media_endpoint() if release.image else None
        photo = self._upload(release, media) if release.image and media else None
        headers = {"Idempotency-Key": key}
        if release.image and not media:
            response = self._send(
                "POST",
                self.options.endpoint,
                headers=headers,
                data=self._form(release, None),
                files=self._photo_file(release),
            )
        else:
            entry = {"type": ["h-entry"], "properties": self.properties(release, photo)}
            response = self._send(
                "POST", self.options.endpoint, json=entry, headers=headers, allow=frozenset({415})
            )
            if response.status_code == 415:  # JSON is optional for servers; forms are not
                response = self._send(
                    "POST", self.options.endpoint, headers=headers, data=self._form(release, photo)
                )
        location = response.headers.get("Location")
        url = urljoin(self.options.endpoint, location) if location else None
        return Receipt(
            remote_id=url or key,
            url=url,
            published_at=datetime.now(UTC),
            details={"status": response.status_code, "key": key, "photo": photo},
        )

    def update(self, preview: Preview, receipt: Receipt) -> Receipt:
        """Replace the entry's properties in place (Micropub `action: update`)."""
        release = preview.release
        if not receipt.url:
            raise PermanentError(
                _(
                    "{channel}: the entry's URL is not known, so it cannot be updated: edit it on "
                    "the site"
                ).format(channel=self.name)
            )
        media = self._media_endpoint() if release.image else None
        photo = self._upload(release, media) if release.image and media else None
        replace = self.properties(release, photo)
        replace.pop("mp-slug")
        self._send(
            "POST",
            self.options.endpoint,
            json={"action": "update", "url": receipt.url, "replace": replace},
        )
        return Receipt(
            remote_id=receipt.remote_id,
            url=receipt.url,
            published_at=datetime.now(UTC),
            details={**receipt.details, "photo": photo},
        )

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """A correction replaces the entry's properties in place with the note above the
        content and `updated` set (`action: update`); a retraction deletes the entry
        (`action: delete`), https://www.w3.org/TR/micropub/#update and #delete. Both are
        harmless to repeat; a delete the server answers "no such post" was already done."""
        previous = amendment.previous
        if not previous.url:
            raise PermanentError(
                _(
                    "{channel}: the entry's URL is not known, so it cannot be updated: edit it on "
                    "the site"
                ).format(channel=self.name)
            )
        journal = self.context.journal(key)
        retried = journal.status("entry") == "in_progress"
        journal.begin("entry")
        if amendment.retraction:
            response = self._send(
                "POST",
                self.options.endpoint,
                json={"action": "delete", "url": previous.url},
                allow=frozenset({400, 404, 410}),
            )
            gone = not response.is_success
            action = Action.UNCHANGED if gone and not retried else Action.DELETED
        else:
            replace = self.properties(preview.release, previous.details.get("photo"))
            replace.pop("mp-slug")
            language = preview.release.language or self.context.language
            note = correction_html(amendment, language)
            replace["content"] = [{"html": note + _content(replace)}]
            replace["updated"] = [amendment.at.isoformat()]
            self._send(
                "POST",
                self.options.endpoint,
                json={"action": "update", "url": previous.url, "replace": replace},
            )
            action = Action.EDITED
        journal.sent("entry", action)
        return Receipt(
            remote_id=previous.remote_id,
            url=None if amendment.retraction else previous.url,
            published_at=datetime.now(UTC),
            details={**previous.details, "amended": amendment.kind},
            action=action,
        )

    def verify(self) -> None:
        """The token is accepted (a q=config query)."""
        self._config()

    # --- helpers ------------------------------------------------------------------------

    def _form(self, release: Release, photo: dict[str, str] | None) -> dict[str, Any]:
        """The entry form-encoded: content as plain text, the photo as a URL."""
        from chanpub.markdown import to_plain

        form: dict[str, Any] = {
            "h": "entry",
            "name": release.title,
            "content": to_plain(release.body),
            "summary": release.summary,
            "mp-slug": release.slug,
        }
        if release.tags:
            form["category[]"] = list(release.tags)
        if photo is not None:
            form["photo"] = photo["value"]
        return form

    def _photo_file(self, release: Release, part: str = "photo") -> dict[str, Any]:
        assert release.image is not None  # callers check
        data = read_file_for(self.name, release.image)
        kind = mimetypes.guess_type(release.image.name)[0] or "application/octet-stream"
        return {part: (release.image.name, data, kind)}

    def _config(self) -> dict[str, Any]:
        response = self._send("GET", self.options.endpoint, params={"q": "config"})
        try:
            config = response.json()
        except ValueError:
            config = None
        return config if isinstance(config, dict) else {}

    def _media_endpoint(self) -> str | None:
        """The option, else the server's `media-endpoint` from q=config, else None.

        Servers SHOULD answer q=config (https://www.w3.org/TR/micropub/#configuration), so
        one that refuses it (other than for the token) is a server without a media
        endpoint: the photo then travels as a multipart part of the entry
        (https://www.w3.org/TR/micropub/#uploading-files)."""
        if self.options.media_endpoint:
            return self.options.media_endpoint
        try:
            config = self._config()
        except AuthError:
            raise
        except ChannelError:
            return None
        found = config.get("media-endpoint")
        return urljoin(self.options.endpoint, found) if isinstance(found, str) and found else None

    def _upload(self, release: Release, media: str) -> dict[str, str]:
        """POST the image as the `file` part; its URL comes back in Location."""
        response = self._send("POST", media, files=self._photo_file(release, "file"))
        location = response.headers.get("Location")
        if not location:
            raise PermanentError(
                _(
                    "{channel}: the media endpoint {url} stored the image but gave no Location: "
                    "check channels.{channel}.media_endpoint"
                ).format(channel=self.name, url=media)
            )
        return {"value": urljoin(media, location), "alt": release.image_alt or ""}

    def _send(
        self, method: str, url: str, *, allow: frozenset[int] = frozenset(), **kwargs: Any
    ) -> httpx.Response:
        """An authenticated request; the 2xx (or allowed) answer, or a ChannelError."""
        from chanpub.http import send

        headers = {
            **kwargs.pop("headers", {}),
            "Authorization": f"Bearer {self.options.token.get_secret_value()}",
        }
        return send(
            self.context.http,
            method,
            url,
            channel=self.name,
            secret_variable=self.context.variable_for("token"),
            refine=self._refine,
            accept=allow,
            headers=headers,
            **kwargs,
        )

    def _refine(self, response: httpx.Response, error: ChannelError) -> ChannelError:
        """Micropub's errors (https://www.w3.org/TR/micropub/#error-response): which token
        or scope to fix."""
        from chanpub.http import short_reason

        variable = self.context.variable_for("token")
        try:
            code = response.json().get("error")
        except (ValueError, AttributeError):
            code = None
        if response.status_code == 401:
            return AuthError(
                _(
                    "{channel}: the server refused the token in ${{{variable}}} (401 {reason}): "
                    "check or renew it"
                ).format(channel=self.name, variable=variable, reason=short_reason(response)),
                variable=variable,
            )
        if response.status_code == 403 or code == "insufficient_scope":
            return PermanentError(
                _(
                    "{channel}: the server refused the token in ${{{variable}}} ({status} "
                    "{reason}): issue a token with the 'create' scope (and 'media', 'update')"
                ).format(
                    channel=self.name,
                    variable=variable,
                    status=response.status_code,
                    reason=short_reason(response),
                )
            )
        return error


def correction_html(amendment: Amendment, language: str) -> str:
    """The visible note above a corrected entry's content: label, time and note, escaped."""
    from html import escape

    from chanpub.render.notices import notice_labels, notice_time

    labels = notice_labels(language)
    when = notice_time(amendment.at, language)
    return (
        f'<p class="correction"><strong>{escape(labels["correction"])}</strong> '
        f"({escape(when)}): {escape(amendment.note)}</p>\n"
    )


def _content(properties: dict[str, list[Any]]) -> str:
    return str(properties["content"][0]["html"])
