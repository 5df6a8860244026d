"""telegram: the release as a message (or the image with a caption) in a Telegram channel or
group, sent by a bot.

Service: the Telegram Bot API (or a local Bot API server at `api_base`). Docs:
https://core.telegram.org/bots/api#sendmessage and #sendphoto. Auth: the bot token, which
travels in the URL path (so URLs are never shown); the bot must be an administrator of the
channel with the right to post messages. Limits: 4,096 characters per message and 1,024
per photo caption, after entity parsing (counted here in UTF-16 units, after HTML
escaping); a photo at most 10 MB, width + height
at most 10,000 and a side ratio of at most 20 (the picture is fitted by
chanpub.render.media); about 20 messages a minute per channel, and a 429 carries
`parameters.retry_after`. Double posts: the Bot API has no idempotency key and no way to
read a channel's messages back, so there is no `lookup`: a send whose outcome is unknown is
flagged for a person, with the `chanpub resolve` command that settles it, and dispatch only
calls publish again once a person has said it did not go out. Corrections edit the messages
in place (https://core.telegram.org/bots/api#editmessagetext, #editmessagecaption);
retractions delete them within the 48 hours the Bot API allows
(https://core.telegram.org/bots/api#deletemessage), else edit them into a notice.

Options: bot_token, chat_id (numeric id or @channelname), api_base, template, thread.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from chanpub.channels.post_texts import social_parts
from chanpub.channels.telegram.botapi import CAPTION_LIMIT, MESSAGE_LIMIT, BotApi, telegram_length
from chanpub.channels.thread_posting import post_parts
from chanpub.contract import (
    Amendment,
    Capabilities,
    ChannelContext,
    Links,
    Mechanism,
    Preview,
    Receipt,
)
from chanpub.errors import PermanentError
from chanpub.files import read_file_for
from chanpub.i18n import N_, _
from chanpub.options import WebAddress
from chanpub.release import Release
from chanpub.render.media import MediaSpec, check_release_image, prepare_image
from chanpub.render.shaping import LengthRule

# sendPhoto: at most 10 MB, width + height at most 10,000, sides in a ratio of at most 20.
PHOTO_SPEC = MediaSpec("telegram", max_bytes=10_000_000, max_side_sum=10_000, aspect=(1 / 20, 20))
CHAT_ID = re.compile(r"-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31}")


class TelegramOptions(BaseModel):
    """Options of a telegram channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bot_token: SecretStr
    chat_id: str
    api_base: WebAddress = "https://api.telegram.org"
    template: str | None = None
    thread: bool = False

    @field_validator("chat_id", mode="before")
    @classmethod
    def _chat_id(cls, value: object) -> object:
        text = str(value).strip() if isinstance(value, int | str) else value
        if not isinstance(text, str) or not CHAT_ID.fullmatch(text):
            raise ValueError(
                "must be the chat's numeric id (e.g. -1001234567890) or a public channel's @name"
            )
        return text


class TelegramChannel:
    """Sends the release to a Telegram channel: a photo with caption, or a message."""

    channel_type: ClassVar[str] = "telegram"
    Options: ClassVar[type[BaseModel]] = TelegramOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        max_length=MESSAGE_LIMIT,
        length_unit=N_("characters"),
        images=1,
        corrections=Mechanism.EDIT,
        retractions=Mechanism.DELETE,
    )

    def __init__(self, name: str, options: TelegramOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context

    def check_release(self, release: Release) -> None:
        """The release's picture can be read, so it can be fitted (ReleaseError if not)."""
        check_release_image(release)

    def check(self) -> None:
        """The template compiles and uses only known fields."""
        from chanpub.render.social import check_post_template
        from chanpub.render.threads import check_thread_template

        checker = check_thread_template if self.options.thread else check_post_template
        checker(self.options.template, f"channels.{self.name}.template")

    def preview(self, release: Release, links: Links) -> Preview:
        """The message (or caption, or the thread's messages) exactly as it will be sent."""
        message = LengthRule(MESSAGE_LIMIT, N_("characters"), telegram_length)
        caption = LengthRule(CAPTION_LIMIT, N_("characters"), telegram_length)
        first = caption if release.image else message
        parts, warnings = social_parts(self, release, links, message, first_rule=first)
        fitted, note = prepare_image(release, PHOTO_SPEC, self.context.state_dir)
        if note:
            warnings.append(note)
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            text="\n\n---\n\n".join(parts),
            html="\n\n".join(html.escape(part, quote=False) for part in parts),
            length=max(telegram_length(part) for part in parts),
            limit=first.limit,
            unit=N_("characters"),
            warnings=tuple(warnings),
            attachments=(fitted.path,) if fitted else (),
            parts=tuple(parts),
            data={
                "url": links.canonical_url or "",
                "photo": str(fitted.path) if fitted else "",
                "photo_name": fitted.filename(release.image.stem)
                if fitted and release.image
                else "",
                "photo_mime": fitted.mime if fitted else "",
                "photo_problem": "" if fitted else note or "",
            },
        )

    # --- publishing ---------------------------------------------------------------------

    @property
    def api(self) -> BotApi:
        """The bot's calls to this channel's chat."""
        options = self.options
        return BotApi(
            self.name,
            options.bot_token.get_secret_value(),
            options.api_base,
            options.chat_id,
            self.context,
        )

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Send the message (or the thread, resuming where an earlier run stopped)."""
        parts: list[str] = list(preview.posts)

        def post(index: int, ids: Sequence[str]) -> str:
            text = html.escape(parts[index], quote=False)
            fields: dict[str, Any] = {"chat_id": self.options.chat_id, "parse_mode": "HTML"}
            if index > 0:
                fields["reply_parameters"] = {"message_id": json.loads(ids[index - 1])["id"]}
            if index == 0 and preview.release.image:
                fields["caption"] = text
                upload = self._photo(preview)
                form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
                message = self.api.call("sendPhoto", data=form, files={"photo": upload})
            else:
                fields["text"] = text
                if index == 0 and preview.data["url"]:
                    fields["link_preview_options"] = {"url": preview.data["url"]}
                message = self.api.call("sendMessage", json=fields)
            photo = index == 0 and bool(preview.release.image)
            return json.dumps(
                {"id": message["message_id"], "url": self._url(message), "photo": photo}
            )

        ids = post_parts(
            self.context.journal(key),
            len(parts),
            post,
            lambda i, ids: None,  # the Bot API cannot read a channel back: a person settles it
            channel=self.name,
            receipt=self._receipt,
        )
        return self._receipt(ids)

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """Correct the messages in place (editMessageText / editMessageCaption), or withdraw
        them (deleteMessage within 48 hours, else an edit saying so); see amend.py."""
        from chanpub.channels.telegram.amend import amend_messages

        return amend_messages(self, preview, amendment, key)

    def _photo(self, preview: Preview) -> tuple[str, bytes, str]:
        """The fitted photo as a multipart file (name, bytes, type)."""
        data = preview.data
        if not data["photo"]:
            raise PermanentError(
                _("{channel}: {problem}").format(channel=self.name, problem=data["photo_problem"])
            )
        content = read_file_for(self.name, Path(data["photo"]))
        return data["photo_name"], content, data["photo_mime"]

    def _url(self, message: dict[str, Any]) -> str | None:
        """The public link of a message in a channel with a username, else None."""
        chat = message.get("chat") or {}
        username = chat.get("username") or (
            self.options.chat_id[1:] if self.options.chat_id.startswith("@") else None
        )
        return f"https://t.me/{username}/{message['message_id']}" if username else None

    def _receipt(self, ids: Sequence[str]) -> Receipt:
        first = json.loads(ids[0])
        details: dict[str, Any] = {
            "chat_id": self.options.chat_id,
            "photo": bool(first.get("photo")),
        }
        if len(ids) > 1:
            details.update(parts=len(ids), ids=[json.loads(item)["id"] for item in ids])
        return Receipt(
            remote_id=str(first["id"]),
            url=first["url"],
            published_at=datetime.now(UTC),
            details=details,
        )

    def verify(self) -> None:
        """The bot token works: getMe."""
        self.api.call("getMe")
