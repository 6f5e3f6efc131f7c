//! The real `pricegraph` binary in a child process, on a SQLite file of its
//! own, and a bare HTTP/1.1 client for it: for what only a process shows
//! (signals, exit status, start-up refusals). The server binds port 0 and
//! says where in its log; nothing sleeps waiting for it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// Failure guards only: nothing here should take more than a fraction of them.
pub const START_GUARD: Duration = Duration::from_secs(60);
pub const EXIT_GUARD: Duration = Duration::from_secs(60);

pub struct Process {
    child: Child,
    /// Every line of standard output and standard error, as it is written.
    lines: Receiver<String>,
    /// The lines read so far.
    pub log: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Process {
    /// Runs `pricegraph <args>` on a fresh SQLite file, with plain text logs.
    pub fn start(args: &[&str]) -> Self {
        Self::start_with(args, &[])
    }

    /// [`Process::start`] with more environment variables (set last).
    pub fn start_with(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/x.db?mode=rwc", dir.path().display());
        let mut child = Command::new(env!("CARGO_BIN_EXE_pricegraph"))
            .args(args)
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "info,sqlx=warn,sea_orm=warn")
            .env("NO_COLOR", "1")
            .env_remove("PRICEGRAPH_LISTEN")
            .env_remove("REDIS_URL")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let (sender, lines) = channel();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        for stream in [Box::new(stdout) as Box<dyn Read + Send>, Box::new(stderr)] {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Self {
            child,
            lines,
            log: Vec::new(),
            _dir: dir,
        }
    }

    /// Runs `pricegraph serve --listen 127.0.0.1:0 <args>` and returns it
    /// with the address it listens on.
    pub fn serve(args: &[&str]) -> (Self, SocketAddr) {
        Self::serve_with(args, &[])
    }

    /// [`Process::serve`] with more environment variables.
    pub fn serve_with(args: &[&str], envs: &[(&str, &str)]) -> (Self, SocketAddr) {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut process = Self::start_with(&all, envs);
        let line = process.wait_for_line("pricegraph listening on http://");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        (process, addr)
    }

    /// The first line (from now) that contains `needle`; panics, with the
    /// log so far, if the process ends or the guard passes first.
    pub fn wait_for_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + START_GUARD;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("no {needle:?} within {START_GUARD:?}:\n{}", self.log()),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the process ended without {needle:?}:\n{}", self.log())
                }
            }
        }
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Sends SIGTERM, as an orchestrator does.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Sends a signal by name (`TERM`, `INT`, ...).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} {} failed", self.pid());
    }

    /// Waits for the process to end (panics after the guard) and reads the
    /// rest of its output into [`Process::log`].
    pub fn wait_for_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + EXIT_GUARD;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "still running {EXIT_GUARD:?} later:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(line) = self.lines.recv_timeout(EXIT_GUARD) {
            self.log.push(line);
        }
        status
    }

    pub fn log(&self) -> String {
        self.log.join("\n")
    }
}

impl Drop for Process {
    /// A failed test leaves no server behind.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A response read off the wire.
#[derive(Debug)]
pub struct WireResponse {
    pub status: u16,
    pub body: String,
}

impl WireResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("the server accepts");
    stream.set_read_timeout(Some(EXIT_GUARD)).expect("read timeout");
    stream
}

/// `GET path` on a connection of its own.
pub fn get(addr: SocketAddr, path: &str) -> WireResponse {
    let mut stream = connect(addr);
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request sent");
    read_response(&mut stream)
}

/// A GraphQL query POSTed with the given `X-Request-Id`.
pub fn post_graphql(addr: SocketAddr, request_id: &str, query: &str) -> WireResponse {
    let body = serde_json::json!({ "query": query }).to_string();
    let mut stream = connect(addr);
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-Request-Id: {request_id}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request sent");
    read_response(&mut stream)
}

/// The head of a JSON POST to `/graphql` whose body of `length` bytes the
/// caller sends; `Expect: 100-continue` makes the server say when its
/// handler starts reading that body, that is, when the request is in flight.
pub fn post_head(addr: SocketAddr, length: usize) -> String {
    format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    )
}

/// Reads up to the end of a response head; returns it (without the blank line).
pub fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) => panic!("the connection closed inside a response head: {:?}", lossy(&head)),
            Ok(_) => head.push(byte[0]),
            Err(error) => panic!("reading a response head: {error}; so far {:?}", lossy(&head)),
        }
    }
    head.truncate(head.len() - 4);
    lossy(&head)
}

/// Reads a whole response sent with `Connection: close`, skipping any
/// interim (1xx) response.
pub fn read_response(stream: &mut TcpStream) -> WireResponse {
    let (status, head) = loop {
        let head = read_head(stream);
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status in {head:?}"));
        if status >= 200 {
            break (status, head);
        }
    };
    let mut body = Vec::new();
    stream.read_to_end(&mut body).expect("the body");
    assert!(
        !head.to_ascii_lowercase().contains("transfer-encoding: chunked"),
        "a chunked body, which this client does not decode: {head}"
    );
    WireResponse {
        status,
        body: lossy(&body),
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
