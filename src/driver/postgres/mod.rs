//! The `postgres` driver: source and target. Sessions come from a
//! lazily filled r2d2 pool per server; reads run in one repeatable-read
//! snapshot; writes run in one transaction fed by COPY, in binary straight
//! from the source when both sides have the same column types. Links use
//! TLS (rustls) per `sslmode`: `disable`, `require` or `verify-full`; when
//! unset, `disable` on loopback and sockets and `verify-full` for any other
//! host; never a silent plaintext fallback; see [`tls`].

pub mod binary_copy;
pub mod binary_key;
mod checksum;
mod checksum_bounds;
mod chunk_bounds;
mod compat;
mod copy_sink;
mod ddl;
mod decode;
mod diff_spool;
mod duplicates;
mod endpoint;
mod errors;
mod families;
pub mod ident;
mod key_range;
mod key_text;
mod link_bytes;
pub mod login;
pub mod merge;
mod merge_sink;
mod mirror;
mod mirror_rows;
mod partition;
pub mod pgpass;
mod plan_ddl;
mod range_mirror;
mod schema;
mod slice;
mod slice_blocks;
mod slice_bucket;
mod slice_ranges;
mod source;
mod source_checksums;
mod source_encoding;
mod stage;
mod target;
pub mod text_copy;
mod tls;
pub mod tuple_frame;
mod upsert;

use super::registry::{any_schema, url_as_is, Driver};
use super::{
    Capabilities, ChecksumDialect, Endpoint, JournalMirror, RawFormat, Result, ServerInfo, Source,
    Target,
};
use crate::config::{EngineConfig, ServerConfig};
use endpoint::PgPool;

pub use compat::{accepts, compares_exactly, stored_type};
pub use errors::classify;
pub use schema::{kind_of, kind_type};

/// PostgreSQL's binary COPY stream (header, tuples, trailer): what a
/// PostgreSQL source produces and a PostgreSQL target loads untouched when
/// the column types are exactly the same.
pub const BINARY_COPY: RawFormat = RawFormat("postgres-binary-copy");

/// Range checksums over a 128-bit hash (`hashtextextended`, two seeds) of a
/// row's text, as PostgreSQL prints it with the session settings of
/// [`checksum::CANONICAL_SETTINGS`]. Needs PostgreSQL 11 or later.
pub const ROW_TEXT_HASH: ChecksumDialect = ChecksumDialect("postgres-hash128-row-text-v2");

/// Binary COPY passthrough, row-hash range checksums, repeatable-read reads.
pub const CAPABILITIES: Capabilities = Capabilities {
    raw_formats: &[BINARY_COPY],
    range_checksums: Some(ROW_TEXT_HASH),
    snapshot_reads: true,
};

/// The `postgres` driver, as the registry holds it.
pub const DRIVER: Driver = Driver {
    name: "postgres",
    aliases: &[],
    url_example: login::URL_EXAMPLE,
    check_url: login::check_url,
    resolve_url: url_as_is,
    check_schema: any_schema,
    password: login::connect_password,
    capabilities: CAPABILITIES,
    open,
    cause: errors::cause,
};

/// A configured PostgreSQL server.
pub struct PgEndpoint {
    pool: PgPool,
    /// Kept to open the journal mirror's own connection.
    server: ServerConfig,
    engine: EngineConfig,
}

/// Opens the endpoint for `server` with at most `max_sessions` connections
/// (fewer when the server's `pool_size` says so). Nothing connects yet.
pub fn open(
    server: &ServerConfig,
    engine: &EngineConfig,
    max_sessions: u32,
) -> Result<Box<dyn Endpoint>> {
    let size = match server.pool_size {
        Some(p) if p > 0 => p.min(max_sessions.max(1)),
        _ => max_sessions,
    };
    Ok(Box::new(PgEndpoint {
        pool: PgPool::new(server, engine, size.max(1))?,
        server: server.clone(),
        engine: engine.clone(),
    }))
}

impl Endpoint for PgEndpoint {
    fn default_schema(&self) -> &str {
        "public"
    }

    fn driver(&self) -> &'static str {
        schema::DIALECT
    }

    fn source(&self) -> Result<Box<dyn Source>> {
        Ok(Box::new(source::PgSource::new(self.pool.session()?)))
    }

    fn target(&self) -> Result<Box<dyn Target>> {
        Ok(Box::new(target::PgTarget::new(self.pool.session()?)))
    }

    fn probe(&self) -> Result<ServerInfo> {
        let mut session = self.pool.session()?;
        let r = session.client().query_one("SELECT version()", &[]);
        let row = r.map_err(|e| session.err(&e, "reading the server version"))?;
        Ok(ServerInfo {
            version: row.get(0),
            tls: self.pool.tls.state(session.client()),
            warning: self.pool.tls.plaintext_warning(),
        })
    }

    fn journal_mirror(&self, schema: &str) -> Result<Option<Box<dyn JournalMirror>>> {
        Ok(Some(Box::new(mirror::PgMirror::new(
            &self.server,
            &self.engine,
            schema,
        )?)))
    }
}
