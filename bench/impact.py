#!/usr/bin/env python3
"""Times impact previews (`dryRun`) against a running release server on the
benchmark data set, beside `{ __typename }` on the same server:

    pricegraph seed --database-url URL --demo --customers 100000 --groups 200 \
        --price-lists 2000 --products 50000
    pricegraph serve --database-url URL --listen 127.0.0.1:18092 &
    bench/impact.py http://127.0.0.1:18092/graphql

Each preview runs three times; the median is printed with what it found.
Nothing is written (each run checks that the list count is unchanged).
"""

import json
import statistics
import sys
import time
import urllib.request

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18092/graphql"


def post(query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(URL, body, {"content-type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        answer = json.load(response)
    return time.perf_counter() - started, answer


def first_id(query, path):
    _, answer = post(query)
    value = answer["data"]
    for key in path:
        value = value[key]
    return value


IMPACT = "impact { customersAffected productsAffected changes(first: 5) { totalCount } } userErrors { field message code }"


def timed(label, mutation, input_type, field, payload):
    payload = dict(payload, dryRun=True)
    query = f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {IMPACT} }} }}"
    times, result = [], None
    for _ in range(3):
        elapsed, answer = post(query, {"input": payload})
        times.append(elapsed)
        result = answer.get("data", {}).get(field) if answer.get("data") else answer
    impact = (result or {}).get("impact") if isinstance(result, dict) else None
    found = (
        f"{impact['customersAffected']} customers, {impact['productsAffected']} products, "
        f"{impact['changes']['totalCount']} changes"
        if impact
        else json.dumps(result)[:200]
    )
    print(f"{label}: median {statistics.median(times) * 1000:.0f} ms ({found})")


def main():
    typename = statistics.median(post("{ __typename }")[0] for _ in range(20))
    print(f"{{ __typename }}: median {typename * 1000:.2f} ms")
    lists = "{ priceLists(first: 1, filter: { nameContains: NAME }) { nodes { id } } }"
    everyday = first_id(lists.replace("NAME", '"Everyday Low Prices"'), ["priceLists", "nodes", 0, "id"])
    bench_list = first_id(lists.replace("NAME", '"Bench List"'), ["priceLists", "nodes", 0, "id"])
    groups = "{ customerGroups(first: 1, filter: { nameContains: NAME }) { nodes { id } } }"
    everyone = first_id(groups.replace("NAME", '"Everyone"'), ["customerGroups", "nodes", 0, "id"])
    bench_group = first_id(groups.replace("NAME", '"Bench Group"'), ["customerGroups", "nodes", 0, "id"])
    product = first_id(
        "{ products(first: 1, filter: { search: \"BENCH-\" }) { nodes { id } } }", ["products", "nodes", 0, "id"]
    )
    _, answer = post("{ customers(first: 100) { nodes { id } } }")
    customers = [c["id"] for c in answer["data"]["customers"]["nodes"]]
    count = "{ priceLists(first: 1) { totalCount } }"
    lists_before = first_id(count, ["priceLists", "totalCount"])

    timed(
        "link a bench list to Everyone",
        "addPriceListToGroup",
        "AddPriceListToGroupInput",
        "addPriceListToGroup",
        {"groupId": everyone, "priceListId": bench_list, "priority": 0},
    )
    timed(
        "draft the storewide Everyday Low Prices",
        "updatePriceList",
        "UpdatePriceListInput",
        "updatePriceList",
        {"id": everyday, "status": "DRAFT"},
    )
    timed(
        "one base price (every shopper)",
        "upsertBasePrices",
        "UpsertBasePricesInput",
        "upsertBasePrices",
        {"prices": [{"productId": product, "currency": "USD", "amount": "1.00"}]},
    )
    timed(
        "100 customers into a bench group",
        "addCustomersToGroup",
        "GroupCustomersInput",
        "addCustomersToGroup",
        {"groupId": bench_group, "customerIds": customers},
    )
    timed(
        "deactivate a bench group",
        "updateCustomerGroup",
        "UpdateCustomerGroupInput",
        "updateCustomerGroup",
        {"id": bench_group, "isActive": False},
    )
    timed(
        "20 % off rule on the storewide list (every product)",
        "updatePriceList",
        "UpdatePriceListInput",
        "updatePriceList",
        {"id": everyday, "rule": {"percentOff": "20"}},
    )
    timed(
        "delete a product (every product, every shopper)",
        "deleteProduct",
        "DeleteInput",
        "deleteProduct",
        {"id": product},
    )
    line = first_id("{ productLines(first: 1) { nodes { id } } }", ["productLines", "nodes", 0, "id"])
    timed(
        "restrict a bench group to one product line (every product)",
        "setGroupProductLines",
        "SetGroupProductLinesInput",
        "setGroupProductLines",
        {"groupId": bench_group, "productLineIds": [line]},
    )
    assert first_id(count, ["priceLists", "totalCount"]) == lists_before, "a dry run wrote"


if __name__ == "__main__":
    main()
