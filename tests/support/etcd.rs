//! Real etcd (Debian's `etcd-server`), started per test on its own loopback address in
//! one of three modes, with certificates minted for the test. `scripts/test` installs
//! the package; a missing binary fails the test with the package name, never a skip.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{loopback, pki};

/// How the client port is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Plain HTTP.
    Plain,
    /// TLS, any client accepted.
    Tls,
    /// TLS, client certificates signed by etcd's own CA required.
    MutualTls,
}

/// A running etcd; stopped when dropped.
pub struct Etcd {
    /// The client URL's address (port 2379).
    pub client: SocketAddr,
    /// The peer URL's address (port 2380).
    pub peer: SocketAddr,
    /// The server certificate, DER (TLS modes).
    pub server_certificate: Option<Vec<u8>>,
    /// The CA that issued it, PEM (TLS modes).
    pub ca_pem: Option<String>,
    child: Child,
    dir: tempfile::TempDir,
}

fn binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join("etcd")).find(|candidate| candidate.is_file()).expect(
        "etcd is not installed: install Debian's etcd-server package (scripts/test does this on a fresh machine)",
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write etcd credentials");
    path.display().to_string()
}

impl Etcd {
    /// Starts etcd for the test named `test`.
    pub fn start(test: &str, mode: Mode) -> Self {
        Self::start_at(loopback::ip_with_ports(test, &[2379, 2380]), mode)
    }

    /// Starts etcd on `ip`, ports 2379 and 2380. In mutual-TLS mode the peer port
    /// requires client certificates too.
    pub fn start_at(ip: IpAddr, mode: Mode) -> Self {
        Self::start_with_ca(ip, mode, &pki::Ca::new("etcd-ca"))
    }

    /// Like [`Self::start_at`], with certificates from `ca` (to make etcd share a CA).
    pub fn start_with_ca(ip: IpAddr, mode: Mode, ca: &pki::Ca) -> Self {
        let client = SocketAddr::new(ip, 2379);
        let peer = SocketAddr::new(ip, 2380);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let scheme = if mode == Mode::Plain { "http" } else { "https" };
        let peer_scheme = if mode == Mode::MutualTls { "https" } else { "http" };
        let mut command = Command::new(binary());
        command
            .arg("--name=seaworthy-test")
            .arg(format!("--data-dir={}", dir.path().join("data").display()))
            .arg(format!("--listen-client-urls={scheme}://{client}"))
            .arg(format!("--advertise-client-urls={scheme}://{client}"))
            .arg(format!("--listen-peer-urls={peer_scheme}://{peer}"))
            .arg(format!("--initial-advertise-peer-urls={peer_scheme}://{peer}"))
            .arg(format!("--initial-cluster=seaworthy-test={peer_scheme}://{peer}"))
            .arg("--listen-metrics-urls=")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("etcd.log")).expect("log file"));
        if mode == Mode::Plain {
            // Weak: the profiler on, served to anyone on the plaintext client URL.
            command.arg("--enable-pprof");
        }
        let mut server_certificate = None;
        let mut ca_pem = None;
        if mode != Mode::Plain {
            let leaf = ca.server(ip);
            command.arg(format!("--cert-file={}", write(dir.path(), "server.crt", &leaf.cert_pem)));
            command.arg(format!("--key-file={}", write(dir.path(), "server.key", &leaf.key_pem)));
            if mode == Mode::MutualTls {
                // Hardened: AEAD suites only (Go's defaults still take AES-CBC with SHA-1).
                command.arg("--cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305");
                let ca_file = write(dir.path(), "ca.crt", &ca.cert_pem);
                command.arg("--client-cert-auth=true");
                command.arg(format!("--trusted-ca-file={ca_file}"));
                command.arg(format!("--peer-cert-file={}", write(dir.path(), "peer.crt", &leaf.cert_pem)));
                command.arg(format!("--peer-key-file={}", write(dir.path(), "peer.key", &leaf.key_pem)));
                command.arg("--peer-client-cert-auth=true");
                command.arg(format!("--peer-trusted-ca-file={ca_file}"));
            }
            server_certificate = Some(leaf.cert_der.to_vec());
            ca_pem = Some(ca.cert_pem.clone());
        }
        let child = command.spawn().expect("etcd starts");
        let mut etcd = Self { client, peer, server_certificate, ca_pem, child, dir };
        etcd.wait_until_listening();
        etcd
    }

    /// Waits until the client port accepts connections (etcd opens it once ready to
    /// serve); a crash or a minute without it fails with etcd's log.
    fn wait_until_listening(&mut self) {
        let started = Instant::now();
        while std::net::TcpStream::connect_timeout(&self.client, Duration::from_millis(200)).is_err() {
            let exited = self.child.try_wait().expect("etcd status");
            if exited.is_some() || started.elapsed() > Duration::from_secs(60) {
                let log = std::fs::read_to_string(self.dir.path().join("etcd.log")).unwrap_or_default();
                panic!("etcd did not start listening on {} ({exited:?}):\n{log}", self.client);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
