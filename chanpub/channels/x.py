"""x: a post on X through the X API v2, with an image and its alt text.

Docs: https://docs.x.com/x-api/posts/create-post, https://docs.x.com/x-api/media/upload-media,
https://docs.x.com/x-api/media/create-media-metadata, https://docs.x.com/fundamentals/
counting-characters, https://docs.x.com/x-api/fundamentals/rate-limits
Auth: user context, either OAuth 1.0a (api_key, api_secret, access_token, access_secret;
every request signed, see chanpub.channels.oauth1) or an OAuth 2.0 user token
(`tweet.write tweet.read users.read media.write`; it lasts 2 hours unless refreshed).
Create: POST /2/tweets {"text", "media": {"media_ids"}} -> 201 {"data": {"id"}}. Image:
POST /2/media/upload (multipart `media`, `media_category=tweet_image`, at most 5 MB;
fitted by chanpub.render.media, without location data), then
POST /2/media/metadata for the alt text (at most 1000 characters). Text: 280 weighted
(URLs 23, CJK and emoji 2). Rate limits: `x-rate-limit-reset` (Unix seconds) with 429.
No idempotency key: a 403 "duplicate content" means the text is already posted; `lookup`
reads the account's recent posts back.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator, model_validator

from chanpub.channels.meta_graph import http_base
from chanpub.contract import Capabilities, ChannelContext, Links, Preview, Receipt
from chanpub.errors import AuthError, ChannelError, DuplicateError, PermanentError
from chanpub.i18n import _
from chanpub.release import Release
from chanpub.render.media import MediaSpec, check_release_image, prepare_image
from chanpub.render.shaping import URL_PATTERN, LengthRule, count_x

if TYPE_CHECKING:
    import httpx

    from chanpub.channels.oauth1 import OAuth1Signer

TEXT_LIMIT = 280
# Images: JPEG, PNG, WebP or GIF up to 5 MB (read as 5,000,000 bytes, the stricter reading).
IMAGE_SPEC = MediaSpec("x", formats=("JPEG", "PNG", "WEBP"), max_bytes=5_000_000)
ALT_TEXT_LIMIT = 1000
OAUTH1_KEYS = ("api_key", "api_secret", "access_token", "access_secret")
MARKER = "request"  # journal item: the text and start time, for lookup
POST = "post"  # journal item: the post id once created


class XOptions(BaseModel):
    """Options of an x channel: the four OAuth 1.0a keys, or one OAuth 2.0 user token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_base: str = "https://api.x.com"
    upload_base: str | None = None  # default: api_base
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_secret: SecretStr | None = None
    oauth2_token: SecretStr | None = None
    template: str | None = None

    check_api_base = field_validator("api_base")(http_base)

    @field_validator("upload_base")
    @classmethod
    def _upload_base(cls, value: str | None) -> str | None:
        return http_base(value) if value is not None else None

    @model_validator(mode="after")
    def _credentials(self) -> XOptions:
        """One style of credentials, complete. Each absent OAuth 1.0a key is reported as
        that field missing, so a key whose ${VAR} is unset makes the channel 'not ready'
        rather than the config wrong; no credentials at all is caught by check()."""
        from pydantic import ValidationError
        from pydantic_core import InitErrorDetails

        given = [k for k in OAUTH1_KEYS if getattr(self, k) is not None]
        if self.oauth2_token is not None and given:
            raise ValueError("give either the four OAuth 1.0a keys or oauth2_token, not both")
        if given and len(given) != len(OAUTH1_KEYS):
            raise ValidationError.from_exception_data(
                "XOptions",
                [
                    InitErrorDetails(type="missing", loc=(k,), input=None)
                    for k in OAUTH1_KEYS
                    if k not in given
                ],
            )
        return self

    @property
    def has_credentials(self) -> bool:
        """True when either style of credentials is there."""
        return self.oauth2_token is not None or self.api_key is not None


def status_url(post_id: str) -> str:
    """The public address of a post, without knowing the account's handle."""
    return f"https://x.com/i/web/status/{post_id}"


def reset_wait(headers: Any, now: datetime | None = None) -> float | None:
    """Seconds until `x-rate-limit-reset` (Unix seconds); None when absent."""
    raw = headers.get("x-rate-limit-reset")
    if not raw or not str(raw).strip().isdigit():
        return None
    return max(0.0, int(raw) - (now or datetime.now(UTC)).timestamp())


def _comparable(text: str) -> str:
    """Text as X shows it back: links replaced (t.co), entities decoded, spaces folded."""
    return " ".join(URL_PATTERN.sub("<url>", html.unescape(text)).split())


class XChannel:
    """Posts the release's text, link and image to X."""

    channel_type: ClassVar[str] = "x"
    Options: ClassVar[type[BaseModel]] = XOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        max_length=TEXT_LIMIT, length_unit="weighted characters", images=1
    )

    def __init__(self, name: str, options: XOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context

    # --- HTTP ---------------------------------------------------------------------------

    def _auth(self) -> OAuth1Signer | None:
        if self.options.oauth2_token is not None:
            return None
        from chanpub.channels.oauth1 import OAuth1Signer

        o = self.options
        assert o.api_key and o.api_secret and o.access_token and o.access_secret  # validated
        return OAuth1Signer(
            o.api_key.get_secret_value(),
            o.api_secret.get_secret_value(),
            o.access_token.get_secret_value(),
            o.access_secret.get_secret_value(),
        )

    def _variables(self) -> str:
        """The variables that hold the credentials, e.g. 'X_ACCESS_TOKEN, X_ACCESS_SECRET'."""
        if self.options.oauth2_token is not None:
            return self.context.variable_for("oauth2_token")
        return ", ".join(self.context.variable_for(k) for k in OAUTH1_KEYS)

    def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        import httpx

        from chanpub.http import error_for_exception

        if not self.options.has_credentials:
            raise AuthError(
                _(
                    "{channel}: no credentials are configured: give the OAuth 1.0a "
                    "keys or oauth2_token"
                ).format(channel=self.name)
            )
        headers = {}
        if self.options.oauth2_token is not None:
            headers["Authorization"] = f"Bearer {self.options.oauth2_token.get_secret_value()}"
        try:
            response = self.context.http.request(
                method,
                url,
                headers=headers,
                auth=self._auth() or httpx.USE_CLIENT_DEFAULT,
                **kwargs,
            )
        except httpx.TransportError as error:
            raise error_for_exception(error, channel=self.name, method=method, url=url) from None
        if not response.is_success:
            raise self._error(response)
        try:
            payload: Any = response.json()
        except ValueError:
            payload = {}
        return payload if isinstance(payload, dict) else {}

    def _error(self, response: httpx.Response) -> ChannelError:
        from chanpub.http import error_for_response, short_reason

        variables = self._variables()
        reason = short_reason(response)
        detail = ""
        try:
            body: Any = response.json()
            detail = str(body.get("detail") or "") if isinstance(body, dict) else ""
            detail += json.dumps(body.get("errors", "")) if isinstance(body, dict) else ""
        except ValueError:
            pass
        if response.status_code == 403 and "duplicate" in (detail + reason).lower():
            return DuplicateError(
                _("{channel}: X says this text was already posted").format(channel=self.name)
            )
        if response.status_code in (401, 403):
            expiring = (
                _(" (an OAuth 2.0 user token lasts 2 hours)")
                if self.options.oauth2_token is not None
                else ""
            )
            return AuthError(
                _(
                    "{channel}: X refused the credentials ({status} {reason}){expiring}: renew "
                    "them and set {variables}; the app needs Read and Write permission"
                ).format(
                    channel=self.name,
                    status=response.status_code,
                    reason=reason,
                    expiring=expiring,
                    variables=variables,
                ),
                variable=variables,
            )
        return error_for_response(
            response,
            channel=self.name,
            secret_variable=variables,
            retry_after=reset_wait(response.headers),
        )

    @property
    def _upload_base(self) -> str:
        return self.options.upload_base or self.options.api_base

    def check_release(self, release: Release) -> None:
        """The release's picture can be read, so it can be fitted (ReleaseError if not)."""
        check_release_image(release)

    def check(self) -> None:
        """Fail before sending on missing credentials or a template that cannot render."""
        from chanpub.errors import ConfigError
        from chanpub.render.social import check_post_template

        if not self.options.has_credentials:
            raise ConfigError(
                _(
                    "channels.{channel}: no credentials: give api_key, api_secret, access_token "
                    "and access_secret (OAuth 1.0a), or oauth2_token, each as ${{VARIABLE}}"
                ).format(channel=self.name)
            )
        check_post_template(self.options.template, f"channels.{self.name}.template")

    # --- preview ------------------------------------------------------------------------

    def preview(self, release: Release, links: Links) -> Preview:
        """The post's text, counted X's way (URLs 23, wide characters 2)."""
        from chanpub.render.social import fit_post

        fitted, warnings = fit_post(
            release,
            links,
            LengthRule(TEXT_LIMIT, "weighted", count_x),
            channel=self.name,
            template=self.options.template,
            organisation=self.context.organisation,
        )
        picture, note = prepare_image(release, IMAGE_SPEC, self.context.state_dir)
        if note:
            warnings.append(note)
        if release.image is not None:
            if not release.image_alt:
                warnings.append(_("the image has no alt text (image_alt)"))
            elif len(release.image_alt) > ALT_TEXT_LIMIT:
                warnings.append(
                    _("the alt text is cut to {limit} characters").format(limit=ALT_TEXT_LIMIT)
                )
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            text=fitted.text,
            length=fitted.length,
            limit=TEXT_LIMIT,
            unit="weighted characters",
            warnings=tuple(warnings),
            attachments=(picture.path,) if picture else (),
            data={
                "alt_text": (release.image_alt or "")[:ALT_TEXT_LIMIT],
                "image": str(picture.path) if picture else "",
                "image_name": picture.filename(release.image.stem)
                if picture and release.image
                else "",
                "image_mime": picture.mime if picture else "",
                "image_problem": "" if picture else note or "",
            },
        )

    # --- publish ------------------------------------------------------------------------

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Upload the image (with alt text), then create the post."""
        if preview.over_limit:
            raise PermanentError(
                _(
                    "{channel}: the text weighs {length}, over X's limit of {limit}, and nothing "
                    "more can be shortened: shorten channels.{channel}.template"
                ).format(channel=self.name, length=preview.length, limit=preview.limit)
            )
        journal = self.context.journal(key)
        done = journal.remote_id(POST)
        if done:
            return self._receipt(done)
        image = self._read_image(preview)
        body: dict[str, Any] = {"text": preview.text}
        if image is not None:
            body["media"] = {"media_ids": [self._upload(*image, str(preview.data["alt_text"]))]}
        journal.sent(
            MARKER, json.dumps({"text": preview.text, "since": datetime.now(UTC).isoformat()})
        )
        journal.begin(POST)
        try:
            payload = self._call("POST", f"{self.options.api_base}/2/tweets", json=body)
        except ChannelError as error:
            journal.failed(POST, error.message, permanent=False)
            raise
        post_id = str((payload.get("data") or {}).get("id") or "")
        if not post_id:
            raise PermanentError(
                _("{channel}: X answered without a post id").format(channel=self.name)
            )
        journal.sent(POST, post_id)
        return self._receipt(post_id)

    def _read_image(self, preview: Preview) -> tuple[str, bytes, str] | None:
        """The fitted picture (name, bytes, type), or None for a release without one."""
        data = preview.data
        if preview.release.image is None:
            return None
        if not data.get("image"):
            raise PermanentError(
                _("{channel}: {problem}").format(channel=self.name, problem=data["image_problem"])
            )
        try:
            content = Path(data["image"]).read_bytes()
        except OSError as error:
            raise PermanentError(
                _("{channel}: cannot read the image {path}: {reason}").format(
                    channel=self.name, path=data["image"], reason=error.strerror
                )
            ) from None
        return data["image_name"], content, data["image_mime"]

    def _upload(self, filename: str, content: bytes, mime: str, alt_text: str) -> str:
        payload = self._call(
            "POST",
            f"{self._upload_base}/2/media/upload",
            data={"media_category": "tweet_image"},
            files={"media": (filename, content, mime)},
        )
        media_id = str((payload.get("data") or {}).get("id") or "")
        if not media_id:
            raise PermanentError(
                _("{channel}: the media upload answered without an id").format(channel=self.name)
            )
        if alt_text:
            self._call(
                "POST",
                f"{self._upload_base}/2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": alt_text}}},
            )
        return media_id

    def _receipt(self, post_id: str) -> Receipt:
        return Receipt(remote_id=post_id, url=status_url(post_id), published_at=datetime.now(UTC))

    def lookup(self, key: str) -> Receipt | None:
        """The post of an interrupted run: journalled, or found among the account's posts
        since the attempt began with the same text (links compared as X shortens them)."""
        journal = self.context.journal(key)
        done = journal.remote_id(POST)
        if done:
            return self._receipt(done)
        raw = journal.remote_id(MARKER)
        if not raw:
            return None  # the post request was never sent
        marker = json.loads(raw)
        me = self._call("GET", f"{self.options.api_base}/2/users/me")
        user_id = str((me.get("data") or {}).get("id") or "")
        since = datetime.fromisoformat(marker["since"]).timestamp() - 300
        payload = self._call(
            "GET",
            f"{self.options.api_base}/2/users/{user_id}/tweets",
            params={
                "max_results": "10",
                "tweet.fields": "created_at",
                "start_time": datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        wanted = _comparable(marker["text"])
        for post in payload.get("data") or []:
            if isinstance(post, dict) and _comparable(str(post.get("text", ""))) == wanted:
                journal.sent(POST, str(post["id"]))
                return self._receipt(str(post["id"]))
        return None

    def verify(self) -> None:
        """The credentials work: GET /2/users/me names the account."""
        me = self._call("GET", f"{self.options.api_base}/2/users/me")
        self.context.report("verified", account=(me.get("data") or {}).get("username", ""))
