"""The options of an x channel: one style of credentials, complete."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

from chanpub.options import WebAddress

OAUTH1_KEYS = ("api_key", "api_secret", "access_token", "access_secret")


def _missing(*fields: str) -> Exception:
    """A pydantic error saying these fields are missing: a secret whose ${VAR} is unset
    then makes the channel 'not ready' rather than the config wrong."""
    from pydantic import ValidationError
    from pydantic_core import InitErrorDetails

    return ValidationError.from_exception_data(
        "XOptions", [InitErrorDetails(type="missing", loc=(k,), input=None) for k in fields]
    )


class XOptions(BaseModel):
    """Options of an x channel: the four OAuth 1.0a keys, or an OAuth 2.0 user token
    (`oauth2_token`, and/or `oauth2_refresh_token` with the app's `client_id`, plus
    `client_secret` for a confidential client, so chanpub can renew it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_base: WebAddress = "https://api.x.com"
    upload_base: WebAddress | None = None  # default: api_base
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_secret: SecretStr | None = None
    oauth2_token: SecretStr | None = None
    oauth2_refresh_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    template: str | None = None
    thread: bool = False

    @model_validator(mode="after")
    def _credentials(self) -> XOptions:
        """One style of credentials, complete; no credentials at all is caught by check()."""
        given = [k for k in OAUTH1_KEYS if getattr(self, k) is not None]
        if self.oauth2 and given:
            raise ValueError("give either the four OAuth 1.0a keys or an OAuth 2.0 token, not both")
        if given and len(given) != len(OAUTH1_KEYS):
            raise _missing(*(k for k in OAUTH1_KEYS if k not in given))
        if self.oauth2_refresh_token is not None and not self.client_id:
            raise ValueError(
                "oauth2_refresh_token needs client_id: the OAuth 2.0 Client ID of the app "
                "(developer portal, Keys and tokens)"
            )
        if (self.client_id or self.client_secret) and self.oauth2_refresh_token is None:
            raise _missing("oauth2_refresh_token")
        return self

    @property
    def oauth2(self) -> bool:
        """True for an OAuth 2.0 user token (given, or renewed from a refresh token)."""
        return self.oauth2_token is not None or self.oauth2_refresh_token is not None

    @property
    def has_credentials(self) -> bool:
        """True when either style of credentials is there."""
        return self.oauth2 or self.api_key is not None
