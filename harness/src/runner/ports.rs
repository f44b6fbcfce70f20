//! The loopback ports handed to gateways that take `--port` and bind it themselves.
//!
//! A port picked in advance is free only until someone else takes it: asking the
//! kernel for one (`bind` to port 0) and releasing it lets the very next `bind(0)` or
//! outgoing connection anywhere on the machine take it while the gateway is still
//! starting — and the downstream client, which waits until the port accepts
//! connections, then talks to a stranger (a busy CI runner makes thousands of such
//! connections a minute). So a lease comes from *below* the kernel's ephemeral range
//! (`/proc/sys/net/ipv4/ip_local_port_range`), which neither takes, and is held by an
//! advisory file lock for as long as the case runs, so two cases (in one harness or
//! in several at once) never share one. A port something already listens on is
//! skipped.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::ops::Range;
use std::path::PathBuf;

/// How many candidates a lease tries before giving up.
const ATTEMPTS: usize = 512;
/// The lowest port a lease takes (well above the registered services people run).
const LOWEST: u16 = 10_000;
/// Below this many ports under the ephemeral range, leases come from above it.
const ENOUGH: u16 = 2_000;

/// A loopback port leased to one case: its lock is held until the lease is dropped.
#[derive(Debug)]
pub struct Lease {
    port: u16,
    _lock: File,
}

impl Lease {
    /// Lease a port nothing listens on, outside the kernel's ephemeral range.
    pub fn take() -> io::Result<Self> {
        let range = candidates(ephemeral_range());
        let dir = std::env::temp_dir().join("backchannel-ports");
        std::fs::create_dir_all(&dir)?;
        let span = u32::from(range.end - range.start);
        let start = random_u32()? % span;
        for i in 0..ATTEMPTS {
            let offset = (start + u32::try_from(i).unwrap_or(0)) % span;
            let port = range.start + u16::try_from(offset).unwrap_or(0);
            if let Some(lease) = Self::try_port(&dir, port)? {
                return Ok(lease);
            }
        }
        Err(io::Error::other(format!(
            "no port in {}..{} was both unlocked and free after {ATTEMPTS} tries",
            range.start, range.end
        )))
    }

    /// The leased port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `port` leased, or `None` when another case holds its lock or something listens on it.
    fn try_port(dir: &std::path::Path, port: u16) -> io::Result<Option<Self>> {
        let path: PathBuf = dir.join(format!("{port}.lock"));
        let lock = OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(e),
        }
        // Free now (a probe bind, released at once): nothing outside the harness listens.
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
            return Ok(None);
        }
        Ok(Some(Self { port, _lock: lock }))
    }
}

/// The kernel's ephemeral range (the documented Linux default where it cannot be read).
fn ephemeral_range() -> Range<u16> {
    let parsed = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok().and_then(|s| {
        let mut it = s.split_whitespace().map(str::parse::<u16>);
        match (it.next(), it.next()) {
            (Some(Ok(lo)), Some(Ok(hi))) if lo <= hi => Some(lo..hi.saturating_add(1).max(lo)),
            _ => None,
        }
    });
    parsed.unwrap_or(32_768..61_000)
}

/// Where leases come from: below the ephemeral range when there is room, else above it.
fn candidates(ephemeral: Range<u16>) -> Range<u16> {
    if ephemeral.start >= LOWEST.saturating_add(ENOUGH) {
        LOWEST..ephemeral.start
    } else if u16::MAX - ephemeral.end >= ENOUGH {
        ephemeral.end..u16::MAX
    } else {
        // A machine whose ephemeral range covers (nearly) everything: share it.
        LOWEST..u16::MAX
    }
}

fn random_u32() -> io::Result<u32> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(format!("no random bytes: {e}")))?;
    Ok(u32::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_come_from_outside_the_ephemeral_range() {
        assert_eq!(candidates(32_768..61_000), 10_000..32_768);
        assert_eq!(candidates(1_024..60_000), 60_000..u16::MAX);
        assert_eq!(candidates(1_024..65_000), 10_000..u16::MAX);
        let eph = ephemeral_range();
        let lease = Lease::take().unwrap();
        let range = candidates(eph.clone());
        assert!(range.contains(&lease.port()), "{} not in {range:?}", lease.port());
        if range.start >= eph.end || range.end <= eph.start {
            assert!(!eph.contains(&lease.port()));
        }
    }

    #[test]
    fn a_held_lease_is_never_handed_out_again_and_its_port_is_bindable() {
        let leases: Vec<Lease> = (0..40).map(|_| Lease::take().unwrap()).collect();
        let mut ports: Vec<u16> = leases.iter().map(Lease::port).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), leases.len(), "two held leases share a port");
        for l in &leases {
            std::net::TcpListener::bind(("127.0.0.1", l.port())).unwrap();
        }
    }

    #[test]
    fn a_port_something_listens_on_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let held = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = held.local_addr().unwrap().port();
        assert!(Lease::try_port(dir.path(), port).unwrap().is_none());
        drop(held);
        let lease = Lease::try_port(dir.path(), port).unwrap().expect("free once the listener is gone");
        assert!(Lease::try_port(dir.path(), port).unwrap().is_none(), "locked while leased");
        drop(lease);
        assert!(Lease::try_port(dir.path(), port).unwrap().is_some(), "free once the lease is dropped");
    }
}
