"""What the facebook-page and instagram channels share: calls to Meta's Graph API and the
reading of its errors and usage headers.

Docs: https://developers.facebook.com/docs/graph-api/guides/error-handling and
https://developers.facebook.com/docs/graph-api/overview/rate-limiting
Errors come as `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`,
mostly with HTTP 400 whatever the cause, so the code decides the bucket, not the status:
throttling (4, 17, 32, 613, 341, 80000-80014) waits `estimated_time_to_regain_access`
minutes from X-Business-Use-Case-Usage; 190/102 (subcode 463 = expired) are auth errors
naming the variable; 506 is a duplicate post; 1 and 2 may have applied on a create.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, field_validator

from chanpub.errors import (
    AmbiguousError,
    AuthError,
    ChannelError,
    DuplicateError,
    PermanentError,
    RetryableError,
    shorten_reason,
)
from chanpub.i18n import _
from chanpub.options import WebAddress

if TYPE_CHECKING:
    import httpx
    from pydantic import SecretStr

    from chanpub.contract import ChannelContext

DEFAULT_GRAPH_BASE = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v26.0"
THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, *range(80000, 80015)})
TOKEN_CODES = frozenset({102, 190})
EXPIRED_SUBCODES = frozenset({463, 467})
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
TEMPORARY_CODES = frozenset({1, 2})
DUPLICATE_CODE = 506
USAGE_WARNING = 80  # percent: past this the office should know the budget is running out


@dataclass(frozen=True)
class GraphFailure:
    """The fields of a Graph error body that decide what to do."""

    code: int | None
    subcode: int | None
    message: str
    trace: str | None


def graph_failure(response: httpx.Response) -> GraphFailure:
    """Read the Graph error envelope; missing fields are None."""
    try:
        payload: Any = response.json()
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return GraphFailure(None, None, response.reason_phrase or "", None)

    def number(name: str) -> int | None:
        value = error.get(name)
        return int(value) if isinstance(value, int | str) and str(value).isdigit() else None

    message = str(error.get("error_user_msg") or error.get("message") or "")
    message = shorten_reason(message)  # masked before it is cut
    return GraphFailure(
        number("code"), number("error_subcode"), message, str(error.get("fbtrace_id") or "") or None
    )


def usage_percent(headers: Mapping[str, str]) -> int:
    """The highest usage in X-App-Usage / X-Business-Use-Case-Usage (percent), or 0."""
    highest = 0
    for entry in _usage_entries(headers):
        for name in ("call_count", "total_cputime", "total_time"):
            value = entry.get(name)
            if isinstance(value, int | float):
                highest = max(highest, int(value))
    return highest


def regain_seconds(headers: Mapping[str, str]) -> float | None:
    """How long until access comes back: the largest `estimated_time_to_regain_access`
    (minutes) in X-Business-Use-Case-Usage, in seconds; None when not stated or zero."""
    minutes = 0.0
    for entry in _usage_entries(headers):
        value = entry.get("estimated_time_to_regain_access")
        if isinstance(value, int | float):
            minutes = max(minutes, float(value))
    return minutes * 60 if minutes > 0 else None


def _usage_entries(headers: Mapping[str, str]) -> list[Mapping[str, Any]]:
    entries: list[Mapping[str, Any]] = []
    for header in ("x-business-use-case-usage", "x-app-usage", "x-ad-account-usage"):
        raw = headers.get(header)
        if not raw:
            continue
        try:
            data: Any = json.loads(raw)
        except ValueError:
            continue  # a header we cannot read says nothing about the budget
        if isinstance(data, dict) and any(isinstance(v, list) for v in data.values()):
            entries.extend(
                e for v in data.values() if isinstance(v, list) for e in v if isinstance(e, dict)
            )  # BUC: {business id: [usage, ...]}
        elif isinstance(data, dict):
            entries.append(data)  # app usage: one flat object
    return entries


def error_for_graph(
    response: httpx.Response,
    *,
    channel: str,
    token_variable: str,
    creating: bool,
    fallback: ChannelError | None = None,
) -> ChannelError:
    """Classify a failed Graph call by its error code (see the module docstring);
    without a code, `fallback` (the HTTP status's own bucket)."""
    from chanpub.http import describe, error_for_response

    failure = graph_failure(response)
    where = describe(response.request.method, str(response.request.url))
    text = _("{channel}: {where} answered {status}: {reason} (code {code})").format(
        channel=channel,
        where=where,
        status=response.status_code,
        reason=failure.message,
        code=failure.code if failure.subcode is None else f"{failure.code}/{failure.subcode}",
    )
    if failure.trace:
        text += f" [fbtrace_id {failure.trace}]"  # what Meta's support asks for
    code = failure.code
    if code in TOKEN_CODES or failure.subcode in EXPIRED_SUBCODES:
        expired = failure.subcode == 463
        return AuthError(
            _(
                "{channel}: the access token in ${variable} has expired: create a new one and "
                "set ${variable}"
            ).format(channel=channel, variable=token_variable)
            if expired
            else _(
                "{channel}: Meta refused the access token in ${variable} ({reason}): renew it "
                "and set ${variable}"
            ).format(channel=channel, variable=token_variable, reason=failure.message),
            variable=token_variable,
        )
    if code in PERMISSION_CODES:
        return AuthError(
            _(
                "{channel}: the token in ${variable} lacks a permission ({reason}): grant it "
                "to the app, then create a new token"
            ).format(channel=channel, variable=token_variable, reason=failure.message),
            variable=token_variable,
        )
    if code == DUPLICATE_CODE:
        return DuplicateError(text)
    if code in THROTTLE_CODES:
        return RetryableError(text, retry_after=regain_seconds(response.headers))
    if code in TEMPORARY_CODES:
        # A code-2 failure has been seen to create the post all the same.
        return AmbiguousError(text) if creating else RetryableError(text)
    if code == 368:
        return PermanentError(
            text,
            hint=_(
                "Meta blocked the post for policy reasons: check "
                "the account's notifications before trying again"
            ),
        )
    if code is not None:
        return PermanentError(text)
    if fallback is not None:
        return fallback
    return error_for_response(response, channel=channel, secret_variable=token_variable)


def graph_call(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    token: SecretStr,
    channel: str,
    token_variable: str,
    params: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
    files: Mapping[str, tuple[str, bytes, str]] | None = None,
) -> tuple[dict[str, Any], httpx.Response]:
    """One Graph API call; the token goes in the body of a POST, else in the query.

    Returns the JSON object and the response (for its usage headers), or raises the
    classified ChannelError.
    """
    from chanpub.http import send

    secret = token.get_secret_value()
    query = dict(params or {})
    body = dict(data or {})
    if method in ("GET", "DELETE"):
        query["access_token"] = secret
    else:
        body["access_token"] = secret

    def refine(response: httpx.Response, default: ChannelError) -> ChannelError:
        return error_for_graph(
            response,
            channel=channel,
            token_variable=token_variable,
            creating=method == "POST",
            fallback=default,
        )

    response = send(
        client,
        method,
        url,
        channel=channel,
        secret_variable=token_variable,
        wait=lambda answer: regain_seconds(answer.headers),
        refine=refine,
        params=query or None,
        data=body or None,
        files=files,
    )
    try:
        payload: Any = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise (AmbiguousError if method == "POST" else RetryableError)(
            _("{channel}: the Graph API answered without a JSON object").format(channel=channel)
        )
    return payload, response


@dataclass(frozen=True)
class GraphApi:
    """One channel's calls to one Graph API version with one token (Facebook, Instagram)."""

    context: ChannelContext
    channel: str
    base: str  # graph_base/api_version
    token: SecretStr
    token_option: str  # the option the token came from, for "renew ${VARIABLE}" messages

    @property
    def token_variable(self) -> str:
        """The environment variable holding the token."""
        return self.context.variable_for(self.token_option)

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Call `base/path`; warns the live view when the usage budget runs low."""
        payload, response = graph_call(
            self.context.http,
            method,
            f"{self.base}/{path}",
            token=self.token,
            channel=self.channel,
            token_variable=self.token_variable,
            **kwargs,
        )
        usage = usage_percent(response.headers)
        if usage >= USAGE_WARNING:
            self.context.report("rate-limit", percent=usage)
        return payload


class GraphChannel:
    """What the Facebook and Instagram adapters share: their Graph API and template check."""

    token_option: ClassVar[str]  # the option holding the access token

    def __init__(self, name: str, options: Any, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context

    def _token(self) -> SecretStr:
        """The access token to send (an adapter that refreshes tokens gives the newest)."""
        token: SecretStr = getattr(self.options, self.token_option)
        return token

    @property
    def _api(self) -> GraphApi:
        base = f"{self.options.graph_base}/{self.options.api_version}"
        return GraphApi(self.context, self.name, base, self._token(), self.token_option)

    @property
    def _graph(self) -> str:
        return self._api.base

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._api.call(method, path, **kwargs)

    def check(self) -> None:
        """Fail before sending on a template that cannot render."""
        from chanpub.render.social import check_post_template

        check_post_template(self.options.template, f"channels.{self.name}.template")


def numeric_id(value: Any) -> str:
    """A Graph object id: digits only (YAML may give an int)."""
    text = (
        str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    )
    if not text.isdigit():
        raise ValueError("must be the numeric id (digits only), e.g. 104857600123456")
    return text


def api_version(value: str) -> str:
    """A Graph API version such as v26.0."""
    import re

    if not re.fullmatch(r"v\d{1,3}\.\d", value):
        raise ValueError("must look like v26.0 (see Meta's Graph API changelog)")
    return value


def http_base(value: str) -> str:
    """A base URL: http(s), without a trailing slash (the x channel's; Graph options use
    chanpub.options.WebAddress)."""
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with https://")
    return value.rstrip("/")


# The option names shadow these functions inside the class body below.
_valid_api_version = api_version


class GraphOptions(BaseModel):
    """The options every Graph API channel has (Facebook Page, Instagram)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_version: str = DEFAULT_API_VERSION
    graph_base: WebAddress = DEFAULT_GRAPH_BASE
    template: str | None = None

    _version = field_validator("api_version")(_valid_api_version)


def resolve_hint(channel: str, slug: str, reason: str) -> str:
    """A lookup that cannot tell whether the post exists: the reason and the exact
    `chanpub resolve` command a person runs after checking."""
    return _(
        "{channel}: cannot tell whether the interrupted post of '{slug}' exists ({reason}). "
        "Check the account, then run 'chanpub resolve {slug} {channel} --published URL' "
        "or 'chanpub resolve {slug} {channel} --not-published'"
    ).format(channel=channel, slug=slug, reason=reason)
