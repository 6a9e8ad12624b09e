#!/usr/bin/env python3
"""A peer nobody here wrote: tweepy (PyPI), as a cardholder's client, buys over an X API v2
server on loopback against Hashcart's X connector.

    python3 scripts/tweepy_peer.py BASE_URL USER_TOKEN HASHTAG OFFICIAL_USERNAME

tweepy's host is fixed to https://api.twitter.com; a requests adapter sends its calls to
BASE_URL instead (nothing else of tweepy is changed). It posts `I want it #HASHTAG` with
create_tweet, finds Hashcart's reply with search_recent_tweets, retweets it with retweet, and
waits for the "Confirmed" reply. Prints one JSON object with the ids; exits 1 on a timeout.
"""
import json, sys, time

import requests
import tweepy

class Loopback(requests.adapters.HTTPAdapter):
    def __init__(self, base):
        super().__init__()
        self.base = base

    def send(self, request, **kwargs):
        request.url = request.url.replace("https://api.twitter.com", self.base, 1)
        return super().send(request, **kwargs)

def wait_for_reply(client, post_id, official, needle, deadline):
    while time.time() < deadline:
        found = client.search_recent_tweets(query=f"from:{official} in_reply_to_tweet_id:{post_id}", user_auth=False)
        for tweet in found.data or []:
            if needle in tweet.text:
                return tweet
        time.sleep(0.2)
    sys.exit(f"no reply containing {needle!r} to {post_id} in time")

def main():
    base, token, hashtag, official = sys.argv[1:5]
    client = tweepy.Client(bearer_token=token)
    client.session.mount("https://api.twitter.com", Loopback(base))
    me = client.get_me(user_auth=False)
    post = client.create_tweet(text=f"I want it #{hashtag}", user_auth=False)
    deadline = time.time() + 60
    request = wait_for_reply(client, post.data["id"], official, "Repost this within", deadline)
    client.retweet(request.id, user_auth=False)
    confirmed = wait_for_reply(client, post.data["id"], official, "Confirmed", deadline)
    print(json.dumps({"user": me.data.username, "post": str(post.data["id"]), "confirmation": str(request.id), "confirmed": str(confirmed.id)}))

if __name__ == "__main__":
    main()
