"""Strict stand-ins for the services that cannot run in the tests: each module holds one
platform's state and answers as its documentation says (cited in each module's docstring),
through an `httpx.MockTransport`-compatible handler.

    from standins.mastodon import MastodonStandIn  # tests/ is on sys.path (its conftest)
    standin = MastodonStandIn("token")
    context = make_context(tmp_path, standin)
"""
