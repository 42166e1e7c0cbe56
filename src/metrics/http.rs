//! A tiny HTTP/1.1 server on a std `TcpListener`: `GET /metrics` and nothing else.
//!
//! One thread, one connection at a time, `Connection: close`: a Prometheus scrape every few
//! seconds needs no more, and it adds no dependency. Requests are read with a size cap and a
//! time-out, so a slow or hostile client can hold the endpoint for at most
//! [`IO_TIMEOUT`] and never the run.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Longest a client may take to send its request or read the answer.
pub const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// Request heads larger than this are refused (431).
const MAX_REQUEST_HEAD: usize = 8 * 1024;
/// How often the accept loop looks at the stop flag.
const POLL: Duration = Duration::from_millis(50);

pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The response body for `/metrics`, made on the server thread at each scrape.
pub type Render = Box<dyn Fn() -> String + Send>;

pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `addr` and serves from a new thread until dropped.
    pub fn start(addr: SocketAddr, render: Render) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        // Non-blocking accept, so the thread notices the stop flag without a wake-up
        // connection (which would need a reachable address for 0.0.0.0 binds).
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("kprod-metrics".into())
            .spawn(move || serve(listener, &flag, &render))?;
        Ok(Server {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The bound address (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: TcpListener, stop: &AtomicBool, render: &Render) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                // A failing client is the client's problem; the server goes on.
                let _ = handle(stream, render);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            // Out of descriptors and the like: back off instead of spinning.
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

fn handle(mut stream: TcpStream, render: &Render) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let head = match read_head(&mut stream)? {
        Some(h) => h,
        None => {
            return respond(
                &mut stream,
                431,
                "text/plain",
                b"request head too large\n",
                true,
            )
        }
    };
    let request_line = head.lines().next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let path = target.split('?').next().unwrap_or_default();
    let head_only = method == "HEAD";
    match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let body = render();
            respond(
                &mut stream,
                200,
                OPENMETRICS_CONTENT_TYPE,
                body.as_bytes(),
                !head_only,
            )
        }
        ("GET" | "HEAD", "/") => respond(
            &mut stream,
            200,
            "text/plain; charset=utf-8",
            b"kprod: metrics at /metrics (OpenMetrics text)\n",
            !head_only,
        ),
        ("GET" | "HEAD", _) => respond(&mut stream, 404, "text/plain", b"not found\n", !head_only),
        _ => respond(
            &mut stream,
            405,
            "text/plain",
            b"method not allowed\n",
            true,
        ),
    }
}

/// Reads up to the blank line that ends the request head. None when it is too large.
fn read_head(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = find_head_end(&buf) {
            buf.truncate(end);
            return Ok(Some(String::from_utf8_lossy(&buf).into_owned()));
        }
        if buf.len() > MAX_REQUEST_HEAD {
            return Ok(None);
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            // The client closed early: answer what was sent, if anything.
            return Ok(Some(String::from_utf8_lossy(&buf).into_owned()));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| buf.windows(2).position(|w| w == b"\n\n"))
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    with_body: bool,
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    };
    let allow = if status == 405 {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         {allow}Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()?;
    // Tell the client the answer is complete before the socket closes.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(addr: SocketAddr, request: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s.write_all(request).expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    }

    fn server() -> Server {
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        Server::start(addr, Box::new(|| "# EOF\n".to_string())).expect("bind")
    }

    #[test]
    fn serves_metrics_and_refuses_the_rest() {
        let s = server();
        let ok = get(s.addr(), b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains(OPENMETRICS_CONTENT_TYPE));
        assert!(ok.contains("Content-Length: 6\r\n"));
        assert!(ok.ends_with("\r\n\r\n# EOF\n"), "{ok}");
        let head = get(s.addr(), b"HEAD /metrics HTTP/1.1\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 200") && head.ends_with("\r\n\r\n"));
        assert!(get(s.addr(), b"GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
        let post = get(s.addr(), b"POST /metrics HTTP/1.1\r\n\r\n");
        assert!(post.starts_with("HTTP/1.1 405") && post.contains("Allow: GET, HEAD"));
        let huge = vec![b'a'; MAX_REQUEST_HEAD * 2];
        assert!(get(s.addr(), &huge).starts_with("HTTP/1.1 431"));
        // Garbage and an early close do not stop the server.
        assert!(get(s.addr(), b"\x00\xff\r\n\r\n").starts_with("HTTP/1.1 405"));
        drop(TcpStream::connect(s.addr()).expect("connect"));
        assert!(get(s.addr(), b"GET /metrics?x=1 HTTP/1.0\n\n").starts_with("HTTP/1.1 200"));
    }

    #[test]
    fn dropping_the_server_frees_the_port() {
        let s = server();
        let addr = s.addr();
        drop(s);
        assert!(TcpListener::bind(addr).is_ok());
    }
}
