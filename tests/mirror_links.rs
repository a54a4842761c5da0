//! The bytes a `mirror` by range checksums reports over its two links
//! (`WriteOutcome::link`, what the journal's `bytes_read` and
//! `bytes_written` hold), against a relay that counts every byte each link
//! carries (`common::proxy`): the branch's link and the central's, each
//! through its own relay, counted from the moment both sessions are open to
//! the end of the mirror. In plaintext and over TLS, for a table copied
//! whole into an empty slice, one with scattered changes, and one unchanged.

mod common;
#[path = "mirror/harness.rs"]
mod harness;
#[path = "mirror_journal/site.rs"]
mod site;

use branchsync::driver::mirror::Tuning;
use branchsync::driver::LinkBytes;
use common::fixture::code;
use common::pg::TestDb;
use common::proxy::Proxy;
use harness::{assert_mirrored, mirror_at};
use site::Site;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// What the relays have carried so far, both links together: `read` is
/// what went to the client (the servers' answers), `written` what went to
/// the servers.
fn carried(relays: &[&Proxy]) -> LinkBytes {
    let mut sum = LinkBytes::default();
    for s in relays.iter().flat_map(|r| r.stats()) {
        sum.read += s.down.load(Ordering::SeqCst);
        sum.written += s.up.load(Ordering::SeqCst);
    }
    sum
}

/// The relays' count once it stops moving (a relay counts a chunk after
/// forwarding it).
fn settled(relays: &[&Proxy]) -> LinkBytes {
    let mut last = carried(relays);
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = carried(relays);
        if now == last {
            return now;
        }
        last = now;
    }
}

struct Links {
    branch: TestDb,
    central: TestDb,
    to_branch: Proxy,
    to_central: Proxy,
    /// Appended to both URLs (`?sslmode=require` for TLS).
    params: &'static str,
}

impl Links {
    fn new(prefix: &str, params: &'static str) -> Links {
        let branch = TestDb::create(&format!("{prefix}_branch"));
        let central = TestDb::create(&format!("{prefix}_central"));
        Links {
            to_branch: Proxy::for_server(&branch.url),
            to_central: Proxy::for_server(&central.url),
            branch,
            central,
            params,
        }
    }

    /// Mirrors `ml`; returns what the mirror reported and what the relays
    /// counted meanwhile.
    fn mirror(&self, what: &str) -> (LinkBytes, LinkBytes) {
        let relays = [&self.to_branch, &self.to_central];
        let src = self.to_branch.url(&self.branch.url) + self.params;
        let dst = self.to_central.url(&self.central.url) + self.params;
        let mut start = None;
        let out = mirror_at(&src, &dst, "ml", &["id"], &Tuning::default(), &mut || {
            start = Some(settled(&relays))
        })
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        let relay = settled(&relays).since(start.unwrap());
        let reported = out
            .link
            .unwrap_or_else(|| panic!("{what}: the mirror reported no link bytes"));
        assert_mirrored(&self.branch, &self.central, "ml", "id, v", "id");
        eprintln!(
            "{what}: reported read {} written {}; relays read {} written {}",
            reported.read, reported.written, relay.read, relay.written
        );
        (reported, relay)
    }
}

/// Within 2% of the relay, never above it. The relays also carry the
/// source snapshot's closing ROLLBACK, which ends after the mirror.
fn assert_close(what: &str, reported: LinkBytes, relay: LinkBytes) {
    for (dir, r, c) in [
        ("read", reported.read, relay.read),
        ("written", reported.written, relay.written),
    ] {
        assert!(c > 0, "{what}: the relays carried nothing {dir}");
        assert!(
            r <= c && (c - r) as f64 <= 0.02 * c as f64,
            "{what}: {dir} {r} bytes reported, {c} counted by the relays"
        );
    }
}

fn scenario(prefix: &str, params: &'static str) {
    let links = Links::new(prefix, params);
    links.branch.exec(
        "CREATE TABLE ml (id bigint PRIMARY KEY, v text);
         INSERT INTO ml SELECT g, md5(g::text) FROM generate_series(1, 20000) g;",
    );
    let (first, relay) = links.mirror("into an empty slice");
    assert_close("into an empty slice", first, relay);
    assert!(
        first.written > 20_000 * 32,
        "every row went to the central: {first:?}"
    );

    // ~1% updated, deleted or inserted, first and last keys included.
    links.branch.exec(
        "UPDATE ml SET v = v || 'u' WHERE id % 211 = 0 OR id = 1;
         DELETE FROM ml WHERE id % 307 = 5 OR id = 20000;
         INSERT INTO ml SELECT g, 'new' || g FROM generate_series(30001, 30040) g;",
    );
    let (changed, relay) = links.mirror("scattered changes");
    assert_close("scattered changes", changed, relay);

    let (same, relay) = links.mirror("unchanged");
    assert_close("unchanged", same, relay);
    assert!(
        same.read < changed.read && same.written < changed.written,
        "an unchanged table carries less: {same:?} vs {changed:?}"
    );
    assert!(
        changed.read < first.read && changed.written < first.written,
        "a few changes carry less than the whole table: {changed:?} vs {first:?}"
    );
}

#[test]
fn plaintext_links_report_what_the_relays_carried() {
    scenario("bs_mlp", "");
}

/// The counts are taken under TLS, so records and the handshake count.
#[test]
fn tls_links_report_what_the_relays_carried() {
    scenario("bs_mlt", "?sslmode=require");
}

/// The real binary, both links through relays: what each run journals for
/// the mirrored table, against everything the relays carried during the
/// run. The relays also carry what is not the mirror: each connection's
/// start-up, the table's `describe` and `prepare`, and a second central
/// connection (about 6 KB read and 15 KB written in all here), so the
/// journal is below the relays by at most that. The exact comparison over
/// the mirror alone is the tests above.
#[test]
fn a_sync_journals_both_links_bytes_and_sync_status_shows_them() {
    let site = Site::new("bs_mlj", 20_000);
    let to_branch = Proxy::for_server(&site.branch.url);
    let to_central = Proxy::for_server(&site.central.url);
    site.write_config_at(
        false,
        None,
        &to_branch.url(&site.branch.url),
        &to_central.url(&site.central.url),
    );
    let relays = [&to_branch, &to_central];
    let run = |what: &str| {
        let start = settled(&relays);
        assert_eq!(code(&site.run(&["sync-all"])), 0, "{what}");
        let relay = settled(&relays).since(start);
        site.assert_slice_equal();
        let id = site.latest_batch();
        let (.., read, written) = site.journaled(&id, "mj");
        let journaled = LinkBytes {
            read: read.unwrap_or_else(|| panic!("{what}: bytes_read is NULL")) as u64,
            written: written.unwrap_or_else(|| panic!("{what}: bytes_written is NULL")) as u64,
        };
        eprintln!(
            "{what}: journaled read {} written {}; relays read {} written {}",
            journaled.read, journaled.written, relay.read, relay.written
        );
        for (dir, j, r) in [
            ("read", journaled.read, relay.read),
            ("written", journaled.written, relay.written),
        ] {
            assert!(
                j <= r && r - j <= 32 * 1024,
                "{what}: {dir} {j} bytes journaled, {r} carried by the relays"
            );
        }
        (id, journaled, relay)
    };
    let (_, first, _) = run("into an empty slice");
    site.branch.exec(
        "UPDATE mj SET v = v || 'u' WHERE id % 211 = 0;
         DELETE FROM mj WHERE id % 307 = 5;
         INSERT INTO mj SELECT g, 'new' || g FROM generate_series(30001, 30040) g;",
    );
    let (_, changed, _) = run("scattered changes");
    let (id, same, _) = run("unchanged");
    assert!(same.read < changed.read && changed.read < first.read);

    // sync-status --json and its table: the journal's figures.
    let t = site.status_json(&id, "mj");
    assert_eq!(
        (t["bytes_read"].as_u64(), t["bytes_written"].as_u64()),
        (Some(same.read), Some(same.written)),
        "{t}"
    );
    let out = site.run(&["sync-status", &id]);
    let text = String::from_utf8_lossy(&out.stdout);
    let shown = |n: u64| branchsync::report::format::bytes(Some(n as i64));
    let row = text
        .lines()
        .find(|l| l.contains(" mj "))
        .unwrap_or_else(|| panic!("no mj row: {text}"));
    assert!(
        row.contains(&shown(same.read)) && row.contains(&shown(same.written)),
        "{row}"
    );
}
