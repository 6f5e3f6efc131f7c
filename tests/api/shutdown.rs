//! Graceful shutdown of the real binary: on SIGTERM `/ready` answers 503
//! while the listener still serves, a request in flight completes, and the
//! process exits 0; one that outlives the grace period is cut and the
//! process still exits 0.
//!
//! "In flight" is made exact, not timed: the request is sent with
//! `Expect: 100-continue` and its body held back. The server's
//! `100 Continue` says its handler has started reading; the signal comes
//! after it, and the body (if ever) after the server logged that the
//! listener is closing.

use std::io::Write;

use serde_json::json;

use crate::binary::{EXIT_GUARD, Process, connect, get, post_head, read_head, read_response};

/// The first pricing groups in creation order: the built-in one, then the demo's.
const QUERY: &str = "{ customerGroups(first: 3, filter: { kind: PRICING }) { edges { node { name } } } }";

fn started_request(addr: std::net::SocketAddr, body: &str) -> std::net::TcpStream {
    let mut stream = connect(addr);
    stream
        .write_all(post_head(addr, body.len()).as_bytes())
        .expect("head sent");
    let interim = read_head(&mut stream);
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
    stream
}

#[test]
fn sigterm_drains_then_finishes_the_request_in_flight_and_exits_0() {
    // The drain delay only has to outlast one local /ready request after
    // the flag flips; the grace period is a failure guard.
    let (mut server, addr) = Process::serve(&[
        "--demo",
        "--shutdown-drain-seconds",
        "5",
        "--shutdown-grace-seconds",
        "120",
    ]);
    assert_eq!(get(addr, "/ready").status, 200);
    let body = json!({ "query": QUERY }).to_string();
    let mut in_flight = started_request(addr, &body);

    server.terminate();
    let guard = std::time::Instant::now() + EXIT_GUARD;
    let ready = loop {
        let ready = get(addr, "/ready");
        if ready.status != 200 || std::time::Instant::now() > guard {
            break ready;
        }
    };
    assert_eq!(ready.status, 503, "{ready:?}");
    assert_eq!(ready.json(), json!({ "status": "draining" }));
    assert_eq!(get(addr, "/health").status, 200, "the listener serves while draining");

    server.wait_for_line("closing the listener");
    in_flight.write_all(body.as_bytes()).expect("body sent");
    let response = read_response(&mut in_flight);
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.json(),
        json!({ "data": { "customerGroups": { "edges": [
            { "node": { "name": "Everyone" } },
            { "node": { "name": "VIP" } },
            { "node": { "name": "Wholesale" } },
        ] } } })
    );

    let status = server.wait_for_exit();
    assert_eq!(status.code(), Some(0), "{}", server.log());
    let log = server.log();
    for step in [
        "shutting down signal=\"SIGTERM\"",
        "draining: /ready answers 503",
        "closing the listener",
        "every request in flight finished",
        "stopped",
    ] {
        assert!(log.contains(step), "no {step:?} in the log:\n{log}");
    }
    assert!(!log.contains("cutting"), "{log}");
    assert!(
        !log.contains("ERROR"),
        "a drain is no error, nor is /ready's 503 during it:\n{log}"
    );
}

#[test]
fn a_request_that_outlives_the_grace_period_is_cut_and_the_process_exits_0() {
    let (mut server, addr) = Process::serve(&["--shutdown-grace-seconds", "1"]);
    let body = json!({ "query": QUERY }).to_string();
    let mut never_finished = started_request(addr, &body);

    server.terminate();
    let status = server.wait_for_exit();

    assert_eq!(status.code(), Some(0), "{}", server.log());
    let log = server.log();
    assert!(
        log.contains("cutting 1 request(s) in flight"),
        "no warning about the cut request:\n{log}"
    );
    assert!(!log.contains("every request in flight finished"), "{log}");
    let mut rest = Vec::new();
    let read = std::io::Read::read_to_end(&mut never_finished, &mut rest);
    assert!(
        read.is_err() || rest.is_empty(),
        "the cut request was answered: {:?}",
        String::from_utf8_lossy(&rest)
    );
}

#[test]
fn sigterm_or_ctrl_c_with_nothing_in_flight_exits_0() {
    for (signal, name) in [("TERM", "SIGTERM"), ("INT", "Ctrl-C")] {
        let (mut server, addr) = Process::serve(&[]);
        assert_eq!(get(addr, "/ready").status, 200);

        server.signal(signal);

        assert_eq!(server.wait_for_exit().code(), Some(0), "{}", server.log());
        let log = server.log();
        assert!(log.contains(&format!("shutting down signal=\"{name}\"")), "{log}");
        assert!(log.contains("every request in flight finished"), "{log}");
    }
}

/// The handlers are installed before the server says it listens: a signal
/// right after that line is a shutdown, not a death by signal (this raced
/// when the handlers were installed on the first poll).
#[test]
fn a_signal_right_after_the_listening_line_is_handled() {
    for _ in 0..5 {
        let (mut server, _) = Process::serve(&[]);
        server.terminate();
        assert_eq!(server.wait_for_exit().code(), Some(0), "{}", server.log());
    }
}

/// In the production profile, with no drain delay given, a stopping server
/// answers `/ready` 503 while its listener still serves for a few seconds,
/// so a load balancer sees it leave before any connection is refused.
#[test]
fn in_production_sigterm_drains_by_default_before_the_listener_closes() {
    let (mut server, addr) = Process::serve(&["--profile", "production"]);
    assert_eq!(get(addr, "/ready").status, 200);

    server.terminate();
    server.wait_for_line("draining: /ready answers 503");
    let signalled = std::time::Instant::now();
    let ready = get(addr, "/ready");
    assert_eq!(ready.status, 503, "{ready:?}");
    assert_eq!(get(addr, "/health").status, 200, "the listener serves while draining");
    server.wait_for_line("closing the listener");
    let drained = signalled.elapsed();
    assert!(
        drained >= std::time::Duration::from_secs(4),
        "the listener closed {drained:?} after the drain began"
    );
    assert_eq!(server.wait_for_exit().code(), Some(0), "{}", server.log());
    assert!(server.log().contains("drain_delay_seconds=5"), "{}", server.log());
}
