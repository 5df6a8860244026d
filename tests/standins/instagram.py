"""A strict Instagram professional account (content publishing), from Meta's documentation.

Rules enforced, and where they are written (token, version and errors: tests.standins.graph):
- POST /{ig-user-id}/media with `image_url` (Meta fetches it: here through `fetch`),
  `caption`, `alt_text` -> `{"id": <container>}`; caption at most 2,200 characters, 30
  hashtags, 20 @-mentions:
  https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
- Images: JPEG only, at most 8 MiB, aspect ratio between 4:5 and 1.91:1 -> error codes
  36001/2207005 (format), 36000/2207004 (size), 36003/2207009 (ratio); an image that
  cannot be fetched -> 9004/2207052:
  https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media#image-specifications
  and https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes
- Container status: GET /{container-id}?fields=status_code -> IN_PROGRESS, FINISHED,
  ERROR, EXPIRED (24 h), PUBLISHED; query it at most once a minute for at most five
  minutes (polls closer than 60 s are counted in `fast_polls`, not refused):
  https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container
  and https://developers.facebook.com/docs/instagram-platform/content-publishing#troubleshooting
- POST /{ig-user-id}/media_publish `creation_id`: only a FINISHED container -> otherwise
  9007/2207027 "media is not ready"; 50 posts per rolling 24 h -> 9/2207042:
  https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media_publish
  and .../ig-user/content_publishing_limit
- GET /{ig-user-id}/media (newest first): .../reference/ig-user/media#reading
- Comments on own media: POST /{ig-media-id}/comments `message`; GET lists them (`id`,
  `text`, `timestamp`):
  https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments
- Instagram Login tokens (host graph.instagram.com): GET /refresh_access_token (no version)
  with `grant_type=ig_refresh_token` refreshes a long-lived token that is at least 24 hours
  old and unexpired, for 60 days -> `{access_token, token_type, expires_in}`:
  https://developers.facebook.com/docs/instagram-platform/reference/refresh_access_token
  (the code of the refusal of a younger token is not documented; (#100) here).
- Captions cannot be edited (POST /{ig-media-id} takes only `comment_enabled`) and the
  reference offers no DELETE on media: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from .base import Body, Clock, inspect_image
from .graph import GraphStandIn, graph_error

CAPTION_LIMIT = 2200
HASHTAG_LIMIT = 30
MENTION_LIMIT = 20
IMAGE_BYTES = 8 * 1024 * 1024
RATIO_RANGE = (4 / 5, 1.91)
POLL_INTERVAL = 60.0
POLL_WINDOW = 300.0
CONTAINER_LIFETIME = timedelta(hours=24)
QUOTA = 50
REFRESHED_LIFETIME = 60 * 86400
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")


class InstagramStandIn(GraphStandIn):
    """One professional account (`account_id`); `fetch(url)` gives the bytes Meta would
    download from a public URL, or None when the URL does not answer."""

    def __init__(
        self,
        token: str,
        fetch: Callable[[str], bytes | None],
        account_id: str = "17841400000000001",
        *,
        clock: Clock | None = None,
        lifetime: float | None = None,
        processing_seconds: float = 30.0,
    ) -> None:
        super().__init__(token, clock=clock, lifetime=lifetime)
        self.fetch = fetch
        self.account_id = account_id
        self.processing_seconds = processing_seconds
        self.containers: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.comments: list[dict[str, Any]] = []
        self.fast_polls = 0  # status queries closer than a minute to the previous one
        self._next = 1000
        self.issued = {token: self.clock.now()}  # when each token was issued or refreshed

    def route(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/refresh_access_token" and request.method == "GET":
            return self.refresh(dict(request.url.params))
        return super().route(request)

    def refresh(self, params: dict[str, str]) -> httpx.Response:
        """GET /refresh_access_token: a new 60-day token for one at least a day old."""
        token = params.get("access_token", "")
        if params.get("grant_type") != "ig_refresh_token":
            return graph_error(100, "(#100) grant_type must be ig_refresh_token")
        if self.tokens.check(token) != "ok":
            return graph_error(190, "Error validating access token", subcode=463)
        if self.clock.now() - self.issued[token] < timedelta(hours=24):
            return graph_error(100, "(#100) The access token is less than 24 hours old")
        fresh = f"{token.split('~')[0]}~{self._id()}"
        self.tokens.add(fresh, lifetime=REFRESHED_LIFETIME)
        self.issued[fresh] = self.clock.now()
        return httpx.Response(
            200,
            json={"access_token": fresh, "token_type": "bearer", "expires_in": REFRESHED_LIFETIME},
        )

    def _id(self) -> str:
        self._next += 1
        return f"1790{self._next:08d}"

    def graph_route(
        self, method: str, segments: list[str], params: dict[str, str], body: Body
    ) -> httpx.Response:
        me = self.account_id
        if segments == [me] and method == "GET":
            return httpx.Response(200, json={"id": me, "username": "kominfokota"})
        if segments == [me, "media"]:
            return self.create(body) if method == "POST" else self.list_media(params)
        if segments == [me, "media_publish"] and method == "POST":
            return self.publish(body.get("creation_id") or "")
        if segments == [me, "content_publishing_limit"] and method == "GET":
            used = sum(
                1
                for m in self.media.values()
                if self.clock.now() - m["published"] < timedelta(days=1)
            )
            return httpx.Response(
                200,
                json={
                    "data": [
                        {
                            "quota_usage": used,
                            "config": {"quota_total": QUOTA, "quota_duration": 86400},
                        }
                    ]
                },
            )
        if len(segments) == 1 and segments[0] in self.containers and method == "GET":
            return self.status(self.containers[segments[0]], params)
        if segments and segments[0] in self.media:
            return self.media_route(method, self.media[segments[0]], segments[1:], body, params)
        return self.unsupported(method, segments)

    # --- containers -------------------------------------------------------------------

    def create(self, body: Body) -> httpx.Response:
        caption = body.get("caption") or ""
        if len(caption) > CAPTION_LIMIT:
            return graph_error(
                100,
                f"(#100) The caption is longer than {CAPTION_LIMIT} characters",
                subcode=2207010,
            )
        if len(_HASHTAG.findall(caption)) > HASHTAG_LIMIT:
            return graph_error(100, f"(#100) The caption has more than {HASHTAG_LIMIT} hashtags")
        if len(_MENTION.findall(caption)) > MENTION_LIMIT:
            return graph_error(100, f"(#100) The caption has more than {MENTION_LIMIT} @ mentions")
        url = body.get("image_url")
        if not url:
            return graph_error(100, "(#100) The parameter image_url is required.")
        problem = self._image_problem(url)
        if problem:
            return problem
        container_id = self._id()
        self.containers[container_id] = {
            "id": container_id,
            "caption": caption,
            "alt_text": body.get("alt_text"),
            "image_url": url,
            "created": self.clock.now(),
            "published": None,
            "polls": [],
        }
        return httpx.Response(200, json={"id": container_id})

    def _image_problem(self, url: str) -> httpx.Response | None:
        data = self.fetch(url)
        if data is None:
            return graph_error(
                9004,
                "Media download has failed. The media URI doesn't meet our requirements.",
                subcode=2207052,
                user_title="Media download failed",
                user_msg="The media could not be fetched from this URI.",
            )
        info = inspect_image(data)
        if info is None or info.format != "JPEG":
            return graph_error(
                36001,
                "The image format is not supported.",
                subcode=2207005,
                user_title="Image format not supported",
                user_msg="The image format is not supported. Only JPEG images can be published.",
            )
        if info.size > IMAGE_BYTES:
            return graph_error(
                36000,
                "The image size is too large.",
                subcode=2207004,
                user_title="Image size too large",
                user_msg="The image is too large to download. It should be less than 8 MiB.",
            )
        if not RATIO_RANGE[0] <= round(info.ratio, 2) <= RATIO_RANGE[1]:
            return graph_error(
                36003,
                "The aspect ratio is not supported.",
                subcode=2207009,
                user_title="Cannot publish the image",
                user_msg=f"The submitted image with aspect ratio ('{info.width}/{info.height}') cannot be published. Please submit an image with a valid aspect ratio.",
            )
        return None

    def _state(self, container: dict[str, Any]) -> str:
        if container["published"]:
            return "PUBLISHED"
        age = self.clock.now() - container["created"]
        if age >= CONTAINER_LIFETIME:
            return "EXPIRED"
        return "FINISHED" if age.total_seconds() >= self.processing_seconds else "IN_PROGRESS"

    def status(self, container: dict[str, Any], params: dict[str, str]) -> httpx.Response:
        polls: list[Any] = container["polls"]
        if polls and (self.clock.now() - polls[-1]).total_seconds() < POLL_INTERVAL:
            self.fast_polls += 1
        polls.append(self.clock.now())
        state = self._state(container)
        values = {"id": container["id"], "status_code": state, "status": f"{state}: stand-in"}
        fields = params.get("fields", "id").split(",")
        return httpx.Response(200, json={f: values[f] for f in ["id", *fields] if f in values})

    def publish(self, creation_id: str) -> httpx.Response:
        container = self.containers.get(creation_id)
        if container is None:
            return self.unsupported("POST", [creation_id])
        state = self._state(container)
        if state == "PUBLISHED":
            return graph_error(100, "(#100) The container has already been published")
        if state == "EXPIRED":
            return graph_error(
                -2,
                "The media you are trying to access has expired. Please try to upload again.",
                subcode=2207020,
            )
        if state != "FINISHED":
            return graph_error(
                9007,
                "Media ID is not available",
                subcode=2207027,
                user_title="Media not ready",
                user_msg="The media is not ready for publishing, please wait for a moment",
            )
        day_ago = self.clock.now() - timedelta(days=1)
        if sum(1 for m in self.media.values() if m["published"] > day_ago) >= QUOTA:
            return graph_error(
                9,
                "Application request limit reached",
                subcode=2207042,
                user_msg="You reached maximum number of posts that is allowed to be published by Content Publishing API.",
            )
        media_id = self._id()
        container["published"] = media_id
        self.media[media_id] = {
            "id": media_id,
            "caption": container["caption"],
            "alt_text": container["alt_text"],
            "published": self.clock.now(),
            "container": creation_id,
        }
        return httpx.Response(200, json={"id": media_id})

    # --- media ------------------------------------------------------------------------

    def _media_json(self, media: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": media["id"],
            "caption": media["caption"],
            "timestamp": media["published"].strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "permalink": f"https://www.instagram.com/p/SI{media['id'][-6:]}/",
            "media_type": "IMAGE",
        }

    def list_media(self, params: dict[str, str]) -> httpx.Response:
        newest = sorted(self.media.values(), key=lambda m: m["published"], reverse=True)
        newest = newest[: int(params.get("limit", "25"))]
        fields = params.get("fields", "id").split(",")
        data = [
            {f: v for f, v in self._media_json(m).items() if f in ["id", *fields]} for m in newest
        ]
        return httpx.Response(200, json={"data": data})

    def media_route(
        self,
        method: str,
        media: dict[str, Any],
        rest: list[str],
        body: Body,
        params: dict[str, str],
    ) -> httpx.Response:
        if rest == ["comments"] and method == "GET":
            mine = [c for c in self.comments if c["media"] == media["id"]]
            return httpx.Response(
                200, json={"data": [{"id": c["id"], "text": c["text"]} for c in mine]}
            )
        if rest == ["comments"] and method == "POST":
            message = body.get("message")
            if not message:
                return graph_error(100, "(#100) The parameter message is required.")
            comment = {"id": self._id(), "media": media["id"], "text": message}
            self.comments.append(comment)
            return httpx.Response(200, json={"id": comment["id"]})
        if not rest and method == "GET":
            fields = params.get("fields", "id").split(",")
            return httpx.Response(
                200, json={f: v for f, v in self._media_json(media).items() if f in ["id", *fields]}
            )
        if not rest and method == "POST":
            if set(body.fields) - {"comment_enabled", "access_token"}:
                return graph_error(100, "(#100) Only comment_enabled can be updated on IG media")
            return httpx.Response(200, json={"success": True})
        return self.unsupported(method, [media["id"], *rest])
