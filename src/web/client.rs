//! The client's address: the connection's peer, or, when the peer is a listed reverse proxy
//! (`server.trusted_proxies`), the address that proxy says it forwarded for.
//!
//! Only listed proxies are believed: a client that sends its own `X-Forwarded-For` straight to
//! the server is ignored, and of a forwarded chain the address taken is the rightmost one that
//! is not itself a trusted proxy (what the outermost trusted proxy saw), never the leftmost one a
//! client can write. The login throttle counts attempts per address from this.

use crate::{error::AppError, web::Site};
use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts},
    http::request::Parts,
};
use std::net::{IpAddr, SocketAddr};

/// An address or a network (`10.0.0.0/8`, `::1`) of trusted reverse proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Reads `192.0.2.1`, `10.0.0.0/8` or `fd00::/8`.
    pub fn parse(s: &str) -> Option<Network> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Network { addr, prefix })
    }

    /// Whether `ip` is in the network (an IPv4 address mapped into IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - self.prefix) };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The trusted proxies of `server.trusted_proxies`, or the first entry that is not one.
pub fn parse_networks(list: &[String]) -> Result<Vec<Network>, String> {
    list.iter()
        .map(|s| {
            Network::parse(s).ok_or_else(|| format!("server.trusted_proxies: {s:?} is not an address or a network"))
        })
        .collect()
}

/// The client's address for a request from `peer` with these headers.
pub fn client_ip(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[Network]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    // Every X-Forwarded-For header, in order, as one list; the nearest hop is the last.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else { break };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// One entry of `X-Forwarded-For`: an address, possibly with a port (`[::1]:80`, `1.2.3.4:80`).
fn parse_hop(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    s.parse::<SocketAddr>().ok().map(|a| a.ip())
}

/// The client's address, as an extractor (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr
where
    Site: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or_else(|| AppError::internal("no peer address on the connection"))?;
        Ok(ClientAddr(client_ip(peer, &parts.headers, &Site::from_ref(state).trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn only_listed_proxies_are_believed_and_the_nearest_untrusted_hop_is_the_client() {
        let trusted = parse_networks(&["10.0.0.0/8".into(), "192.0.2.7".into()]).expect("networks");
        // Straight from a client: its own header is ignored.
        assert_eq!(client_ip(ip("203.0.113.5"), &forwarded(&["1.2.3.4"]), &trusted), ip("203.0.113.5"));
        // Through the proxy: the address it saw.
        assert_eq!(client_ip(ip("10.1.2.3"), &forwarded(&["198.51.100.9"]), &trusted), ip("198.51.100.9"));
        // A client that writes a first entry itself does not choose its address.
        assert_eq!(client_ip(ip("10.1.2.3"), &forwarded(&["1.1.1.1, 198.51.100.9"]), &trusted), ip("198.51.100.9"));
        // Two trusted proxies in a row, over two headers.
        assert_eq!(
            client_ip(ip("192.0.2.7"), &forwarded(&["1.1.1.1, 198.51.100.9", "10.9.9.9"]), &trusted),
            ip("198.51.100.9")
        );
        // An unreadable hop stops the walk at the last address that was read.
        assert_eq!(client_ip(ip("10.1.2.3"), &forwarded(&["garbage"]), &trusted), ip("10.1.2.3"));
        assert_eq!(client_ip(ip("10.1.2.3"), &forwarded(&["[2001:db8::1]:443"]), &trusted), ip("2001:db8::1"));
        // Without the header, the proxy itself.
        assert_eq!(client_ip(ip("10.1.2.3"), &HeaderMap::new(), &trusted), ip("10.1.2.3"));
        // Nothing trusted: nothing believed.
        assert_eq!(client_ip(ip("10.1.2.3"), &forwarded(&["198.51.100.9"]), &[]), ip("10.1.2.3"));
    }

    #[test]
    fn networks_parse_and_contain() {
        let n = Network::parse("10.0.0.0/8").expect("net");
        assert!(n.contains(ip("10.255.0.1")) && !n.contains(ip("11.0.0.1")));
        assert!(n.contains(ip("::ffff:10.0.0.1")), "an IPv4-mapped address");
        assert!(Network::parse("fd00::/8").expect("v6").contains(ip("fd12::1")));
        assert!(Network::parse("0.0.0.0/0").expect("all").contains(ip("8.8.8.8")));
        for bad in ["", "10.0.0.0/33", "::/129", "example.org", "10.0.0.0/x"] {
            assert!(Network::parse(bad).is_none(), "{bad}");
        }
        assert!(parse_networks(&["10.0.0.1".into(), "nope".into()]).is_err());
    }
}
