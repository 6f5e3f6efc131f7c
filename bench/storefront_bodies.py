"""Writes one storefront GraphQL request body per line, each for a random
customer of the given SQLite database, for `oha -Z`."""
import json
import sqlite3
import sys
import uuid

QUERY = (
    'query($c: ID!) { products(first: 50) { edges { node { id '
    'resolvedPrice(customerId: $c, currency: "USD") { amount { amount currencyCode } source } } } } }'
)

db = sqlite3.connect(sys.argv[1])
for (raw,) in db.execute("SELECT id FROM customer ORDER BY random() LIMIT 1000"):
    print(json.dumps({"query": QUERY, "variables": {"c": str(uuid.UUID(bytes=raw))}}))
