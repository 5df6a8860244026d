"""A strict Mastodon instance with one account, written from Mastodon's documentation.

Rules enforced, and where they are written:
- Bearer token on every authenticated call; missing, wrong or expired -> 401
  `{"error": ...}`: https://docs.joinmastodon.org/client/token/ and
  https://docs.joinmastodon.org/methods/statuses/#create (401 "The access token is invalid").
- Status length: `configuration.statuses.max_characters` of GET /api/v2/instance, counted
  as the server's StatusLengthValidator counts (spoiler + text, every URL as 23, a remote
  `@user@domain` as `@user`, grapheme clusters) -> 422 "Validation failed: Text character
  limit of N exceeded": https://docs.joinmastodon.org/methods/instance/#v2,
  https://docs.joinmastodon.org/user/posting/#text and mastodon/mastodon
  app/validators/status_length_validator.rb (counting: chanpub.channels.mastodon_text).
- Blank text without media -> 422; `visibility` one of public, unlisted, private, direct;
  at most `max_media_attachments`; media still processing cannot be attached (422):
  https://docs.joinmastodon.org/methods/statuses/#create
- Media: POST /api/v2/media with `file` (MIME type in `supported_mime_types`, at most
  `image_size_limit` bytes and `image_matrix_limit` pixels, `description` at most 1,500
  characters) -> 200, or 202 then GET /api/v1/media/:id 206 until processed:
  https://docs.joinmastodon.org/methods/media/#v2 and the instance configuration above.
- Idempotency-Key: a repeat with the same key within an hour returns the first status:
  https://docs.joinmastodon.org/methods/statuses/#create (header section).
- Edits keep history: PUT /api/v1/statuses/:id, GET /api/v1/statuses/:id/history;
  the plain source of a status: GET /api/v1/statuses/:id/source;
  DELETE /api/v1/statuses/:id; a gone status -> 404 "Record not found":
  https://docs.joinmastodon.org/methods/statuses/#edit, #history, #source, #delete
- Recovery: GET /api/v1/accounts/verify_credentials, GET /api/v1/accounts/:id/statuses
  (newest first, `limit` default 20, at most 40):
  https://docs.joinmastodon.org/methods/accounts/#statuses
- Rate limits: 429 `{"error": "Too many requests"}`; `X-RateLimit-Reset` is an ISO 8601
  time (here the only rate-limit header sent, as the issue saw); media uploads 30 per 30
  minutes: https://docs.joinmastodon.org/api/rate-limits/. Every answer carries `Date`
  (the stand-in's clock), as every HTTP server does (RFC 9110 §6.6.1).
The 422 reason strings are Mastodon's English ones; only the status code is documented.
"""

from __future__ import annotations

import email.utils
import html
from datetime import datetime, timedelta
from typing import Any

import httpx
import regex

from chanpub.channels.mastodon_text import countable_text

from .base import Body, Clock, StandIn, Tokens, inspect_image, read_body

VISIBILITIES = ("public", "unlisted", "private", "direct")
DESCRIPTION_LIMIT = 1500
IDEMPOTENCY_SECONDS = 3600
MEDIA_BUDGET = (30, 1800)  # uploads per seconds
ACCOUNT_ID = "109"


def mastodon_length(text: str) -> int:
    """The length Mastodon's validator sees (URLs 23, remote mentions local, graphemes)."""
    return len(regex.findall(r"\X", countable_text(text)))


def _error(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": message})


def _content(text: str) -> str:
    """Plain text as Mastodon renders it: paragraphs, line breaks, escaped."""
    paragraphs = [p for p in text.split("\n\n") if p]
    return "".join(
        "<p>" + "<br />".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


class MastodonStandIn(StandIn):
    """One account (`kominfo`, id 109) on an instance at `base`."""

    def __init__(
        self,
        token: str,
        *,
        base: str = "https://sosial.kotacontoh.go.id",
        clock: Clock | None = None,
        max_characters: int = 500,
        max_media_attachments: int = 4,
        image_size_limit: int = 16 * 1024 * 1024,
        image_matrix_limit: int = 33_177_600,
        supported_mime_types: tuple[str, ...] = (
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/webp",
        ),
        processing_polls: int = 0,
    ) -> None:
        super().__init__(clock)
        self.base = base
        self.tokens = Tokens(self.clock)
        self.tokens.add(token)
        self.max_characters = max_characters
        self.max_media_attachments = max_media_attachments
        self.image_size_limit = image_size_limit
        self.image_matrix_limit = image_matrix_limit
        self.supported_mime_types = supported_mime_types
        self.processing_polls = processing_polls  # 206 answers before a 200
        self.statuses: dict[str, dict[str, Any]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, tuple[str, datetime]] = {}
        self.uploads: list[datetime] = []
        self._next = 111000

    # --- what tests look at ---------------------------------------------------------

    def live(self) -> list[dict[str, Any]]:
        """The account's statuses that exist now, oldest first."""
        return [s for s in self.statuses.values() if not s.get("deleted")]

    # --- routing --------------------------------------------------------------------

    def route(self, request: httpx.Request) -> httpx.Response:
        response = self.answer(request)
        response.headers["Date"] = self.http_date()
        return response

    def http_date(self) -> str:
        """The stand-in's clock as an HTTP `Date` header (RFC 9110 §6.6.1), which every
        answer carries."""
        return email.utils.format_datetime(self.clock.now(), usegmt=True)

    def answer(self, request: httpx.Request) -> httpx.Response:
        """The answer to one request, before the `Date` header is added."""
        path = request.url.path
        if (request.method, path) == ("GET", "/api/v2/instance"):
            return httpx.Response(200, json=self.instance())
        auth = request.headers.get("Authorization", "")
        state = self.tokens.check(
            auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        )
        if state == "missing":
            return _error(401, "This method requires an authenticated user")
        if state == "expired":
            return _error(401, "The access token expired")
        if state != "ok":
            return _error(401, "The access token is invalid")
        parts = path.strip("/").split("/")
        method = request.method
        if path == "/api/v1/accounts/verify_credentials" and method == "GET":
            return httpx.Response(
                200, json={"id": ACCOUNT_ID, "username": "kominfo", "acct": "kominfo"}
            )
        if path == f"/api/v1/accounts/{ACCOUNT_ID}/statuses" and method == "GET":
            return self.account_statuses(request)
        if path == "/api/v2/media" and method == "POST":
            return self.upload(read_body(request))
        if parts[:3] == ["api", "v1", "media"] and len(parts) == 4 and method == "GET":
            return self.media_status(parts[3])
        if path == "/api/v1/statuses" and method == "POST":
            return self.create(request)
        if parts[:3] == ["api", "v1", "statuses"] and len(parts) >= 4:
            return self.status_route(method, parts[3], parts[4:], request)
        return _error(404, "Record not found")

    def too_many(self, request: httpx.Request, until: datetime) -> httpx.Response:
        reset = until.isoformat(timespec="microseconds").replace("+00:00", "Z")
        return httpx.Response(
            429,
            json={"error": "Too many requests"},
            headers={"X-RateLimit-Reset": reset, "Date": self.http_date()},
        )

    def instance(self) -> dict[str, Any]:
        """The GET /api/v2/instance document (configuration part)."""
        return {
            "domain": httpx.URL(self.base).host,
            "configuration": {
                "statuses": {
                    "max_characters": self.max_characters,
                    "max_media_attachments": self.max_media_attachments,
                    "characters_reserved_per_url": 23,
                },
                "media_attachments": {
                    "supported_mime_types": list(self.supported_mime_types),
                    "image_size_limit": self.image_size_limit,
                    "image_matrix_limit": self.image_matrix_limit,
                    "description_limit": DESCRIPTION_LIMIT,
                },
            },
        }

    # --- media ----------------------------------------------------------------------

    def upload(self, body: Body) -> httpx.Response:
        window_start = self.clock.now() - timedelta(seconds=MEDIA_BUDGET[1])
        self.uploads = [t for t in self.uploads if t > window_start]
        if len(self.uploads) >= MEDIA_BUDGET[0]:
            return self.too_many_until(self.uploads[0] + timedelta(seconds=MEDIA_BUDGET[1]))
        if "file" not in body.files:
            return _error(422, "Validation failed: File can't be blank")
        filename, data, mime = body.files["file"]
        info = inspect_image(data)
        actual = f"image/{info.format.lower()}" if info else mime
        if actual not in self.supported_mime_types:
            return _error(422, "Validation failed: File content type is invalid")
        if len(data) > self.image_size_limit:
            limit = self.image_size_limit // (1024 * 1024)
            return _error(422, f"Validation failed: File file size must be less than {limit} MB")
        if info and info.width * info.height > self.image_matrix_limit:
            return _error(422, "Validation failed: File dimensions are too large")
        description = body.get("description") or ""
        if len(description) > DESCRIPTION_LIMIT:
            return _error(
                422, "Validation failed: Description is too long (maximum is 1500 characters)"
            )
        self.uploads.append(self.clock.now())
        media_id = str(7000 + len(self.media))
        item = {
            "id": media_id,
            "type": "image",
            "description": description or None,
            "polls_left": self.processing_polls,
            "attached": False,
            "filename": filename,
        }
        self.media[media_id] = item
        ready = self.processing_polls == 0
        return httpx.Response(200 if ready else 202, json=self._media_json(item, ready))

    def too_many_until(self, until: datetime) -> httpx.Response:
        """A 429 whose reset is `until`."""
        return self.too_many(httpx.Request("GET", self.base), until)

    def _media_json(self, item: dict[str, Any], ready: bool) -> dict[str, Any]:
        url = f"{self.base}/system/media/{item['id']}.jpg"
        return {
            "id": item["id"],
            "type": "image",
            "url": url if ready else None,
            "preview_url": url,
            "description": item["description"],
        }

    def media_status(self, media_id: str) -> httpx.Response:
        item = self.media.get(media_id)
        if item is None:
            return _error(404, "Record not found")
        if item["polls_left"] > 0:
            item["polls_left"] -= 1
            return httpx.Response(206, json=self._media_json(item, False))
        return httpx.Response(200, json=self._media_json(item, True))

    def _media_problem(self, ids: list[str], keep: set[str]) -> httpx.Response | None:
        if len(ids) > self.max_media_attachments:
            return _error(
                422,
                f"Validation failed: Cannot attach more than {self.max_media_attachments} files",
            )
        for media_id in ids:
            item = self.media.get(media_id)
            if item is None or (item["attached"] and media_id not in keep):
                return _error(422, "Validation failed: Media attachments are invalid")
            if item["polls_left"] > 0:
                return _error(
                    422,
                    "Cannot attach files that have not finished processing. Try again in a moment!",
                )
        return None

    # --- statuses -------------------------------------------------------------------

    def _text_problem(self, body: Body, media_ids: list[str]) -> httpx.Response | None:
        text = body.get("status") or ""
        if not text.strip() and not media_ids:
            return _error(422, "Validation failed: Text can't be blank")
        if mastodon_length((body.get("spoiler_text") or "") + text) > self.max_characters:
            return _error(
                422, f"Validation failed: Text character limit of {self.max_characters} exceeded"
            )
        return None

    def create(self, request: httpx.Request) -> httpx.Response:
        body = read_body(request)
        key = request.headers.get("Idempotency-Key")
        if key and key in self.keys:
            status_id, when = self.keys[key]
            if self.clock.now() - when < timedelta(seconds=IDEMPOTENCY_SECONDS):
                return httpx.Response(200, json=self.statuses[status_id])
        media_ids = body.get_list("media_ids[]")
        problem = self._text_problem(body, media_ids) or self._media_problem(media_ids, set())
        if problem:
            return problem
        visibility = body.get("visibility") or "public"
        if visibility not in VISIBILITIES:
            return _error(422, "Validation failed: Visibility is not included in the list")
        parent = body.get("in_reply_to_id")
        if parent and (parent not in self.statuses or self.statuses[parent].get("deleted")):
            return _error(404, "Record not found")
        self._next += 1
        status_id = str(self._next)
        now = self.clock.now().isoformat().replace("+00:00", "Z")
        text = body.get("status") or ""
        status = {
            "id": status_id,
            "url": f"{self.base}/@kominfo/{status_id}",
            "uri": f"{self.base}/users/kominfo/statuses/{status_id}",
            "created_at": now,
            "edited_at": None,
            "content": _content(text),
            "text": text,
            "spoiler_text": body.get("spoiler_text") or "",
            "in_reply_to_id": parent,
            "language": body.get("language"),
            "visibility": visibility,
            "media_attachments": [self._media_json(self.media[m], True) for m in media_ids],
        }
        for media_id in media_ids:
            self.media[media_id]["attached"] = True
        self.statuses[status_id] = status
        self.history[status_id] = [self._version(status)]
        if key:
            self.keys[key] = (status_id, self.clock.now())
        return httpx.Response(200, json=self._public(status))

    def _version(self, status: dict[str, Any]) -> dict[str, Any]:
        return {key: status[key] for key in ("content", "spoiler_text", "media_attachments")} | {
            "created_at": status["edited_at"] or status["created_at"]
        }

    @staticmethod
    def _public(status: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in status.items() if k not in ("text", "deleted")}

    def status_route(
        self, method: str, status_id: str, rest: list[str], request: httpx.Request
    ) -> httpx.Response:
        status = self.statuses.get(status_id)
        if status is None or status.get("deleted"):
            return _error(404, "Record not found")
        if method == "GET" and rest == ["source"]:
            return httpx.Response(
                200,
                json={
                    "id": status_id,
                    "text": status["text"],
                    "spoiler_text": status["spoiler_text"],
                },
            )
        if method == "GET" and rest == ["history"]:
            return httpx.Response(200, json=self.history[status_id])
        if method == "GET" and not rest:
            return httpx.Response(200, json=self._public(status))
        if method == "PUT" and not rest:
            return self.edit(status, read_body(request))
        if method == "DELETE" and not rest:
            status["deleted"] = True
            for media in status["media_attachments"]:
                self.media[media["id"]]["attached"] = False
            return httpx.Response(200, json=status | {"deleted": None})
        return _error(404, "Record not found")

    def edit(self, status: dict[str, Any], body: Body) -> httpx.Response:
        current = [m["id"] for m in status["media_attachments"]]
        media_ids = body.get_list("media_ids[]") if "media_ids[]" in body.fields else current
        problem = self._text_problem(body, media_ids) or self._media_problem(
            media_ids, set(current)
        )
        if problem:
            return problem
        text = body.get("status") or ""
        status.update(
            content=_content(text),
            text=text,
            spoiler_text=body.get("spoiler_text") or "",
            language=body.get("language") or status["language"],
            edited_at=self.clock.now().isoformat().replace("+00:00", "Z"),
            media_attachments=[self._media_json(self.media[m], True) for m in media_ids],
        )
        for media_id in media_ids:
            self.media[media_id]["attached"] = True
        self.history[status["id"]].append(self._version(status))
        return httpx.Response(200, json=self._public(status))

    def account_statuses(self, request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params.get("limit", "20"))
        newest = list(reversed(self.live()))[: min(limit, 40)]
        return httpx.Response(200, json=[self._public(s) for s in newest])
