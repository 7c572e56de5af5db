//! Where a delivery may go. A webhook URL is typed by an administrator, but the request comes
//! from inside the network Clavis runs in, so the address it reaches is checked, not the name:
//!
//! - the URL must be `https`, or `http` to a loopback address;
//! - link-local and cloud-metadata addresses are always refused;
//! - private, loopback and other internal ranges only with `webhook_allow_private_networks`;
//! - every address a name resolves to is checked at each attempt, and the connection goes to
//!   the addresses that passed (see `dispatch`), so DNS cannot swap in another one later.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Why an address is refused, in words for the administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    LinkLocal,
    Metadata,
    Private,
    Unspecified,
}

impl Refusal {
    pub fn message(self, ip: IpAddr) -> String {
        match self {
            Refusal::LinkLocal => format!("{ip} is a link-local address; webhooks never go there."),
            Refusal::Metadata => format!("{ip} is a cloud metadata address; webhooks never go there."),
            Refusal::Private => format!(
                "{ip} is a private or loopback address; set webhook_allow_private_networks = true to deliver inside your network."
            ),
            Refusal::Unspecified => format!("{ip} is not an address a webhook can reach."),
        }
    }
}

fn v4_refusal(ip: Ipv4Addr) -> Option<Refusal> {
    let [a, b, ..] = ip.octets();
    if ip.is_link_local() {
        // 169.254.0.0/16, which holds 169.254.169.254, the metadata service of most clouds.
        return Some(if ip == Ipv4Addr::new(169, 254, 169, 254) {
            Refusal::Metadata
        } else {
            Refusal::LinkLocal
        });
    }
    // Alibaba Cloud's metadata service.
    if ip == Ipv4Addr::new(100, 100, 100, 200) {
        return Some(Refusal::Metadata);
    }
    if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() || a == 0 || a >= 240 {
        return Some(Refusal::Unspecified);
    }
    let shared = a == 100 && (64..128).contains(&b); // 100.64.0.0/10, carrier-grade NAT
    let benchmarking = a == 198 && (b == 18 || b == 19);
    if ip.is_private() || ip.is_loopback() || shared || benchmarking || ip.is_documentation() {
        return Some(Refusal::Private);
    }
    None
}

/// The IPv4 address inside an IPv6 one that may carry it to an IPv4 host: mapped
/// (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), SIIT (`::ffff:0:a.b.c.d`), NAT64
/// (`64:ff9b::/96`, `64:ff9b:1::/48`) and 6to4 (`2002::/16`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let last = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0xffff, 0, _, _] => Some(last),
        [0, 0, 0, 0, 0, 0, _, _] if !ip.is_loopback() && !ip.is_unspecified() => Some(last),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] | [0x64, 0xff9b, 1, ..] => Some(last),
        [0x2002, a, b, ..] => Some(Ipv4Addr::new(
            (a >> 8) as u8,
            a as u8,
            (b >> 8) as u8,
            b as u8,
        )),
        _ => None,
    }
}

fn v6_refusal(ip: Ipv6Addr) -> Option<Refusal> {
    if let Some(v4) = embedded_v4(ip) {
        return v4_refusal(v4);
    }
    let first = ip.segments()[0];
    if first & 0xffc0 == 0xfe80 {
        return Some(Refusal::LinkLocal); // fe80::/10
    }
    // AWS's metadata service over IPv6.
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some(Refusal::Metadata);
    }
    if ip.is_unspecified() || ip.is_multicast() {
        return Some(Refusal::Unspecified);
    }
    // Unique local fc00::/7, site-local fec0::/10 and loopback.
    if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 || ip.is_loopback() {
        return Some(Refusal::Private);
    }
    None
}

/// Whether a delivery may connect to `ip`.
pub fn check_ip(ip: IpAddr, allow_private: bool) -> Result<(), String> {
    let refusal = match ip {
        IpAddr::V4(v4) => v4_refusal(v4),
        IpAddr::V6(v6) => v6_refusal(v6),
    };
    match refusal {
        None => Ok(()),
        Some(Refusal::Private) if allow_private => Ok(()),
        Some(r) => Err(r.message(ip)),
    }
}

fn is_loopback_host(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Checks a webhook URL as typed; `Err` is the message for the `url` field. Names are checked
/// again, resolved, at each attempt.
pub fn check_url(raw: &str, allow_private: bool) -> Result<Url, String> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err("A URL has at most 2000 characters.".into());
    }
    let url = Url::parse(raw)
        .map_err(|_| "Enter a full URL, such as https://hooks.example.com/clavis.".to_string())?;
    let host = url.host().ok_or("The URL needs a host.")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "Put no user name or password in the URL; verify deliveries by their signature.".into(),
        );
    }
    if url.fragment().is_some() {
        return Err("A webhook URL has no fragment (#…).".into());
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        "http" => {
            return Err("Use https; plain http is allowed only to a loopback address.".into())
        }
        _ => return Err("Use an https URL.".into()),
    }
    let literal = match host {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => {
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        }
        Host::Domain(_) => None,
    };
    if let Some(ip) = literal {
        check_ip(ip, allow_private)?;
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn link_local_and_metadata_are_always_refused() {
        for a in [
            // The metadata address inside IPv6 forms that reach IPv4 hosts.
            "::a9fe:a9fe",
            "::ffff:0:a9fe:a9fe",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "169.254.169.254",
            "169.254.1.1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "100.100.100.200",
        ] {
            assert!(check_ip(ip(a), true).is_err(), "{a}");
        }
        assert!(check_ip(ip("169.254.169.254"), true)
            .unwrap_err()
            .contains("metadata"));
    }

    #[test]
    fn private_ranges_need_the_setting() {
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "::1",
            "fd12::1",
            "100.64.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(
                check_ip(ip(a), false)
                    .unwrap_err()
                    .contains("webhook_allow_private_networks"),
                "{a}"
            );
            assert!(check_ip(ip(a), true).is_ok(), "{a}");
        }
        for a in ["0.0.0.0", "::", "255.255.255.255", "224.0.0.1"] {
            assert!(check_ip(ip(a), true).is_err(), "{a}");
        }
        assert!(
            check_ip(ip("::127.0.0.1"), false).is_err(),
            "IPv4-compatible loopback"
        );
        assert!(
            check_ip(ip("64:ff9b::a00:1"), false).is_err(),
            "NAT64 of 10.0.0.1"
        );
        for a in [
            "93.184.215.14",
            "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
            "64:ff9b::5db8:d70e",
        ] {
            assert!(check_ip(ip(a), false).is_ok(), "{a}");
        }
    }

    #[test]
    fn urls_are_https_or_http_to_loopback() {
        assert!(check_url("https://hooks.example.com/x", false).is_ok());
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(check_url("http://localhost:9000/hook", true).is_ok());
        assert!(check_url("http://hooks.example.com/x", true)
            .unwrap_err()
            .contains("https"));
        assert!(check_url("ftp://hooks.example.com/x", true).is_err());
        assert!(check_url("https://user:pw@hooks.example.com/x", true).is_err());
        assert!(check_url("https://169.254.169.254/latest", true)
            .unwrap_err()
            .contains("metadata"));
        assert!(check_url("https://[fe80::1]/x", true)
            .unwrap_err()
            .contains("link-local"));
        assert!(check_url("http://127.0.0.1:9000/hook", false)
            .unwrap_err()
            .contains("webhook_allow_private_networks"));
        assert!(check_url("not a url", false).is_err());
    }
}
