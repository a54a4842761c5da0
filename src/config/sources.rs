//! The checks of a `[[table]]`'s `sources`: the per-connection names of a
//! table that a mixed fleet keeps under different names (`adempiere.m_product`
//! at a PostgreSQL branch, `shop.products` at a MariaDB one). Each entry
//! must name a connection the table is read from, and a table name its
//! driver can look up.

use super::error::closest;
use super::spans::Section;
use super::validate::{Check, Checker};
use super::TableConfig;

impl Checker<'_> {
    /// `no [[connection]] is named "x" (known connections: …)`, and a
    /// ` Did you mean "y"?` when one is close.
    pub(super) fn unknown_connection(&self, name: &str) -> (String, String) {
        let names: Vec<&str> = self
            .config
            .connections
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        let hint = closest(name, &names)
            .map(|c| format!(" Did you mean {c:?}?"))
            .unwrap_or_default();
        let known = if names.is_empty() {
            "there is no [[connection]] at all".to_owned()
        } else {
            format!("known connections: {}", names.join(", "))
        };
        (
            format!("no [[connection]] is named {name:?} ({known})"),
            hint,
        )
    }

    pub(super) fn sources(&self, section: Section, t: &TableConfig) -> Check {
        for (conn, name) in &t.sources {
            let key = format!("sources.{conn}");
            let Some(server) = self.config.connection(conn) else {
                let (unknown, hint) = self.unknown_connection(conn);
                return Err(self.fail(
                    section,
                    Some(&key),
                    format!("{unknown}; each key of sources is a connection name.{hint}"),
                ));
            };
            if let Some(from) = t.from.as_deref().filter(|f| f != conn) {
                return Err(self.fail(
                    section,
                    Some(&key),
                    format!("this table is read from {from:?} only (from = {from:?}), never from {conn:?}; remove this entry, or name the table at {from:?} instead"),
                ));
            }
            let parts: Vec<&str> = name.split('.').collect();
            if parts.len() > 2 {
                return Err(self.fail(
                    section,
                    Some(&key),
                    format!(
                        "{name:?} has more than one dot; expected \"table\" or \"schema.table\""
                    ),
                ));
            }
            for part in &parts {
                self.ident(section, &key, part, "source table")?;
            }
            if let [schema, _] = parts[..] {
                if let Err(message) = self.drivers.check_schema(&server.driver, schema) {
                    return Err(self.fail(section, Some(&key), message));
                }
            }
        }
        Ok(())
    }
}
