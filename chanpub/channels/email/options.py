"""The options of an email channel (both transports), as channels.yaml gives them."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class RecipientList(BaseModel):
    """A named list: its sources and, for subscribers, an unsubscribe link."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: list[str]
    unsubscribe: str | None = None  # URL or mailto: with {email} and {token} placeholders


class EmailOptions(BaseModel):
    """Options of an email channel (both transports)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    transport: Literal["outbox", "smtp"] = "outbox"
    path: str | None = None
    sender: str = Field(alias="from")
    reply_to: str | None = None
    lists: list[str] | dict[str, list[str] | RecipientList]
    subject_prefix: str | None = None
    attach: list[str] = []
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    connections: int = Field(default=1, ge=1, le=16)
    rate_per_minute: int = Field(default=0, ge=0)
    timeout: float = Field(default=30.0, gt=0, le=600)
    verify_tls: bool = True

    @field_validator("sender", "reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and "@" not in parseaddr(value)[1]:
            raise ValueError(
                'is not an e-mail address: write e.g. "Diskominfo <humas@example.go.id>"'
            )
        return value

    @model_validator(mode="after")
    def _transport_needs(self) -> EmailOptions:
        if self.transport == "outbox" and not self.path:
            raise ValueError("the outbox transport needs 'path:' (the folder for .eml files)")
        if self.transport == "smtp" and not self.host:
            raise ValueError("the smtp transport needs 'host:' (the SMTP server)")
        return self

    def named_lists(self) -> dict[str, RecipientList]:
        """Every list by name; a plain list of sources is the list 'default'."""
        if isinstance(self.lists, list):
            return {"default": RecipientList(sources=self.lists)}
        return {
            name: spec if isinstance(spec, RecipientList) else RecipientList(sources=spec)
            for name, spec in self.lists.items()
        }
