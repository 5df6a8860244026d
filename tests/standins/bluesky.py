"""A strict PDS with one account, written from the AT Protocol lexicons and Bluesky's docs
(tests/channels/test_bluesky_pds.py runs the real @atproto/pds as well).

Rules enforced, and where they are written:
- Sessions: createSession with identifier + password -> 401 AuthenticationRequired when
  wrong; refreshSession with the refresh token (used once); an expired or unknown access
  token -> 400 ExpiredToken: lexicons com.atproto.server.createSession / refreshSession,
  https://docs.bsky.app/docs/api/com-atproto-server-create-session
- Records: createRecord needs repo, collection app.bsky.feed.post, a TID record key
  (https://atproto.com/specs/tid and https://atproto.com/specs/record-key), `$type`,
  `createdAt`, text of at most 300 graphemes; a used record key is refused (the real PDS
  answers 500); getRecord of a missing key -> 400 RecordNotFound; deleteRecord of a
  missing key is a no-op: lexicons com.atproto.repo.createRecord / getRecord /
  deleteRecord, app.bsky.feed.post.
- Replies: reply.root and reply.parent must name existing records by URI and CID:
  lexicon app.bsky.feed.post (#replyRef), com.atproto.repo.strongRef.
- Images: app.bsky.embed.images blobs of at most 2,000,000 bytes, of the type they were
  uploaded as, with `alt`; stricter than the PDS, an image without its true `aspectRatio`
  is refused, because clients crop a picture whose shape they must guess:
  https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/images.json
- Link cards: app.bsky.embed.external `thumb` blob of at most 1,000,000 bytes, image/*:
  https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/external.json
- Mentions: com.atproto.identity.resolveHandle -> {"did"}, or 400 "Unable to resolve
  handle" for a handle nobody has.
- Rate limits: 429 RateLimitExceeded with RateLimit-Reset in Unix seconds:
  https://docs.bsky.app/docs/advanced-guides/rate-limits
"""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import regex

from .base import Clock, StandIn

PASSWORD_FIELD = "password"
POST = "app.bsky.feed.post"
TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
IMAGE_MAX_BYTES = 2_000_000
THUMB_MAX_BYTES = 1_000_000


def xrpc_error(
    status: int, name: str, message: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json={"error": name, "message": message}, headers=headers)


class PdsStandIn(StandIn):
    """One account (`handle`, `did`, app password `password`) on a PDS."""

    def __init__(
        self,
        password: str,
        *,
        handle: str = "kominfo.kotacontoh.go.id",
        did: str = "did:plc:kominfo7abc",
        clock: Clock | None = None,
        access_lifetime: int = 7200,
        handles: dict[str, str] | None = None,
    ) -> None:
        super().__init__(clock)
        self.password = password
        self.handle = handle
        self.did = did
        self.access_lifetime = access_lifetime
        self.handles = handles or {}  # other accounts a post may mention: handle -> DID
        self.records: dict[str, dict[str, Any]] = {}
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.blobs: list[bytes] = []
        self.blob_types: dict[str, str] = {}

    @property
    def calls_by_name(self) -> list[str]:
        """The XRPC method names called, in order."""
        return [request.url.path.removeprefix("/xrpc/") for request in self.requests]

    def jwt(self, kind: str, seconds: int) -> str:
        """A token whose `exp` the client can read (real time: the client's clock reads it)."""
        claims = {
            "scope": kind,
            "sub": self.did,
            "exp": int(datetime.now(UTC).timestamp()) + seconds,
        }
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return f"eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln{len(self.access) + len(self.refresh)}"

    def session(self) -> dict[str, Any]:
        """A new session: access and refresh tokens."""
        access = self.jwt("com.atproto.access", self.access_lifetime)
        refresh = self.jwt("com.atproto.refresh", 86400)
        self.access.add(access)
        self.refresh.add(refresh)
        return {
            "did": self.did,
            "handle": self.handle,
            "accessJwt": access,
            "refreshJwt": refresh,
            "active": True,
        }

    def too_many(self, request: httpx.Request, until: datetime) -> httpx.Response:
        return xrpc_error(
            429,
            "RateLimitExceeded",
            "Rate Limit Exceeded",
            {"RateLimit-Reset": str(int(until.timestamp())), "RateLimit-Policy": "5000;w=3600"},
        )

    def live(self) -> list[dict[str, Any]]:
        """The account's post records, in record-key order."""
        return [self.records[key] for key in sorted(self.records)]

    # --- routing --------------------------------------------------------------------

    def route(self, request: httpx.Request) -> httpx.Response:
        nsid = request.url.path.removeprefix("/xrpc/")
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if nsid == "com.atproto.server.createSession":
            body = json.loads(request.read())
            if body != {"identifier": self.handle, PASSWORD_FIELD: self.password}:
                return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
            return httpx.Response(200, json=self.session())
        if nsid == "com.atproto.server.refreshSession":
            if bearer not in self.refresh:
                return xrpc_error(400, "ExpiredToken", "Token has been revoked")
            self.refresh.discard(bearer)
            return httpx.Response(200, json=self.session())
        if bearer not in self.access:
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        if nsid == "com.atproto.server.getSession":
            return httpx.Response(200, json={"did": self.did, "handle": self.handle})
        if nsid == "com.atproto.identity.resolveHandle":
            did = self.handles.get(request.url.params.get("handle", ""))
            if did is None:
                return xrpc_error(400, "InvalidRequest", "Unable to resolve handle")
            return httpx.Response(200, json={"did": did})
        if nsid == "com.atproto.repo.uploadBlob":
            return self.upload(request)
        if nsid == "com.atproto.repo.getRecord":
            record = self.records.get(request.url.params["rkey"])
            if record is None:
                return xrpc_error(400, "RecordNotFound", "Could not locate record")
            return httpx.Response(200, json=record)
        if nsid == "com.atproto.repo.createRecord":
            return self.create(json.loads(request.read()))
        if nsid == "com.atproto.repo.deleteRecord":
            body = json.loads(request.read())
            self.records.pop(body["rkey"], None)  # a missing record: no-op, as the PDS does
            return httpx.Response(200, json={})
        return xrpc_error(501, "MethodNotImplemented", "Method Not Implemented")

    def upload(self, request: httpx.Request) -> httpx.Response:
        data = request.read()
        self.blobs.append(data)
        ref = f"bafkreiblob{len(self.blobs)}"
        self.blob_types[ref] = request.headers["Content-Type"]
        blob = {
            "$type": "blob",
            "ref": {"$link": ref},
            "mimeType": request.headers["Content-Type"],
            "size": len(data),
        }
        return httpx.Response(200, json={"blob": blob})

    def create(self, body: dict[str, Any]) -> httpx.Response:
        record, rkey = body["record"], str(body.get("rkey", ""))
        if body["repo"] != self.did or body["collection"] != POST:
            return xrpc_error(400, "InvalidRequest", "Invalid repo or collection")
        if not TID.fullmatch(rkey):
            return xrpc_error(400, "InvalidRequest", "Invalid record key: must be a TID")
        if record.get("$type") != POST or not str(record.get("createdAt", "")).endswith("Z"):
            return xrpc_error(400, "InvalidRequest", "Invalid app.bsky.feed.post record")
        if len(regex.findall(r"\X", record["text"])) > 300:
            return xrpc_error(
                400,
                "InvalidRequest",
                "Invalid app.bsky.feed.post record: "
                "Record/text must not be longer than 300 graphemes",
            )
        problem = self.reply_problem(record.get("reply")) or self.embed_problem(
            record.get("embed") or {}
        )
        if problem:
            return xrpc_error(
                400, "InvalidRequest", f"Invalid app.bsky.feed.post record: {problem}"
            )
        if rkey in self.records:  # what the real PDS answers for a used key
            return xrpc_error(500, "InternalServerError", "Internal Server Error")
        uri = f"at://{self.did}/{POST}/{rkey}"
        cid = f"bafyrei{len(self.records)}x{rkey}"
        self.records[rkey] = {"uri": uri, "cid": cid, "value": record}
        return httpx.Response(
            200,
            json={"uri": uri, "cid": cid, "validationStatus": "valid"},
            headers={"RateLimit-Limit": "5000", "RateLimit-Remaining": "4997"},
        )

    def reply_problem(self, reply: Any) -> str | None:
        """A reply must name existing posts by URI and CID (com.atproto.repo.strongRef)."""
        if reply is None:
            return None
        for side in ("root", "parent"):
            ref = reply.get(side) or {}
            held = self.records.get(str(ref.get("uri", "")).rsplit("/", 1)[-1])
            if held is None or held["cid"] != ref.get("cid"):
                return f"Record/reply/{side} must be a strongRef to an existing post"
        return None

    def blob(self, ref: dict[str, Any]) -> bytes:
        """The bytes of an uploaded blob."""
        return self.blobs[int(ref["ref"]["$link"].removeprefix("bafkreiblob")) - 1]

    def embed_problem(self, embed: dict[str, Any]) -> str | None:
        """What the lexicons (and this stricter stand-in) refuse in an embed."""
        if embed.get("$type") == "app.bsky.embed.external":
            thumb = embed["external"].get("thumb")
            if thumb is not None and len(self.blob(thumb)) > THUMB_MAX_BYTES:
                return f"Record/embed/external/thumb file too big (max {THUMB_MAX_BYTES} bytes)"
            if thumb is not None and not thumb["mimeType"].startswith("image/"):
                return "Record/embed/external/thumb must be an image"
            return None
        if embed.get("$type") != "app.bsky.embed.images":
            return None
        from PIL import Image

        for index, image in enumerate(embed["images"]):
            where = f"Record/embed/images/{index}"
            data = self.blob(image["image"])
            if len(data) > IMAGE_MAX_BYTES:
                return f"{where}/image file too big (max {IMAGE_MAX_BYTES} bytes)"
            if "alt" not in image:
                return f'{where} must have the property "alt"'
            with Image.open(io.BytesIO(data)) as picture:
                kind = Image.MIME[picture.format or ""]
                shape = {"width": picture.width, "height": picture.height}
            if kind != image["image"]["mimeType"]:
                return f"{where}/image is {kind}, uploaded as {image['image']['mimeType']}"
            if image.get("aspectRatio") != shape:
                return f"{where}/aspectRatio must be the picture's {shape}"
        return None
