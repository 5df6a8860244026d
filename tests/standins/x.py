"""A strict X API v2 for one user, written from X's documentation.

Rules enforced, and where they are written:
- User context only: OAuth 1.0a (HMAC-SHA1 signature checked, RFC 5849 §3.4) or an OAuth
  2.0 user token; nothing/wrong/expired -> 401 problem, an app-only token -> 403
  unsupported-authentication: https://docs.x.com/fundamentals/authentication/overview and
  https://docs.x.com/fundamentals/authentication/oauth-1-0a/creating-a-signature
- OAuth 2.0 user tokens live two hours; POST /2/oauth2/token `grant_type=refresh_token`
  returns a new access token and a new refresh token, and the old refresh token stops
  working: https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code
  (offline.access, "Refresh tokens") and https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token
- POST /2/tweets: 280 weighted characters as twitter-text v3 counts (chanpub.channels.x_text)
  -> 400 invalid-request; the same text as a live post -> 403 "duplicate content";
  `media.media_ids` must be uploaded ids; `reply.in_reply_to_tweet_id` must be a visible
  post: https://docs.x.com/x-api/posts/creation-of-a-post and
  https://docs.x.com/fundamentals/counting-characters
- Edits: `edit_options.previous_post_id`, within 30 minutes of the original, at most 5
  edits, each a new id; deleting any version deletes the chain:
  https://docs.x.com/x-api/fundamentals/edit-posts. X's docs give those rules; whether an
  account may edit through the API depends on its plan/subscription (the X app sells
  editing with Premium), so `edits_allowed=False` refuses edits with 403.
- DELETE /2/tweets/:id -> `{"data": {"deleted": true}}`: https://docs.x.com/x-api/posts/delete-post
- GET /2/users/me, GET /2/users/:id/tweets (`max_results` 5-100, `start_time`,
  `end_time`; text as X shows it: every link twitter-text finds, with or without a
  protocol, as t.co, `&<>` as entities; `id`, `text` and `edit_history_tweet_ids` by
  default, `created_at`, `entities` (urls with `expanded_url`) and `referenced_tweets`
  only when `tweet.fields` asks): https://docs.x.com/x-api/users/get-my-user,
  https://docs.x.com/x-api/users/get-posts and https://docs.x.com/x-api/fundamentals/fields
- A confidential client refreshes with HTTP Basic `client_id:client_secret`:
  https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token
- Media: POST /2/media/upload (multipart `media`, `media_category`; images JPEG, PNG,
  GIF, WEBP up to 5 MB), POST /2/media/metadata (alt text up to 1,000 characters):
  https://docs.x.com/x-api/media/upload-media, https://docs.x.com/x-api/media/create-media-metadata
  and https://docs.x.com/x-api/media/introduction
- v1.1 POST statuses/update is not available -> 403 code 453:
  https://docs.x.com/x-api/migrate/overview
- 429 with `x-rate-limit-limit`, `-remaining`, `-reset` (Unix seconds):
  https://docs.x.com/x-api/fundamentals/rate-limits
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any

import httpx

from chanpub.channels.x_text import MAX_WEIGHTED_LENGTH, link_texts, weighted_length

from .base import Body, Clock, StandIn, Tokens, inspect_image, read_body
from .x_oauth1 import oauth1_valid

USER = {"id": "1500000000000000001", "name": "Kominfo Kota", "username": "kominfokota"}
TOKEN_LIFETIME = 7200
EDIT_WINDOW = timedelta(minutes=30)
EDIT_LIMIT = 5
IMAGE_BYTES = 5 * 1024 * 1024
ALT_TEXT_LIMIT = 1000
IMAGE_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}


def problem(
    status: int, title: str, detail: str, kind: str = "about:blank", **extra: Any
) -> httpx.Response:
    """X's application/problem+json error."""
    body = {"title": title, "detail": detail, "type": kind, "status": status, **extra}
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})


def _invalid(message: str) -> httpx.Response:
    return problem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        "https://api.twitter.com/2/problems/invalid-request",
        errors=[{"message": message}],
    )


class XStandIn(StandIn):
    """One user. Give `oauth2_token` (+ `refresh_token`, `client_id`) or the four
    OAuth 1.0a values as `oauth1=((key, secret), (token, token_secret))`."""

    def __init__(
        self,
        *,
        oauth2_token: str | None = None,
        refresh_token: str | None = None,
        client_id: str = "chanpub-client",
        client_secret: str | None = None,
        oauth1: tuple[tuple[str, str], tuple[str, str]] | None = None,
        app_token: str | None = None,
        clock: Clock | None = None,
        edits_allowed: bool = True,
    ) -> None:
        super().__init__(clock)
        self.tokens = Tokens(self.clock)
        if oauth2_token:
            self.tokens.add(oauth2_token, lifetime=TOKEN_LIFETIME)
        self.refresh_tokens = {refresh_token} if refresh_token else set()
        self.client_id = client_id
        self.client_secret = client_secret
        self.oauth1 = oauth1
        self.app_token = app_token
        self.edits_allowed = edits_allowed
        self.posts: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self._next = 1800000000000000000

    def _id(self) -> str:
        self._next += 1
        return str(self._next)

    def live(self) -> list[dict[str, Any]]:
        """The user's posts as shown now (latest version of each chain), oldest first."""
        return [p for p in self.posts.values() if not p.get("deleted") and not p.get("superseded")]

    # --- auth -------------------------------------------------------------------------

    def _auth_problem(self, request: httpx.Request) -> httpx.Response | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("OAuth ") and self.oauth1 and oauth1_valid(request, *self.oauth1):
            return None
        if header.startswith("Bearer "):
            token = header.removeprefix("Bearer ")
            if token == self.app_token:
                return problem(
                    403,
                    "Unsupported Authentication",
                    "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
                    "https://api.twitter.com/2/problems/unsupported-authentication",
                )
            if self.tokens.check(token) == "ok":
                return None
        return problem(401, "Unauthorized", "Unauthorized")

    def refresh(self, request: httpx.Request) -> httpx.Response:
        """POST /2/oauth2/token with the refresh-token grant: rotate both tokens."""
        body = read_body(request)
        old = body.get("refresh_token")
        if self.client_secret is not None:
            basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            if request.headers.get("Authorization") != f"Basic {basic}":
                return httpx.Response(
                    401,
                    json={
                        "error": "unauthorized_client",
                        "error_description": "Missing valid authorization header",
                    },
                )
        elif body.get("client_id") != self.client_id:
            old = None
        if body.get("grant_type") != "refresh_token" or old is None:
            return httpx.Response(
                400,
                json={
                    "error": "invalid_request",
                    "error_description": "Missing required parameter [grant_type] or invalid client.",
                },
            )
        if old not in self.refresh_tokens:
            return httpx.Response(
                400,
                json={
                    "error": "invalid_request",
                    "error_description": "Value passed for the token was invalid.",
                },
            )
        self.refresh_tokens.discard(old)
        access, fresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.tokens.add(access, lifetime=TOKEN_LIFETIME)
        self.refresh_tokens.add(fresh)
        return httpx.Response(
            200,
            json={
                "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME,
                "access_token": access,
                "scope": "tweet.write tweet.read users.read media.write offline.access",
                "refresh_token": fresh,
            },
        )

    # --- routing ----------------------------------------------------------------------

    def route(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if (method, path) == ("POST", "/2/oauth2/token"):
            return self.refresh(request)
        failure = self._auth_problem(request)
        if failure:
            return failure
        if path.startswith("/1.1/statuses/update"):
            return httpx.Response(
                403,
                json={
                    "errors": [
                        {
                            "message": "You currently have access to a subset of X API V2 endpoints and limited v1.1 endpoints (e.g. media post, oauth) only. If you need access to this endpoint, you may need a different access level.",
                            "code": 453,
                        }
                    ]
                },
            )
        if (method, path) == ("POST", "/2/tweets"):
            return self.create(read_body(request).json or {})
        if method == "DELETE" and path.startswith("/2/tweets/"):
            return self.delete(path.rsplit("/", 1)[1])
        if (method, path) == ("GET", "/2/users/me"):
            return httpx.Response(200, json={"data": USER})
        if (method, path) == ("GET", f"/2/users/{USER['id']}/tweets"):
            return self.timeline(dict(request.url.params))
        if (method, path) == ("POST", "/2/media/upload"):
            return self.upload(read_body(request))
        if (method, path) == ("POST", "/2/media/metadata"):
            return self.metadata(read_body(request).json or {})
        return problem(
            404,
            "Not Found Error",
            f"Could not find {path}",
            "https://api.twitter.com/2/problems/resource-not-found",
        )

    def too_many(self, request: httpx.Request, until: datetime) -> httpx.Response:
        response = problem(429, "Too Many Requests", "Too Many Requests")
        response.headers.update(
            {
                "x-rate-limit-limit": "100",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(until.timestamp())),
            }
        )
        return response

    # --- posts ------------------------------------------------------------------------

    def create(self, body: dict[str, Any]) -> httpx.Response:
        text = str(body.get("text") or "")
        media_ids = list((body.get("media") or {}).get("media_ids") or [])
        if not text and not media_ids:
            return _invalid("$.text: text or media is required")
        if weighted_length(text) > MAX_WEIGHTED_LENGTH:
            return _invalid("$.text: Your Tweet text is too long.")
        if len(media_ids) > 4 or any(m not in self.media for m in media_ids):
            return _invalid(
                "$.media.media_ids: the media ids are not valid (at most 4 uploaded ids)"
            )
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to and (reply_to not in self.posts or self.posts[reply_to].get("deleted")):
            return problem(
                403,
                "Forbidden",
                "You attempted to reply to a Tweet that is deleted or not visible to you.",
            )
        previous_id = (body.get("edit_options") or {}).get("previous_post_id")
        chain: list[str] = []
        if previous_id:
            refused = self._edit_problem(previous_id)
            if refused:
                return refused
            previous = self.posts[previous_id]
            chain = list(previous["edit_history_tweet_ids"])
            previous["superseded"] = True
        elif any(p["text"] == text for p in self.live()):
            return problem(
                403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
            )
        post_id = self._id()
        original = self.posts[chain[0]] if chain else None
        self.posts[post_id] = {
            "id": post_id,
            "text": text,
            "media_ids": media_ids,
            "in_reply_to": reply_to,
            "created": original["created"] if original else self.clock.now(),
            "edited": self.clock.now(),
            "edit_history_tweet_ids": [*chain, post_id],
        }
        return httpx.Response(
            201,
            json={
                "data": {"id": post_id, "text": text, "edit_history_tweet_ids": [*chain, post_id]}
            },
        )

    def _edit_problem(self, previous_id: str) -> httpx.Response | None:
        previous = self.posts.get(previous_id)
        if previous is None or previous.get("deleted") or previous.get("superseded"):
            return problem(
                403, "Forbidden", "The post to edit does not exist or is not the latest version."
            )
        if not self.edits_allowed:
            return problem(403, "Forbidden", "You are not permitted to edit this Post.")
        if self.clock.now() - previous["created"] > EDIT_WINDOW:
            return problem(
                403,
                "Forbidden",
                "This Post can no longer be edited: the 30-minute edit window has passed.",
            )
        if len(previous["edit_history_tweet_ids"]) > EDIT_LIMIT:
            return problem(403, "Forbidden", "This Post has reached the maximum of 5 edits.")
        return None

    def delete(self, post_id: str) -> httpx.Response:
        post = self.posts.get(post_id)
        if post is None or post.get("deleted"):
            return problem(
                404,
                "Not Found Error",
                f"Could not find tweet with id: [{post_id}].",
                "https://api.twitter.com/2/problems/resource-not-found",
            )
        for member in post["edit_history_tweet_ids"]:
            self.posts[member]["deleted"] = True
        for other in self.posts.values():  # later versions of the same chain
            if post_id in other["edit_history_tweet_ids"]:
                other["deleted"] = True
        return httpx.Response(200, json={"data": {"deleted": True}})

    @staticmethod
    def shown(text: str) -> tuple[str, list[dict[str, Any]]]:
        """Text as the API returns it (links as t.co, &, < and > as entities), and its
        `entities.urls` (start and end in code points of the shown text)."""
        shown, urls, rest = "", [], unicodedata.normalize("NFC", text)
        for link in link_texts(text):
            before, _, rest = rest.partition(link)
            tco = "https://t.co/" + hashlib.sha1(link.encode()).hexdigest()[:10]
            shown += html.escape(before, quote=False)
            expanded = link if "://" in link else f"http://{link}"
            urls.append(
                {
                    "start": len(shown),
                    "end": len(shown) + len(tco),
                    "url": tco,
                    "expanded_url": expanded,
                    "display_url": expanded.split("://", 1)[1][:26],
                }
            )
            shown += tco
        return shown + html.escape(rest, quote=False), urls

    def timeline(self, params: dict[str, str]) -> httpx.Response:
        limit = int(params.get("max_results", "10"))
        if not 5 <= limit <= 100:
            return _invalid(
                f"The `max_results` query parameter value [{limit}] is not between 5 and 100"
            )
        fields = set(params.get("tweet.fields", "").split(","))
        posts = sorted(self.live(), key=lambda p: p["edited"], reverse=True)
        for name, keep in (("start_time", datetime.__ge__), ("end_time", datetime.__le__)):
            if name in params:
                when = datetime.fromisoformat(params[name].replace("Z", "+00:00"))
                posts = [p for p in posts if keep(p["edited"], when)]
        data = [self._shown_post(p, fields) for p in posts[:limit]]
        meta = {"result_count": len(data)}
        return httpx.Response(200, json={"data": data, "meta": meta} if data else {"meta": meta})

    def _shown_post(self, post: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        text, urls = self.shown(post["text"])
        shown: dict[str, Any] = {
            "id": post["id"],
            "text": text,
            "edit_history_tweet_ids": post["edit_history_tweet_ids"],
        }
        if "created_at" in fields:
            shown["created_at"] = (
                post["edited"].isoformat(timespec="milliseconds").replace("+00:00", "Z")
            )
        if "entities" in fields and urls:
            shown["entities"] = {"urls": urls}
        if "referenced_tweets" in fields and post["in_reply_to"]:
            shown["referenced_tweets"] = [{"type": "replied_to", "id": post["in_reply_to"]}]
        return shown

    # --- media ------------------------------------------------------------------------

    def upload(self, body: Body) -> httpx.Response:
        if "media" not in body.files or not body.get("media_category"):
            return _invalid("media and media_category are required")
        data = body.files["media"][1]
        info = inspect_image(data)
        if info is None or info.format not in IMAGE_FORMATS:
            return _invalid("media: unsupported image format")
        if len(data) > IMAGE_BYTES:
            return _invalid("media: image size must be <= 5242880 bytes")
        media_id = self._id()
        self.media[media_id] = {"id": media_id, "alt_text": None, "size": len(data), "data": data}
        return httpx.Response(
            200,
            json={
                "data": {
                    "id": media_id,
                    "media_key": f"3_{media_id}",
                    "expires_after_secs": 86400,
                    "size": len(data),
                }
            },
        )

    def metadata(self, body: dict[str, Any]) -> httpx.Response:
        media = self.media.get(str(body.get("id")))
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if media is None:
            return _invalid("id: media not found")
        if not isinstance(alt, str) or len(alt) > ALT_TEXT_LIMIT:
            return _invalid("metadata.alt_text.text: at most 1000 characters")
        media["alt_text"] = alt
        return httpx.Response(200, json={"data": {"id": media["id"], "associated_metadata": True}})
