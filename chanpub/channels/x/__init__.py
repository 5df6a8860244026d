"""x: a post (or a thread) on X through the X API v2, with an image and its alt text.

Docs: https://docs.x.com/x-api/posts/create-post, https://docs.x.com/x-api/media/upload-media,
https://docs.x.com/x-api/media/create-media-metadata, https://docs.x.com/fundamentals/
counting-characters, https://docs.x.com/x-api/fundamentals/rate-limits,
https://docs.x.com/x-api/fundamentals/edit-posts, https://docs.x.com/x-api/posts/delete-post
Auth: user context, either OAuth 1.0a (api_key, api_secret, access_token, access_secret;
every request signed, see chanpub.channels.oauth1) or an OAuth 2.0 user token
(`tweet.write tweet.read users.read media.write offline.access`; it lasts 2 hours, and
chanpub renews it from `oauth2_refresh_token` + `client_id`, see tokens.py).
Create: POST /2/tweets {"text", "media": {"media_ids"}, "reply": {"in_reply_to_tweet_id"}}
-> 201 {"data": {"id"}}. Image: POST /2/media/upload (multipart `media`,
`media_category=tweet_image`, at most 5 MB; fitted by chanpub.render.media, without
location data), then POST /2/media/metadata for the alt text (at most 1000 characters).
Text: 280 weighted as twitter-text v3 counts (chanpub.channels.x_text: URLs 23, CJK and
emoji 2). Rate limits: `x-rate-limit-reset` (Unix seconds) with 429. No idempotency key:
a 403 "duplicate content" means the text is already posted; `lookup` reads the
account's recent posts back and compares texts with each t.co link expanded.
Corrections: an edit (`edit_options.previous_post_id`, within 30 minutes, at most 5), else
a reply with the note and link; retractions delete the posts (amend.py).

Modules: options.py (XOptions), tokens.py (OAuth 2.0 renewal), api.py (HTTP, errors,
reading posts back), channel.py (XChannel), amend.py (corrections and retractions).
"""

from chanpub.channels.x.api import status_url
from chanpub.channels.x.channel import IMAGE_SPEC, XChannel
from chanpub.channels.x.options import XOptions
from chanpub.channels.x_text import count_x

__all__ = ["IMAGE_SPEC", "XChannel", "XOptions", "count_x", "status_url"]
