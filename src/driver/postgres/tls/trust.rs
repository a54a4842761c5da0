//! Whom a TLS mode trusts, as a rustls client configuration on the `ring`
//! provider: for `verify-full` the CA certificates of an `sslrootcert` file
//! or the system's root certificates (read once per process by
//! `rustls-native-certs`); for `require` any certificate, since that mode
//! encrypts the link without authenticating the server (as libpq does).

use crate::driver::{DriverError, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ConfigBuilder, DigitallySignedStruct, RootCertStore};
use rustls::{SignatureScheme, WantsVerifier};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// `require`: encrypted, any certificate accepted.
pub fn any_certificate(name: &str) -> Result<ClientConfig> {
    let provider = provider();
    Ok(builder(name, &provider)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth())
}

/// `verify-full`: the chain checked against `rootcert` (or the system's
/// roots) and the host name against the certificate; with where the trusted
/// CAs come from, for messages.
pub fn verified(name: &str, rootcert: Option<&Path>) -> Result<(ClientConfig, String)> {
    let (store, roots) = match rootcert {
        Some(path) => (
            Arc::new(file_roots(name, path)?),
            format!("sslrootcert {}", path.display()),
        ),
        None => (
            system_roots().map_err(|why| {
                DriverError::other(format!(
                    "{name}: sslmode verify-full needs trusted CA certificates, and {why}; \
                     set sslrootcert to the CA file that signed the server's certificate, \
                     or install the system's CA certificates (ca-certificates)"
                ))
            })?,
            "the system's root certificates".to_owned(),
        ),
    };
    let config = builder(name, &provider())?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok((config, roots))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn builder(
    name: &str,
    provider: &Arc<CryptoProvider>,
) -> Result<ConfigBuilder<ClientConfig, WantsVerifier>> {
    ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| DriverError::other(format!("{name}: cannot set up TLS: {e}")))
}

/// The CA certificates of an `sslrootcert` file.
fn file_roots(name: &str, path: &Path) -> Result<RootCertStore> {
    let shown = path.display();
    let fail = |why: String| {
        DriverError::other(format!(
            "{name}: sslrootcert {shown} {why}; point sslrootcert at a PEM file of CA certificates, \
             or remove it to use the system's root certificates"
        ))
    };
    let pem = std::fs::read(path).map_err(|e| fail(format!("cannot be read ({e})")))?;
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| fail(format!("is not a readable PEM file ({e})")))?;
        store
            .add(cert)
            .map_err(|e| fail(format!("holds a certificate that cannot be a CA ({e})")))?;
    }
    if store.is_empty() {
        return Err(fail(
            "holds no certificate (no -----BEGIN CERTIFICATE----- block)".into(),
        ));
    }
    Ok(store)
}

/// The platform's root certificates, read once per process.
fn system_roots() -> std::result::Result<Arc<RootCertStore>, String> {
    static ROOTS: OnceLock<std::result::Result<Arc<RootCertStore>, String>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut store = RootCertStore::empty();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                let errors: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
                Err(format!(
                    "no usable root certificate was found in the system store{}",
                    if errors.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", errors.join("; "))
                    }
                ))
            } else {
                Ok(Arc::new(store))
            }
        })
        .clone()
}

/// `require`: every certificate is accepted (the link is encrypted, the
/// server is not authenticated); the handshake's signatures are still
/// checked, so the session key belongs to whoever holds the certificate.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
