"""A strict Facebook Page on the Graph API, written from Meta's documentation.

Rules enforced, and where they are written (token, version and errors: tests.standins.graph):
- POST /{page-id}/feed with `message` and/or `link` -> `{"id": "{page-id}_{post-id}"}`;
  neither -> (#100): https://developers.facebook.com/docs/pages-api/posts
- POST /{page-id}/photos with `source` (multipart) or `url`, text in `caption` or
  `message`, alt text in `alt_text_custom` -> `{"id", "post_id"}`; no image -> (#324);
  formats JPEG, BMP, PNG, GIF, TIFF:
  https://developers.facebook.com/docs/graph-api/reference/page/photos/ and
  https://developers.facebook.com/docs/graph-api/reference/photo/ (alt_text_custom)
- The same message posted again -> (#506) "Duplicate status message" (code 506 in
  https://developers.facebook.com/docs/graph-api/guides/error-handling)
- GET /{page-id}/feed?fields=...&since=...: the `link` field is deprecated since v3.3 ->
  "(#12) link field is deprecated for versions v3.3 and higher"; an unknown field ->
  (#100) "Tried accessing nonexisting field":
  https://developers.facebook.com/docs/graph-api/reference/page/feed/ and
  https://developers.facebook.com/docs/graph-api/changelog/version3.3
- Edit: POST /{post-id} with `message` -> `{"success": true}`; delete: DELETE /{post-id}
  -> `{"success": true}`; a post that is gone -> (#100) subcode 33:
  https://developers.facebook.com/docs/pages-api/posts (Update a Post, Delete a Post)
- GET /me names the Page the token belongs to: https://developers.facebook.com/docs/pages-api/getting-started
`require_alt_text=True` makes a photo without `alt_text_custom` refused with (#100): that is
the project's rule for its tests, not Meta's (Meta accepts such a photo).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from .base import Body, Clock, inspect_image
from .graph import GraphStandIn, graph_error

FEED_FIELDS = {
    "id", "message", "created_time", "updated_time", "permalink_url", "story", "full_picture",
    "from", "status_type", "is_published", "attachments", "message_tags",
}  # fmt: skip
PHOTO_FORMATS = {"JPEG", "BMP", "PNG", "GIF", "TIFF"}


class FacebookStandIn(GraphStandIn):
    """One Page (`page_id`) whose Page token is `token`."""

    def __init__(
        self,
        token: str,
        page_id: str = "104857600123456",
        *,
        clock: Clock | None = None,
        lifetime: float | None = None,
        require_alt_text: bool = False,
    ) -> None:
        super().__init__(token, clock=clock, lifetime=lifetime)
        self.page_id = page_id
        self.require_alt_text = require_alt_text
        self.posts: dict[str, dict[str, Any]] = {}
        self._next = 900

    def live(self) -> list[dict[str, Any]]:
        """The Page's posts that exist now, oldest first."""
        return [p for p in self.posts.values() if not p.get("deleted")]

    def graph_route(
        self, method: str, segments: list[str], params: dict[str, str], body: Body
    ) -> httpx.Response:
        if segments == ["me"] and method == "GET":
            return httpx.Response(200, json={"id": self.page_id, "name": "Kominfo Kota Contoh"})
        if segments == [self.page_id, "feed"]:
            if method == "POST":
                return self.create(body, photo=False)
            if method == "GET":
                return self.feed(params)
        if segments == [self.page_id, "photos"] and method == "POST":
            return self.create(body, photo=True)
        if (
            len(segments) == 1
            and segments[0] in self.posts
            and not self.posts[segments[0]].get("deleted")
        ):
            post = self.posts[segments[0]]
            if method == "POST":
                return self.edit(post, body)
            if method == "DELETE":
                post["deleted"] = True
                return httpx.Response(200, json={"success": True})
            if method == "GET":
                return self.fields_of(post, params.get("fields", "id,message,created_time"))
        return self.unsupported(method, segments)

    # --- create -----------------------------------------------------------------------

    def create(self, body: Body, *, photo: bool) -> httpx.Response:
        message = body.get("caption") or body.get("message") if photo else body.get("message")
        record: dict[str, Any] = {"message": message or None, "link": body.get("link")}
        if photo:
            problem = self._photo_problem(body)
            if problem:
                return problem
            record["alt_text"] = body.get("alt_text_custom")
            record["kind"] = "photo"
            record["photo"] = body.files["source"][1] if "source" in body.files else None
        elif not message and not body.get("link"):
            return graph_error(100, "(#100) Missing message or attachment")
        else:
            record["kind"] = "link" if body.get("link") else "status"
        if message and any(p["message"] == message for p in self.live()):
            return graph_error(
                506,
                "(#506) Duplicate status message",
                user_title="Duplicate post",
                user_msg="This status update is identical to the last one you posted.",
            )
        self._next += 1
        post_id = f"{self.page_id}_{self._next}"
        record |= {"id": post_id, "created": self.clock.now(), "edits": []}
        self.posts[post_id] = record
        if photo:
            return httpx.Response(200, json={"id": str(5550000 + self._next), "post_id": post_id})
        return httpx.Response(200, json={"id": post_id})

    def _photo_problem(self, body: Body) -> httpx.Response | None:
        if "source" in body.files:
            info = inspect_image(body.files["source"][1])
            if info is None or info.format not in PHOTO_FORMATS:
                return graph_error(324, "(#324) Missing or invalid image file")
        elif not body.get("url"):
            return graph_error(324, "(#324) Requires upload file")
        if self.require_alt_text and not body.get("alt_text_custom"):
            return graph_error(100, "(#100) alt_text_custom is required by this test's policy")
        return None

    # --- after publication ------------------------------------------------------------

    def edit(self, post: dict[str, Any], body: Body) -> httpx.Response:
        message = body.get("message")
        if message is None:
            return graph_error(100, "(#100) No fields to update")
        post["edits"].append({"message": post["message"], "at": self.clock.now()})
        post["message"] = message
        return httpx.Response(200, json={"success": True})

    def feed(self, params: dict[str, str]) -> httpx.Response:
        since = params.get("since")
        newest = sorted(self.live(), key=lambda p: p["created"], reverse=True)
        if since is not None:
            newest = [p for p in newest if p["created"].timestamp() >= int(since)]
        newest = newest[: int(params.get("limit", "25"))]
        fields = params.get("fields", "id,message,created_time")
        answers = [self.fields_of(post, fields) for post in newest]
        for answer in answers:
            if not answer.is_success:
                return answer
        return httpx.Response(200, json={"data": [a.json() for a in answers]})

    def fields_of(self, post: dict[str, Any], fields: str) -> httpx.Response:
        """A post with the requested fields, or the error a field deserves."""
        wanted = [f.strip() for f in fields.split(",") if f.strip()]
        if "link" in wanted:
            return graph_error(12, "(#12) link field is deprecated for versions v3.3 and higher")
        unknown = [f for f in wanted if f not in FEED_FIELDS]
        if unknown:
            return graph_error(
                100,
                f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (PagePost)",
            )
        created: datetime = post["created"]
        values = {
            "id": post["id"],
            "message": post["message"],
            "created_time": created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "updated_time": created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "permalink_url": f"https://www.facebook.com/{post['id']}",
            "is_published": True,
        }
        return httpx.Response(
            200, json={f: values[f] for f in ["id", *wanted] if values.get(f) is not None}
        )
