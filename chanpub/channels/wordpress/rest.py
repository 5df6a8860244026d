"""Calls to the WordPress core REST API (https://developer.wordpress.org/rest-api/) as one
user with an Application Password (HTTP Basic), through chanpub.http.send: the REST base is
found once (/wp-json/, or ?rest_route= on sites without pretty permalinks), the user's
capabilities are asked once, and a 401 names both the user and the password variable.
"""

from __future__ import annotations

from collections.abc import Container
from typing import TYPE_CHECKING, Any

from chanpub.contract import ChannelContext
from chanpub.errors import AuthError, ChannelError, PermanentError
from chanpub.i18n import _

if TYPE_CHECKING:
    import httpx

    from chanpub.channels.wordpress.channel import WordpressOptions

# Discovery tries two addresses: an answer in 4xx (but a 429) means "not here".
NOT_HERE = frozenset(range(400, 500)) - {429}


class WordpressRest:
    """One site's REST API, as one user."""

    def __init__(self, channel: str, options: WordpressOptions, context: ChannelContext) -> None:
        self.channel = channel
        self.options = options
        self.context = context
        self._api: str | None = None  # REST base found on first use
        self._capabilities: dict[str, Any] | None = None  # the user's, checked on first use
        self._http: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        """The shared client, asked once."""
        if self._http is None:
            self._http = self.context.http
        return self._http

    def api_base(self) -> str:
        """The REST base: /wp-json/, or ?rest_route= on sites without pretty permalinks."""
        if self._api is not None:
            return self._api
        from chanpub.http import send

        site = self.options.site
        tried = [f"{site}/wp-json/", f"{site}/?rest_route=/"]
        for url in tried:
            response = send(self.client, "GET", url, channel=self.channel, accept=NOT_HERE)
            root = json_or_none(response) if response.is_success else None
            if isinstance(root, dict) and "wp/v2" in (root.get("namespaces") or []):
                self._api = url
                return url
        raise PermanentError(
            _(
                "{channel}: no WordPress REST API at {tried}: check channels.{channel}.site (the "
                "address of the WordPress site) and that no plugin disables the REST API"
            ).format(channel=self.channel, tried=" or ".join(tried))
        )

    def capabilities(self) -> dict[str, Any]:
        """Who we are, asked once: a wrong password can otherwise pass as an anonymous
        visitor, whose requests WordPress answers with confusing errors."""
        if self._capabilities is None:
            me = decode(
                self.send(
                    "GET", "users/me", params={"context": "edit", "_fields": "id,capabilities"}
                ),
                self.channel,
                self.options.site,
            )
            self._capabilities = dict(me.get("capabilities") or {})
        return self._capabilities

    def send(
        self, method: str, path: str, *, accept: Container[int] = (), **kwargs: Any
    ) -> httpx.Response:
        """One authenticated call: the 2xx (or accepted) answer, else a ChannelError."""
        import httpx

        from chanpub.http import send

        auth = httpx.BasicAuth(self.options.username, self.options.app_password.get_secret_value())
        return send(
            self.client,
            method,
            f"{self.api_base()}wp/v2/{path}",  # /wp-json/wp/v2/posts or ?rest_route=/wp/v2/posts
            channel=self.channel,
            secret_variable=self.context.variable_for("app_password"),
            refine=self.refine,
            accept=accept,
            auth=auth,
            **kwargs,
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """An authenticated call returning the decoded JSON, or raising a ChannelError."""
        self.capabilities()
        return decode(self.send(method, path, **kwargs), self.channel, self.options.site)

    def refine(self, response: httpx.Response, error: ChannelError) -> ChannelError:
        """A 401 names the user and the Application Password's variable."""
        from chanpub.http import short_reason

        if response.status_code != 401:
            return error
        variable = self.context.variable_for("app_password")
        user = self.context.secrets.get("username")
        user_hint = f"${{{user}}}" if user else f"channels.{self.channel}.username"
        return AuthError(
            _(
                "{channel}: {site} refused the credentials (401 {reason}): check the user name "
                "in {user} and the Application Password in ${{{variable}}}"
            ).format(
                channel=self.channel,
                site=self.options.site,
                reason=short_reason(response),
                user=user_hint,
                variable=variable,
            ),
            variable=variable,
        )

    def refused(self, response: httpx.Response) -> ChannelError:
        """The error for an accepted non-2xx answer the caller did not expect."""
        from chanpub.http import error_for_response

        return self.refine(
            response,
            error_for_response(
                response,
                channel=self.channel,
                secret_variable=self.context.variable_for("app_password"),
            ),
        )


def decode(response: httpx.Response, channel: str, site: str) -> Any:
    """The answer's JSON, or a PermanentError when the site did not answer JSON."""
    payload = json_or_none(response)
    if payload is None:
        raise PermanentError(
            _("{channel}: {site} did not answer with JSON: check channels.{channel}.site").format(
                channel=channel, site=site
            )
        )
    return payload


def json_or_none(response: httpx.Response) -> Any:
    """The answer's JSON, or None."""
    try:
        return response.json()
    except ValueError:
        return None
