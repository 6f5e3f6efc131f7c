"""Writes 1,000 storefront GraphQL request bodies, one per line, for `oha -Z`:
each for one of 1,000 customers read from a running server, in random order.

Usage: python3 bench/storefront_bodies.py http://127.0.0.1:18090/graphql > bodies.txt
"""
import json
import random
import sys
import urllib.request

QUERY = (
    'query($c: ID!) { products(first: 50) { edges { node { id '
    'resolvedPrice(customerId: $c, currency: "USD") { amount { amount currencyCode } source } } } } }'
)
PAGE = "query($a: String) { customers(first: 100, after: $a) { pageInfo { endCursor } edges { node { id } } } }"


def graphql(url, query, variables):
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)["data"]


url = sys.argv[1]
ids, after = [], None
while len(ids) < 1000:
    page = graphql(url, PAGE, {"a": after})["customers"]
    ids += [edge["node"]["id"] for edge in page["edges"]]
    after = page["pageInfo"]["endCursor"]
    if not page["edges"]:
        break
random.seed(7)
random.shuffle(ids)
for customer in ids[:1000]:
    print(json.dumps({"query": QUERY, "variables": {"c": customer}}))
