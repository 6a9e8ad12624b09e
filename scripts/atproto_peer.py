#!/usr/bin/env python3
"""A peer nobody here wrote: the `atproto` SDK (MarshalX, PyPI) builds and checks Bluesky records
for Hashcart's connector tests.

    python3 scripts/atproto_peer.py records            # Jetstream v1 lines whose records the SDK built
    python3 scripts/atproto_peer.py validate-create F  # checks a createRecord body Hashcart sent

`records` prints one Jetstream event per line: posts whose tag facets the SDK's TextBuilder made
(UTF-8 byte offsets, emoji before the tag), a post with `tags`, a reply with the SDK's ReplyRef,
a repost with its StrongRef. `validate-create` parses the body with the SDK's
com.atproto.repo.createRecord input model and the record with app.bsky.feed.post's, and checks
the record key is a TID; it exits non-zero with the reason if the SDK refuses it.
"""
import json, re, sys

from atproto import client_utils, models

SHOP = "did:plc:shopbotbbbbbbbbbbbbbbbbb"
ALICE = "did:plc:aliceaaaaaaaaaaaaaaaaaaa"

def dump(model):
    return model.model_dump(by_alias=True, exclude_none=True)

def envelope(did, time_us, collection, rkey, record):
    return json.dumps({"did": did, "time_us": time_us, "kind": "commit",
                       "commit": {"rev": "3mrevrevrev2a", "operation": "create", "collection": collection,
                                  "rkey": rkey, "record": record, "cid": "bafyreisdk" + rkey}})

def records():
    lines = []
    text = client_utils.TextBuilder().text("Ich will es 🔥 ").tag("#BuyAmexTee", "BuyAmexTee").text(" jetzt")
    post = models.AppBskyFeedPost.Record(text=text.build_text(), facets=text.build_facets(), created_at="2026-08-30T12:00:00.000Z")
    lines.append(envelope(ALICE, 1783175890000001, "app.bsky.feed.post", "3msdkfacet22a", dump(post)))
    tagged = models.AppBskyFeedPost.Record(text="buying this one", tags=["buyamextee"], created_at="2026-08-30T12:00:01.000Z")
    lines.append(envelope(ALICE, 1783175890000002, "app.bsky.feed.post", "3msdktags222a", dump(tagged)))
    other = client_utils.TextBuilder().text("not for sale ").tag("#BuyAmexTeeFake", "BuyAmexTeeFake")
    lines.append(envelope(ALICE, 1783175890000003, "app.bsky.feed.post", "3msdkother22a",
                          dump(models.AppBskyFeedPost.Record(text=other.build_text(), facets=other.build_facets(), created_at="2026-08-30T12:00:02.000Z"))))
    parent = models.ComAtprotoRepoStrongRef.Main(uri=f"at://{SHOP}/app.bsky.feed.post/3mconfirm22aa", cid="bafyreiconfirm")
    reply = models.AppBskyFeedPost.Record(text="yes please", created_at="2026-08-30T12:00:03.000Z",
                                          reply=models.AppBskyFeedPost.ReplyRef(root=parent, parent=parent))
    lines.append(envelope(ALICE, 1783175890000004, "app.bsky.feed.post", "3msdkreply22a", dump(reply)))
    repost = models.AppBskyFeedRepost.Record(subject=parent, created_at="2026-08-30T12:00:04.000Z")
    lines.append(envelope(ALICE, 1783175890000005, "app.bsky.feed.repost", "3msdkrepost2a", dump(repost)))
    print("\n".join(lines))

TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")

def validate_create(path):
    body = json.load(open(path))
    data = models.ComAtprotoRepoCreateRecord.Data.model_validate(body)
    record = models.AppBskyFeedPost.Record.model_validate(body["record"])
    if not TID.match(data.rkey or ""):
        sys.exit(f"rkey {data.rkey!r} is not a TID")
    if record.reply is None or not record.reply.parent.cid or not record.reply.root.cid:
        sys.exit("the reply needs root and parent strongRefs with CIDs")
    if len(record.text) > 300:
        sys.exit("text over 300 characters")
    print("ok", data.repo, data.collection, data.rkey)

if __name__ == "__main__":
    if sys.argv[1:2] == ["records"]:
        records()
    elif sys.argv[1:2] == ["validate-create"] and len(sys.argv) == 3:
        validate_create(sys.argv[2])
    else:
        sys.exit(__doc__)
