//! The real binary under three attackers at once: every attack class of the
//! adversary issue, round after round, while an ordinary storefront query
//! runs beside them. The server stays up, answers every request (attacks
//! included) within its request timeout plus a second, answers the ordinary
//! query every time, and its peak memory stays within 256 MB of what it held
//! idle. The figures under a release build are in BENCHMARKS.md.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::adversary::{aliased, fragment_bomb};
use crate::binary::{Process, WireResponse, connect, get, read_response};

/// The server's request timeout in this test.
const TIMEOUT: Duration = Duration::from_secs(5);
/// What an answer may take past that timeout.
const MARGIN: Duration = Duration::from_secs(1);
/// Peak resident memory allowed above the idle server's.
const MEMORY_BOUND_KB: u64 = 256 * 1024;

fn post(addr: SocketAddr, body: &str) -> WireResponse {
    use std::io::Write;
    let mut stream = connect(addr);
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request sent");
    read_response(&mut stream)
}

/// A field of /proc/<pid>/status, in kB.
fn memory_kb(pid: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process status");
    status
        .lines()
        .find_map(|line| {
            line.strip_prefix(field)?
                .trim_start_matches(':')
                .trim()
                .strip_suffix("kB")
        })
        .and_then(|kb| kb.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

/// Each attack class: its name, how it is sent, and what it must answer.
struct Attack {
    name: &'static str,
    send: Box<dyn Fn(SocketAddr) -> WireResponse + Send + Sync>,
    status: u16,
    code: Option<&'static str>,
}

fn attacks(product: &str) -> Vec<Attack> {
    let nested = format!("%7Ba(b:{}1{})%7D", "%5B".repeat(2000), "%5D".repeat(2000));
    let items: Vec<_> = (0..1000)
        .map(|_| json!({ "productId": product, "quantity": 7 }))
        .collect();
    let input = json!({ "currency": "USD", "items": items });
    let posted = |body: serde_json::Value| {
        let body = body.to_string();
        Box::new(move |addr: SocketAddr| post(addr, &body)) as Box<dyn Fn(SocketAddr) -> WireResponse + Send + Sync>
    };
    let representations: Vec<_> = (0..10_000)
        .map(|_| json!({ "__typename": "Product", "id": product }))
        .collect();
    vec![
        Attack {
            name: "nested lists on GET",
            send: Box::new(move |addr| get(addr, &format!("/graphql?query={nested}"))),
            status: 400,
            code: Some("QUERY_TOO_DEEP"),
        },
        Attack {
            name: "resolvePrices, 1,000 items under 3,000 aliases",
            send: posted(json!({
                "query": format!("query($i: ResolvePricesInput!) {}",
                    aliased(3000, |n| format!("a{n}: resolvePrices(input: $i) {{ source }}"))),
                "variables": { "i": input },
            })),
            status: 400,
            code: Some("QUERY_TOO_COMPLEX"),
        },
        Attack {
            name: "the heaviest accepted request: 1,000 explained resolutions",
            send: posted(json!({
                "query": "query($i: ResolvePricesInput!) { resolvePrices(input: $i) \
                          { source amount { amount } explanation { outcome priority } } }",
                "variables": { "i": input },
            })),
            status: 200,
            code: None,
        },
        Attack {
            name: "55,000 aliased __typename",
            send: posted(json!({ "query": aliased(55_000, |n| format!("a{n}: __typename")) })),
            status: 400,
            code: Some("QUERY_TOO_COMPLEX"),
        },
        Attack {
            name: "1,500 aliased introspections",
            send: posted(json!({ "query": aliased(1500, |n| format!("a{n}: __schema {{ types {{ name }} }}")) })),
            status: 200,
            code: Some("QUERY_TOO_COMPLEX"),
        },
        Attack {
            name: "a fragment bomb",
            send: posted(json!({ "query": fragment_bomb() })),
            status: 200,
            code: Some("QUERY_TOO_COMPLEX"),
        },
        Attack {
            name: "_entities with 10,000 representations",
            send: posted(json!({
                "query": "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
                "variables": { "r": representations },
            })),
            status: 200,
            code: Some("QUERY_TOO_COMPLEX"),
        },
        Attack {
            name: "a 60,000-character search",
            send: posted(json!({
                "query": "query($s: String) { products(first: 1, filter: { search: $s }) { totalCount } }",
                "variables": { "s": "%_".repeat(30_000) },
            })),
            status: 200,
            code: Some("BAD_USER_INPUT"),
        },
    ]
}

#[test]
fn three_attackers_neither_stall_nor_bloat_the_server_nor_starve_a_storefront() {
    let timeout = TIMEOUT.as_millis().to_string();
    let (mut server, addr) = Process::serve(&["--demo", "--request-timeout-ms", &timeout]);
    let ordinary = json!({ "query": "{ products(first: 20) { edges { node { id sku \
        resolvedPrice(currency: \"USD\") { amount { amount } source } } } } }" })
    .to_string();
    let first = post(addr, &ordinary).json();
    let product = first["data"]["products"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a demo product: {first}"))
        .to_string();
    let idle = memory_kb(&server.pid(), "VmRSS");

    let attacks = Arc::new(attacks(&product));
    let stop = Arc::new(AtomicBool::new(false));
    let attackers: Vec<_> = (0..3)
        .map(|attacker| {
            let (attacks, stop) = (attacks.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut slowest = Duration::ZERO;
                let mut sent = 0;
                // Each attacker starts at another class, and goes round them all at least twice.
                let mut round = 0;
                while round < 2 || !stop.load(Ordering::SeqCst) {
                    for index in 0..attacks.len() {
                        let attack = &attacks[(index + attacker * 3) % attacks.len()];
                        let started = Instant::now();
                        let response = (attack.send)(addr);
                        let took = started.elapsed();
                        slowest = slowest.max(took);
                        sent += 1;
                        assert_eq!(response.status, attack.status, "{}: {}", attack.name, response.body);
                        if let Some(code) = attack.code {
                            assert!(response.body.contains(code), "{}: {}", attack.name, response.body);
                        } else {
                            assert!(
                                !response.body.contains("\"errors\""),
                                "{}: {}",
                                attack.name,
                                response.body
                            );
                        }
                        assert!(took <= TIMEOUT + MARGIN, "{} took {took:?}", attack.name);
                    }
                    round += 1;
                }
                (sent, slowest)
            })
        })
        .collect();

    // The ordinary query, one after another, as long as the attackers run.
    let mut latencies = Vec::new();
    while !attackers.iter().all(|a| a.is_finished()) {
        let started = Instant::now();
        let answer = post(addr, &ordinary);
        latencies.push(started.elapsed());
        assert_eq!(answer.status, 200, "{}", answer.body);
        let json = answer.json();
        assert_eq!(json["data"], first["data"], "{json}");
        if latencies.len() == 20 {
            stop.store(true, Ordering::SeqCst);
        }
    }
    stop.store(true, Ordering::SeqCst);
    let mut sent = 0;
    let mut slowest = Duration::ZERO;
    for attacker in attackers {
        let (count, slow) = attacker.join().expect("an attacker's assertions");
        sent += count;
        slowest = slowest.max(slow);
    }
    latencies.sort();
    let worst = *latencies.last().expect("the ordinary query ran");
    let peak = memory_kb(&server.pid(), "VmHWM");
    eprintln!(
        "{sent} attacks, slowest answer {slowest:?}; ordinary query ×{}: median {:?}, worst {worst:?}; \
         memory idle {idle} kB, peak {peak} kB",
        latencies.len(),
        latencies[latencies.len() / 2],
    );
    assert!(worst <= TIMEOUT + MARGIN, "the ordinary query waited {worst:?}");
    assert!(
        peak.saturating_sub(idle) < MEMORY_BOUND_KB,
        "peak {peak} kB, idle {idle} kB"
    );
    assert_eq!(get(addr, "/health").status, 200);
    server.terminate();
    assert!(server.wait_for_exit().success(), "{}", server.log());
}
