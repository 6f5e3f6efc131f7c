//! What one client may hold of a running server (the real binary): a
//! connection that sends nothing, or drips its head or body, is closed
//! after its timeout; past the connection limit, connections are answered
//! 503 with `Retry-After` at once; the server answers others all along.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::binary::{Process, connect, get, post_head, read_head, read_response};

/// Reads until the server closes the connection; returns what it sent and
/// how long that took.
fn until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut all = Vec::new();
    let _ = stream.read_to_end(&mut all);
    (String::from_utf8_lossy(&all).into_owned(), started.elapsed())
}

#[test]
fn silent_dripping_and_idle_connections_are_closed_after_their_timeout() {
    let (mut server, addr) = Process::serve(&["--header-timeout-seconds", "1", "--body-timeout-seconds", "1"]);
    // Sends nothing at all.
    let mut silent = connect(addr);
    // Stops in the middle of its head.
    let mut stalled = connect(addr);
    write!(stalled, "GET /health HTTP/1.1\r\nHost: x\r\n").expect("sent");
    // Drips its body.
    let mut dripping = connect(addr);
    write!(
        dripping,
        "{}",
        post_head(addr, 1000).replace("Expect: 100-continue\r\n", "")
    )
    .expect("sent");
    write!(dripping, "{{\"query\":").expect("sent");
    // Idle after a first request on a kept-alive connection.
    let mut idle = connect(addr);
    write!(idle, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n").expect("sent");
    let head = read_head(&mut idle);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    for (name, stream) in [("silent", &mut silent), ("stalled", &mut stalled), ("idle", &mut idle)] {
        let (_, took) = until_closed(stream);
        assert!(took < Duration::from_secs(5), "{name} stayed open {took:?}");
    }
    let (answer, took) = until_closed(&mut dripping);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("BODY_TIMEOUT"), "{answer}");
    assert!(took < Duration::from_secs(5), "the dripping body took {took:?}");
    assert_eq!(get(addr, "/health").status, 200);
    server.terminate();
    assert!(server.wait_for_exit().success(), "{}", server.log());
}

#[test]
fn past_the_connection_limit_connections_are_shed_with_retry_after() {
    let (mut server, addr) = Process::serve(&["--max-connections", "8", "--header-timeout-seconds", "30"]);
    assert!(
        server
            .log
            .iter()
            .any(|line| line.contains("at most 8 at once") && line.contains("file-descriptor limit")),
        "{}",
        server.log()
    );
    // Eight connections that hold their slot without sending anything.
    let mut held: Vec<TcpStream> = (0..8).map(|_| connect(addr)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut shed = connect(addr);
    write!(shed, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n").expect("sent");
    let response = read_response(&mut shed);
    assert_eq!(response.status, 503, "{}", response.body);
    assert!(response.body.contains("OVERLOADED"), "{}", response.body);
    let mut again = connect(addr);
    write!(again, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n").expect("sent");
    let head = read_head(&mut again);
    assert!(head.to_ascii_lowercase().contains("retry-after: 1"), "{head}");
    // A slot frees as soon as one of them goes, and the server serves again.
    held.pop();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = get(addr, "/health");
        if response.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still shedding: {}", response.body);
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(held);
    server.terminate();
    assert!(server.wait_for_exit().success(), "{}", server.log());
}
