//! Why a TLS connection to a PostgreSQL server failed, in words an operator
//! can act on: the server refuses TLS, its certificate has an unknown issuer,
//! the wrong names or an expired period, or the handshake itself failed;
//! and, when the mode came from the WAN default, which setting to change.

use super::{label, Tls};
use crate::config::SslMode;
use crate::driver::{DriverError, ErrorKind};
use rustls::CertificateError;
use std::error::Error as _;

impl Tls {
    /// The error for a TLS failure of `e`, met while `doing`, in words an
    /// operator can act on; `None` when `e` is not a TLS refusal or a
    /// certificate/handshake problem (a link cut mid-handshake stays a
    /// connection error, retried). These failures are not retried: another
    /// attempt meets the same certificate.
    pub fn failure(&self, e: &postgres::Error, server: &str, doing: &str) -> Option<DriverError> {
        if self.mode == SslMode::Disable || !e.to_string().starts_with("error performing TLS") {
            return None;
        }
        let cause = e.source()?;
        let problem = match rustls_error(cause) {
            Some(r) => self.handshake_problem(r),
            None if cause.to_string().contains("does not support TLS") => {
                "the server does not accept TLS connections, and branchsync never falls back to plaintext; \
                 turn ssl on at the server, or set sslmode = \"disable\" for this connection if the network is trusted"
                    .to_owned()
            }
            None => return None,
        };
        Some(DriverError::new(
            ErrorKind::Other,
            format!(
                "{server}: {doing}: TLS (sslmode {}) failed: {problem}{}",
                label(self.mode),
                self.default_fix()
            ),
        ))
    }

    fn handshake_problem(&self, e: &rustls::Error) -> String {
        use rustls::Error as E;
        use CertificateError as C;
        match e {
            E::InvalidCertificate(C::UnknownIssuer) => format!(
                "the server's certificate is not signed by a CA in {} ({e}); \
                 set sslrootcert to the CA certificate that issued the server's certificate",
                self.roots
            ),
            E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
                format!(
                    "the server's certificate is not valid for the host name in the url ({e}); \
                     connect with a host name the certificate holds, or have the certificate reissued for this name"
                )
            }
            E::InvalidCertificate(
                C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
            ) => format!(
                "the server's certificate is outside its validity period ({e}); \
                 renew the server's certificate, or check this machine's clock"
            ),
            E::InvalidCertificate(_) => format!(
                "the server's certificate was rejected ({e}); check the certificate the server presents, and {}",
                self.roots
            ),
            _ => format!(
                "the TLS handshake failed ({e}); check the server's ssl settings \
                 (ssl_cert_file, ssl_min_protocol_version)"
            ),
        }
    }

    /// What to change when the WAN default (`verify-full`) cannot connect.
    fn default_fix(&self) -> &'static str {
        if self.defaulted {
            ". sslmode is not set, and a host that is not loopback defaults to verify-full: \
             set sslrootcert to the CA that signed the server's certificate, or sslmode = \"require\" \
             (encrypted, certificate not checked), or sslmode = \"disable\" explicitly if the network is trusted"
        } else {
            ""
        }
    }
}

/// The rustls error inside a TLS failure (the transport wraps it in an
/// `io::Error`).
fn rustls_error<'a>(mut e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    loop {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(r) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(r);
        }
        e = e.source()?;
    }
}
