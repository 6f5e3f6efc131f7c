//! The SSRF guard: a webhook must not make the server call into its own
//! network. An endpoint whose host is, or resolves to, a private, loopback,
//! link-local, unspecified, multicast, broadcast, shared (CGNAT) or
//! documentation address is refused, at registration and again at every
//! delivery, after DNS resolution: the delivery client resolves through
//! [`GuardedResolver`], which drops such addresses, so a name that turns
//! private later (DNS rebinding) is refused too. Redirects are not followed.
//! `--webhook-allow-private` lifts the guard (development and tests).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use url::{Host, Url};

/// Longest endpoint URL.
pub const MAX_URL_LENGTH: usize = 2_048;

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || ip.to_ipv4().is_some_and(|v4| !is_public_v4(v4)))
}

/// Why a URL cannot be an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("must be an absolute http or https URL")]
    NotAUrl,
    #[error("must use http or https")]
    Scheme,
    #[error("must be at most {MAX_URL_LENGTH} characters long")]
    TooLong,
    #[error("must not carry a user name or password")]
    Credentials,
    #[error(
        "resolves to a private, loopback or otherwise internal address; the operator may allow those with --webhook-allow-private"
    )]
    Private,
    #[error("its host name does not resolve")]
    Unresolved,
}

/// Parses an endpoint URL: absolute, http(s), with a host, no credentials.
pub fn parse(raw: &str) -> Result<Url, TargetError> {
    if raw.len() > MAX_URL_LENGTH {
        return Err(TargetError::TooLong);
    }
    let url = Url::parse(raw.trim()).map_err(|_| TargetError::NotAUrl)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::Scheme);
    }
    if url.host().is_none() {
        return Err(TargetError::NotAUrl);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    Ok(url)
}

/// The address written in the URL itself, when it is one.
fn literal(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        Host::Domain(_) => None,
    }
}

/// The guard at registration: every address the host resolves to now must
/// be public (unless private ones are allowed).
pub async fn check(url: &Url, allow_private: bool) -> Result<(), TargetError> {
    if allow_private {
        return Ok(());
    }
    if let Some(ip) = literal(url) {
        return if is_public(ip) {
            Ok(())
        } else {
            Err(TargetError::Private)
        };
    }
    let host = url.host_str().ok_or(TargetError::NotAUrl)?;
    let port = url.port_or_known_default().unwrap_or(443);
    let resolving = tokio::net::lookup_host((host, port));
    let addrs: Vec<SocketAddr> = match tokio::time::timeout(std::time::Duration::from_secs(5), resolving).await {
        Ok(Ok(addrs)) => addrs.take(64).collect(),
        _ => return Err(TargetError::Unresolved),
    };
    if addrs.is_empty() {
        return Err(TargetError::Unresolved);
    }
    if addrs.iter().all(|a| is_public(a.ip())) {
        Ok(())
    } else {
        Err(TargetError::Private)
    }
}

/// The guard at delivery for a URL whose host is an address (those never
/// reach the resolver).
pub fn check_literal(url: &Url, allow_private: bool) -> Result<(), TargetError> {
    match literal(url) {
        Some(ip) if !allow_private && !is_public(ip) => Err(TargetError::Private),
        _ => Ok(()),
    }
}

/// The delivery client's resolver: the system's, without the addresses the
/// guard refuses (none at all: the attempt fails as refused).
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = found
                .take(64)
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(GuardError(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A host that resolved only to refused addresses.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves to no public address (refused: see --webhook-allow-private)")]
struct GuardError(String);

/// The resolver, shared by the client.
pub fn resolver(allow_private: bool) -> Arc<GuardedResolver> {
    Arc::new(GuardedResolver { allow_private })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "ff02::1",
        ] {
            let ip: IpAddr = internal.parse().expect("an address");
            assert!(!is_public(ip), "{internal}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            let ip: IpAddr = public.parse().expect("an address");
            assert!(is_public(ip), "{public}");
        }
    }

    #[test]
    fn urls_are_parsed_strictly() {
        assert_eq!(parse("ftp://example.com/x"), Err(TargetError::Scheme));
        assert_eq!(parse("not a url"), Err(TargetError::NotAUrl));
        assert_eq!(parse("https://u:p@example.com/"), Err(TargetError::Credentials));
        assert!(parse("https://example.com/hooks").is_ok());
    }
}
