#!/usr/bin/env python3
"""Price subscriptions under load: SHOPPERS shoppers, each on one graphql-ws
connection with PER_SHOPPER `priceChanges` subscriptions of five products
(one bench product they all share, four of the catalog's), against a running
server (open auth, as `pricegraph serve` in development).

Each round writes the bench product's base price (alternating 10.00 and
11.00), which changes every subscription's answer, and measures the time
from the write's acknowledgement (its HTTP response) to the first and to the
last of the SHOPPERS x PER_SHOPPER messages. Prints p50 and p99 over the
rounds.

With --hold SECONDS the subscriptions then stay open that long (a write
every --hold-write-every seconds, 0 for none), for a load generator to run
beside them; the script says when they are open.

    python3 -m venv /tmp/benchenv && /tmp/benchenv/bin/pip install websockets==15.0.1
    /tmp/benchenv/bin/python bench/subscriptions.py http://127.0.0.1:18093/graphql
"""

import argparse
import asyncio
import json
import statistics
import time
import urllib.request
import uuid

import websockets

QUERY = """subscription($c: ID, $p: [ID!]!) {
  priceChanges(customerId: $c, productIds: $p, currency: "USD") { product { id } amount { amount } } }"""


def post(url, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.load(response)
    if answer.get("errors"):
        raise SystemExit(f"{query[:60]}…: {answer['errors']}")
    return answer["data"]


def set_base_price(url, product, amount):
    post(
        url,
        "mutation($i: UpsertBasePricesInput!) { upsertBasePrices(input: $i) { userErrors { message } } }",
        {"i": {"prices": [{"productId": product, "currency": "USD", "minQuantity": 1, "amount": amount}]}},
    )


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Shopper:
    """One connection and its subscriptions; counts the bench product's messages."""

    def __init__(self, ws, bench_product):
        self.ws = ws
        self.bench = bench_product
        self.seen = {}  # subscription id -> messages about the bench product
        self.initial = 0

    async def read(self, arrivals):
        async for raw in self.ws:
            message = json.loads(raw)
            if message.get("type") != "next":
                if message.get("type") == "error":
                    raise SystemExit(f"subscription refused: {message}")
                continue
            self.initial += 1
            data = message["payload"].get("data") or {}
            change = data.get("priceChanges")
            if change and change["product"]["id"] == self.bench:
                self.seen[message["id"]] = self.seen.get(message["id"], 0) + 1
                arrivals.append(time.perf_counter())


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--shoppers", type=int, default=100)
    parser.add_argument("--per-shopper", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--hold", type=float, default=0)
    parser.add_argument("--hold-write-every", type=float, default=0)
    args = parser.parse_args()
    url = args.url
    ws_url = url.replace("http://", "ws://")

    customers = [c["id"] for c in post(url, f"{{ customers(first: {args.shoppers}) {{ nodes {{ id }} }} }}")["customers"]["nodes"]]
    catalog = [p["id"] for p in post(url, "{ products(first: 100) { nodes { id } } }")["products"]["nodes"]]
    sku = f"SUB-BENCH-{uuid.uuid4().hex[:8]}"
    bench = post(
        url,
        "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id } userErrors { message } } }",
        {"i": {"sku": sku, "name": "Subscription bench"}},
    )["createProduct"]["product"]["id"]
    set_base_price(url, bench, "10.00")

    shoppers, readers, arrivals = [], [], []
    total = len(customers) * args.per_shopper
    for n, customer in enumerate(customers):
        ws = await websockets.connect(ws_url, subprotocols=["graphql-transport-ws"], max_queue=None)
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await ws.recv())
        assert ack["type"] == "connection_ack", ack
        shopper = Shopper(ws, bench)
        for s in range(args.per_shopper):
            others = [catalog[(n * args.per_shopper + s * 4 + k) % len(catalog)] for k in range(4)]
            payload = {"query": QUERY, "variables": {"c": customer, "p": [bench] + others}}
            await ws.send(json.dumps({"id": str(s), "type": "subscribe", "payload": payload}))
        shoppers.append(shopper)
        readers.append(asyncio.create_task(shopper.read(arrivals)))
    # Every subscription first sends its five answers as they are now.
    deadline = time.perf_counter() + 60
    while sum(s.initial for s in shoppers) < total * 5:
        if time.perf_counter() > deadline:
            raise SystemExit(f"only {sum(s.initial for s in shoppers)} of {total * 5} first answers")
        await asyncio.sleep(0.05)
    print(f"{total} subscriptions open on {len(customers)} connections")

    firsts, lasts, acks = [], [], []
    for round_ in range(args.rounds):
        await asyncio.sleep(0.2)
        arrivals.clear()
        for s in shoppers:
            s.seen.clear()
        sent = time.perf_counter()
        await asyncio.to_thread(set_base_price, url, bench, "11.00" if round_ % 2 == 0 else "10.00")
        acked = time.perf_counter()
        deadline = acked + 10
        while len(arrivals) < total and time.perf_counter() < deadline:
            await asyncio.sleep(0.001)
        if len(arrivals) < total:
            print(f"round {round_}: only {len(arrivals)} of {total} messages within 10 s")
            continue
        acks.append((acked - sent) * 1000)
        firsts.append((min(arrivals) - acked) * 1000)
        lasts.append((max(arrivals) - acked) * 1000)
    duplicates = sum(1 for s in shoppers for n in s.seen.values() if n > 1)
    print(f"rounds {len(lasts)}/{args.rounds}, duplicate messages in the last round: {duplicates}")
    print(f"write acknowledged: p50 {percentile(acks, 50):.1f} ms, p99 {percentile(acks, 99):.1f} ms")
    print(f"ack -> first message: p50 {percentile(firsts, 50):.1f} ms, p99 {percentile(firsts, 99):.1f} ms")
    print(f"ack -> last of {total}: p50 {percentile(lasts, 50):.1f} ms, p99 {percentile(lasts, 99):.1f} ms "
          f"(mean {statistics.mean(lasts):.1f})")

    if args.hold:
        print(f"holding {total} subscriptions open for {args.hold:.0f} s", flush=True)
        end = time.perf_counter() + args.hold
        round_ = 0
        while time.perf_counter() < end:
            if args.hold_write_every:
                await asyncio.sleep(args.hold_write_every)
                await asyncio.to_thread(set_base_price, url, bench, "11.00" if round_ % 2 == 0 else "10.00")
                round_ += 1
            else:
                await asyncio.sleep(min(1, end - time.perf_counter()))
        print("released", flush=True)
    for task in readers:
        task.cancel()
    for s in shoppers:
        await s.ws.close()


asyncio.run(main())
