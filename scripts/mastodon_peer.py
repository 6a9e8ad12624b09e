#!/usr/bin/env python3
"""A peer nobody here wrote: Mastodon.py (PyPI), as a cardholder's client, buys over a
Mastodon-API server on loopback against Hashcart's Mastodon connector.

    python3 scripts/mastodon_peer.py BASE_URL ACCESS_TOKEN HASHTAG

It posts `I want it #HASHTAG` (public, with an idempotency key), waits for Hashcart's reply
mentioning it (a `mention` notification whose status answers the post), boosts that reply with
`status_reblog`, and waits for the "Confirmed" reply. Prints one JSON object with the ids and
exits 0; exits 1 with the reason on a timeout.
"""
import json, sys, time

from mastodon import Mastodon

def wait_for_reply(api, post_id, needle, deadline):
    while time.time() < deadline:
        for notification in api.notifications(types=["mention"]):
            status = notification["status"]
            if str(status["in_reply_to_id"]) == str(post_id) and needle in status["content"]:
                return status
        time.sleep(0.2)
    sys.exit(f"no reply containing {needle!r} to {post_id} in time")

def main():
    base, token, hashtag = sys.argv[1:4]
    api = Mastodon(api_base_url=base, access_token=token, version_check_mode="none", request_timeout=30)
    me = api.account_verify_credentials()
    post = api.status_post(f"I want it #{hashtag}", visibility="public", idempotency_key=f"peer-{int(time.time() * 1000)}")
    deadline = time.time() + 60
    request = wait_for_reply(api, post["id"], "Repost this within", deadline)
    if request["visibility"] not in ("public", "unlisted"):
        sys.exit(f"the confirmation request is {request['visibility']}: it cannot be boosted")
    boost = api.status_reblog(request["id"])
    confirmed = wait_for_reply(api, post["id"], "Confirmed", deadline)
    print(json.dumps({"account": me["acct"], "post": str(post["id"]), "confirmation": str(request["id"]),
                      "boost": str(boost["id"]), "confirmed": str(confirmed["id"])}))

if __name__ == "__main__":
    main()
