//! A TLS server that still accepts TLS 1.0 and weak suites: Debian's `openssl s_server`
//! with the security level lowered, answering every GET with 200 (`-www`). The insecure
//! stand-in beside the rustls servers, which refuse both.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::pki;

/// A running `openssl s_server`; stopped on drop.
pub struct OldTls {
    child: Child,
    _dir: tempfile::TempDir,
}

impl OldTls {
    /// Starts a server on `address` with a self-signed certificate, and waits until it
    /// accepts connections.
    pub fn start(address: SocketAddr) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let leaf = pki::self_signed(address.ip(), (2100, 1, 1));
        let cert = dir.path().join("server.crt");
        let key = dir.path().join("server.key");
        std::fs::write(&cert, &leaf.cert_pem).expect("write the certificate");
        std::fs::write(&key, &leaf.key_pem).expect("write the key");
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-min_protocol", "TLSv1", "-cipher", "ALL:@SECLEVEL=0"])
            .arg("-accept")
            .arg(address.to_string())
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server starts (scripts/test installs openssl)");
        let server = Self { child, _dir: dir };
        // Readiness is a connection that succeeds, not a sleep: the deadline only bounds
        // a server that never comes up.
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(address).is_err() {
            assert!(Instant::now() < deadline, "openssl s_server did not listen on {address}");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }
}

impl Drop for OldTls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
