//! Every way a config file can be wrong gives an error that names the file
//! and line:column (or the entry and key), what was expected and the fix;
//! secrets never show; relative paths anchor at the config's folder.

use branchsync::config::{redact_url, Config, ConfigError, Mode};
use branchsync::driver::postgres::login::password_with;
use branchsync::driver::postgres::pgpass::lookup_pgpass_in;
use branchsync::driver::registry::Registry;
use std::path::{Path, PathBuf};

const JOURNAL: &str = "[journal]\npath = \"storage/journal.db\"\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Load `text` from a real file; it must fail. Returns the error and its text.
fn load_err(text: &str) -> (ConfigError, String, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "branchsync.toml", text);
    let err = Config::load(&path, &Registry).expect_err("the config was accepted");
    let shown = err.to_string();
    assert!(
        shown.contains(&path.display().to_string()),
        "the error does not name the file: {shown}"
    );
    (err, shown, path)
}

fn load_ok(text: &str) -> Config {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "branchsync.toml", text);
    Config::load(&path, &Registry).unwrap_or_else(|e| panic!("{e}"))
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the text"));
    text[..at].matches('\n').count() + 1
}

fn connection(name: &str) -> String {
    format!(
        "\n[[connection]]\nname = \"{name}\"\ndriver = \"postgres\"\nurl = \"postgres://reader@10.1.0.5:5432/idempiere\"\n"
    )
}

fn assert_at(err: &ConfigError, line: usize, column: usize) {
    assert_eq!(err.position(), Some((line, column)), "{err}");
}

#[test]
fn malformed_toml_reports_line_and_column() {
    let text = format!("{JOURNAL}\n[engine\nthreads = 4\n");
    let (err, shown, path) = load_err(&text);
    assert!(matches!(err, ConfigError::Parse { .. }), "{err:?}");
    assert_at(&err, 4, 8);
    assert!(
        shown.starts_with(&format!("{}:4:8: ", path.display())),
        "{shown}"
    );
    assert!(shown.contains("unclosed table, expected `]`"), "{shown}");
    assert!(!shown.contains('\n'), "one line: {shown}");

    let text = format!("{JOURNAL}[engine]\nthreads = 4x\n");
    let (err, _, _) = load_err(&text);
    assert_at(&err, 4, 11);
}

#[test]
fn unknown_key_is_named_with_its_line_and_a_suggestion() {
    let text = format!("{JOURNAL}\n[engine]\nthreads = 4\ntreads = 4\n");
    let (err, shown, path) = load_err(&text);
    assert_at(&err, line_of(&text, "treads"), 1);
    assert!(
        shown.starts_with(&format!("{}:6:1: ", path.display())),
        "{shown}"
    );
    assert!(shown.contains("in [engine]"), "{shown}");
    assert!(shown.contains("unknown key `treads`"), "{shown}");
    assert!(shown.contains("Did you mean `threads`?"), "{shown}");
}

#[test]
fn unknown_key_in_a_connection_names_the_entry() {
    let text = format!(
        "{JOURNAL}{}{}passwrod_env = \"X\"\n",
        connection("a"),
        connection("b")
    );
    let (err, shown, _) = load_err(&text);
    assert_at(&err, line_of(&text, "passwrod_env"), 1);
    assert!(shown.contains("in [[connection]] #2"), "{shown}");
    assert!(shown.contains("Did you mean `password_env`?"), "{shown}");
}

#[test]
fn wrong_type_and_missing_key_say_what_was_expected() {
    let text = format!("{JOURNAL}[engine]\nthreads = \"4\"\n");
    let (err, shown, _) = load_err(&text);
    assert_at(&err, 4, 11);
    assert!(
        shown.contains("key `threads`: expected a whole number"),
        "{shown}"
    );

    let text = format!(
        "{JOURNAL}{}\n[[connection]]\nname = \"b\"\ndriver = \"sqlite\"\n",
        connection("a")
    );
    let (err, shown, _) = load_err(&text);
    assert_eq!(
        err.position().map(|p| p.0),
        Some(line_of(&text, "[[connection]]\nname = \"b\""))
    );
    assert!(
        shown.contains("[[connection]] #2") && shown.contains("missing key `url`"),
        "{shown}"
    );

    let text = format!("{JOURNAL}[[table]]\nmodel = \"M\"\nsource = \"m\"\nmode = \"replace\"\n");
    let (_, shown, _) = load_err(&text);
    assert!(
        shown.contains("\"replace\" is not allowed") && shown.contains("incremental"),
        "{shown}"
    );

    let text = "[engine]\nthreads = 2\n";
    let (_, shown, _) = load_err(text);
    assert!(shown.contains("missing section [journal]"), "{shown}");
}

#[test]
fn bad_duration_reports_position_and_units() {
    let text = format!("{JOURNAL}[engine]\nretry_backoff = \"2 parsecs\"\n");
    let (err, shown, _) = load_err(&text);
    assert_at(&err, 4, 17);
    assert!(shown.contains("\"parsecs\""), "{shown}");
    assert!(
        shown.contains("\"500ms\"") && shown.contains("ms, s, m, h, d"),
        "{shown}"
    );
}

#[test]
fn duplicate_connection_is_refused_at_the_second_name() {
    let text = format!(
        "{JOURNAL}{}{}",
        connection("pgsql_lmp"),
        connection("pgsql_lmp")
    );
    let (err, shown, _) = load_err(&text);
    let second = text.rfind("name = \"pgsql_lmp\"").unwrap();
    let line = text[..second].matches('\n').count() + 1;
    assert_at(&err, line, 8);
    assert!(
        shown.contains("[[connection]] #2 \"pgsql_lmp\" key name"),
        "{shown}"
    );
    assert!(shown.contains("duplicate connection"), "{shown}");
}

#[test]
fn bad_connection_name_says_the_allowed_characters() {
    for bad in ["PgSQL-LMP", "", "lmp branch", "target"] {
        let text = format!("{JOURNAL}{}", connection(bad));
        let (err, shown, _) = load_err(&text);
        assert_at(&err, line_of(&text, "name ="), 8);
        assert!(shown.contains("key name"), "{shown}");
        if bad != "target" {
            assert!(shown.contains("[a-z0-9_]+"), "{shown}");
        }
    }
}

#[test]
fn unknown_driver_lists_the_known_ones() {
    let text = format!(
        "{JOURNAL}{}",
        connection("lmp").replace("\"postgres\"", "\"oracle\"")
    );
    let (err, shown, _) = load_err(&text);
    assert_at(&err, line_of(&text, "driver ="), 10);
    assert!(
        shown.contains("[[connection]] #1 \"lmp\" key driver"),
        "{shown}"
    );
    assert!(
        shown.contains("unknown driver \"oracle\"") && shown.contains("postgres, sqlite, mysql"),
        "{shown}"
    );

    let text = format!("{JOURNAL}[target]\ndriver = \"oracle\"\nurl = \"x\"\n");
    let (_, shown, _) = load_err(&text);
    assert!(shown.contains("[target] key driver"), "{shown}");
}

#[test]
fn target_needs_driver_and_url_and_no_name() {
    let text = format!("{JOURNAL}[target]\ndriver = \"postgres\"\n");
    let (_, shown, _) = load_err(&text);
    assert!(
        shown.contains("in [target]") && shown.contains("missing key `url`"),
        "{shown}"
    );

    let text = format!("{JOURNAL}[target]\ndriver = \"sqlite\"\nurl = \"\"\n");
    let (_, shown, _) = load_err(&text);
    assert!(
        shown.contains("[target] key url") && shown.contains("is empty"),
        "{shown}"
    );

    let text =
        format!("{JOURNAL}[target]\nname = \"central\"\ndriver = \"sqlite\"\nurl = \"c.db\"\n");
    let (_, shown, _) = load_err(&text);
    assert!(shown.contains("[target] key name"), "{shown}");
}

#[test]
fn numbers_that_must_be_positive() {
    let text = format!("{JOURNAL}[engine]\nthreads = 0\n");
    let (err, shown, _) = load_err(&text);
    assert_at(&err, 4, 11);
    assert!(
        shown.contains("[engine] key threads") && shown.contains("at least 1"),
        "{shown}"
    );

    let text = format!("{JOURNAL}{}pool_size = 0\n", connection("lmp"));
    let (err, shown, _) = load_err(&text);
    assert_at(&err, line_of(&text, "pool_size"), 13);
    assert!(
        shown.contains("key pool_size") && shown.contains("at least 1"),
        "{shown}"
    );

    let text = format!("{JOURNAL}{}pool_size = -2\n", connection("lmp"));
    let (_, shown, _) = load_err(&text);
    assert!(
        shown.contains("key `pool_size`") && shown.contains(">= 0"),
        "{shown}"
    );
}

#[test]
fn sslrootcert_needs_verify_full() {
    let text = format!(
        "{JOURNAL}{}sslmode = \"require\"\nsslrootcert = \"ca.pem\"\n",
        connection("lmp")
    );
    let (err, shown, _) = load_err(&text);
    assert_at(&err, line_of(&text, "sslrootcert"), 15);
    assert!(
        shown.contains("key sslrootcert") && shown.contains("verify-full"),
        "{shown}"
    );

    let ok = format!(
        "{JOURNAL}{}sslmode = \"verify-full\"\nsslrootcert = \"certs/ca.pem\"\n",
        connection("lmp")
    );
    let config = load_ok(&ok);
    let cert = config.connections[0].sslrootcert.as_ref().unwrap();
    assert!(
        cert.is_absolute() && cert.ends_with("certs/ca.pem"),
        "{cert:?}"
    );
}

fn table(body: &str) -> String {
    format!(
        "{JOURNAL}{}\n[[table]]\nmodel = \"COrder\"\nsource = \"adempiere.c_order\"\n{body}",
        connection("pgsql_hq")
    )
}

#[test]
fn incremental_needs_a_cursor() {
    let text = table("key = [\"c_order_id\"]\nmode = \"incremental\"\n");
    let (err, shown, _) = load_err(&text);
    assert_at(&err, line_of(&text, "mode ="), 8);
    assert!(
        shown.contains("[[table]] #1 \"COrder\" key mode"),
        "{shown}"
    );
    assert!(shown.contains("cursor = \"updated\""), "{shown}");
}

#[test]
fn upsert_and_incremental_need_a_key() {
    let (_, shown, _) = load_err(&table("mode = \"upsert\"\n"));
    assert!(
        shown.contains("key key") && shown.contains("key = [\"c_order_id\"]"),
        "{shown}"
    );
    // upsert is the default mode
    let (_, shown, _) = load_err(&table(""));
    assert!(
        shown.contains("mode \"upsert\" needs the key columns"),
        "{shown}"
    );
    let (_, shown, _) = load_err(&table("mode = \"incremental\"\ncursor = \"updated\"\n"));
    assert!(
        shown.contains("mode \"incremental\" needs the key columns"),
        "{shown}"
    );
    let config = load_ok(&table("mode = \"full\"\n"));
    assert_eq!(config.tables[0].mode, Mode::Full);
}

#[test]
fn identifiers_must_not_be_empty() {
    let (_, shown, _) = load_err(&table("key = [\"c_order_id\", \"\"]\n"));
    assert!(
        shown.contains("key key") && shown.contains("\"\" is not a usable key column name"),
        "{shown}"
    );
    let (_, shown, _) = load_err(&table(
        "key = [\"c_order_id\"]\nmode = \"incremental\"\ncursor = \" \"\n",
    ));
    assert!(shown.contains("key cursor"), "{shown}");
    let (_, shown, _) = load_err(&table("key = [\"c_order_id\", \"c_order_id\"]\n"));
    assert!(shown.contains("listed twice"), "{shown}");
    let text =
        format!("{JOURNAL}[target]\ndriver = \"sqlite\"\nurl = \"c.db\"\nbranch_column = \"\"\n");
    let (err, shown, _) = load_err(&text);
    assert_at(&err, line_of(&text, "branch_column"), 17);
    assert!(shown.contains("[target] key branch_column"), "{shown}");
}

#[test]
fn from_must_name_a_connection() {
    let text = table("key = [\"c_order_id\"]\nfrom = \"pgsql_hq2\"\n");
    let (err, shown, _) = load_err(&text);
    assert_at(&err, line_of(&text, "from ="), 8);
    assert!(
        shown.contains("key from") && shown.contains("\"pgsql_hq2\""),
        "{shown}"
    );
    assert!(shown.contains("known connections: pgsql_hq"), "{shown}");
    let config = load_ok(&table("key = [\"c_order_id\"]\nfrom = \"pgsql_hq\"\n"));
    assert!(!config.tables[0].branch_tagged());
}

#[test]
fn duplicate_models_and_target_tables_are_refused() {
    let two = format!(
        "{}\n[[table]]\nmodel = \"corder\"\nsource = \"c_order2\"\nkey = [\"c_order_id\"]\n",
        table("key = [\"c_order_id\"]\n")
    );
    let (_, shown, _) = load_err(&two);
    assert!(
        shown.contains("[[table]] #2 \"corder\" key model") && shown.contains("duplicate model"),
        "{shown}"
    );
    let two = format!(
        "{}\n[[table]]\nmodel = \"COrder2\"\nsource = \"other.c_order\"\nkey = [\"c_order_id\"]\n",
        table("key = [\"c_order_id\"]\n")
    );
    let (_, shown, _) = load_err(&two);
    assert!(shown.contains("target table \"c_order\""), "{shown}");
}

#[test]
fn an_unreadable_file_says_how_to_point_at_one() {
    let dir = tempfile::tempdir().unwrap();
    let err = Config::load(&dir.path().join("missing.toml"), &Registry).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    let shown = err.to_string();
    assert!(
        shown.contains("missing.toml") && shown.contains("--config"),
        "{shown}"
    );
}

fn server_with(password_env: Option<&str>) -> branchsync::config::ServerConfig {
    let env = password_env
        .map(|v| format!("password_env = \"{v}\"\n"))
        .unwrap_or_default();
    let config = load_ok(&format!("{JOURNAL}{}{env}", connection("pgsql_lmp")));
    config.connections[0].clone()
}

#[cfg(unix)]
fn pgpass(dir: &Path, text: &str, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = write(dir, ".pgpass", text);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[test]
fn missing_password_env_names_connection_and_variable() {
    let var = "BRANCHSYNC_TEST_NEVER_SET_7F3A";
    let server = server_with(Some(var));
    let dir = tempfile::tempdir().unwrap();
    let err = password_with(&server, Some(&dir.path().join(".pgpass"))).unwrap_err();
    let shown = err.to_string();
    assert!(matches!(err, ConfigError::Secret { .. }), "{err:?}");
    assert!(
        shown.contains("[[connection]] \"pgsql_lmp\" key password_env"),
        "{shown}"
    );
    assert!(shown.contains(&format!("{var} is not set")), "{shown}");
    assert!(shown.contains(&format!("export {var}=")), "{shown}");
    assert!(
        shown.contains("10.1.0.5:5432:idempiere:reader:<password>"),
        "{shown}"
    );

    // Without password_env and without .pgpass there is simply no password.
    let server = server_with(None);
    assert_eq!(password_with(&server, None).unwrap(), None);
}

#[test]
fn password_env_is_read_when_set() {
    let var = "BRANCHSYNC_TEST_PASSWORD_ENV_91C2";
    std::env::set_var(var, "from-env");
    let server = server_with(Some(var));
    assert_eq!(
        password_with(&server, None).unwrap().as_deref(),
        Some("from-env")
    );
    std::env::remove_var(var);
}

#[cfg(unix)]
#[test]
fn group_readable_pgpass_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = pgpass(dir.path(), "10.1.0.5:5432:idempiere:reader:s3cr3t\n", 0o644);
    let err = lookup_pgpass_in(&path, "10.1.0.5", 5432, "idempiere", "reader").unwrap_err();
    assert!(
        err.contains(&format!("chmod 0600 {}", path.display())),
        "{err}"
    );
    assert!(!err.contains("s3cr3t"), "{err}");

    let server = server_with(None);
    let err = password_with(&server, Some(&path)).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("[[connection]] \"pgsql_lmp\"") && shown.contains("chmod 0600"),
        "{shown}"
    );
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

#[cfg(unix)]
#[test]
fn pgpass_with_mode_0600_supplies_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let path = pgpass(
        dir.path(),
        "# branches\n10.1.0.9:5432:idempiere:reader:wrong\n10.1.0.5:5432:idempiere:reader:s3cr3t\n",
        0o600,
    );
    let found = lookup_pgpass_in(&path, "10.1.0.5", 5432, "idempiere", "reader").unwrap();
    assert_eq!(found.as_deref(), Some("s3cr3t"));

    // password_env names an unset variable: .pgpass is the fallback.
    let server = server_with(Some("BRANCHSYNC_TEST_NEVER_SET_2B7D"));
    assert_eq!(
        password_with(&server, Some(&path)).unwrap().as_deref(),
        Some("s3cr3t")
    );
    let server = server_with(None);
    assert_eq!(
        password_with(&server, Some(&path)).unwrap().as_deref(),
        Some("s3cr3t")
    );
}

#[test]
fn secrets_never_show_in_debug_or_errors() {
    let text = format!(
        "{JOURNAL}[target]\ndriver = \"postgres\"\nurl = \"postgres://u:s3cr3t@h/db\"\n\n[[connection]]\nname = \"kv\"\ndriver = \"postgres\"\nurl = \"host=h user=u password=s3cr3t dbname=d\"\n"
    );
    let config = load_ok(&text);
    let debug = format!("{config:?} {:#?}", config.target);
    assert!(!debug.contains("s3cr3t"), "{debug}");
    assert!(debug.contains("postgres://u:***@h/db"), "{debug}");
    assert_eq!(
        password_with(config.target.as_ref().unwrap(), None)
            .unwrap()
            .as_deref(),
        Some("s3cr3t")
    );

    let bad = format!(
        "{JOURNAL}{}",
        connection("lmp").replace(
            "postgres://reader@10.1.0.5:5432/idempiere",
            "postgres://u:s3cr3t@h:notaport/db"
        )
    );
    let (_, shown, _) = load_err(&bad);
    assert!(
        shown.contains("key url") && !shown.contains("s3cr3t"),
        "{shown}"
    );
    assert_eq!(
        redact_url("postgres://u:s3cr3t@h/db"),
        "postgres://u:***@h/db"
    );
}

#[test]
fn relative_paths_resolve_against_the_config_folder() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("etc").join("branchsync");
    std::fs::create_dir_all(&sub).unwrap();
    let text = format!(
        "{JOURNAL}[log]\nfile = \"logs/sync.log\"\n\n[target]\ndriver = \"sqlite\"\nurl = \"sqlite://central.db\"\n\n[[connection]]\nname = \"lmp\"\ndriver = \"sqlite\"\nurl = \"branches/lmp.db\"\n\n[[connection]]\nname = \"abs\"\ndriver = \"sqlite\"\nurl = \"/var/lib/abs.db\"\n"
    );
    let path = write(&sub, "branchsync.toml", &text);
    let config = Config::load(&path, &Registry).unwrap();
    assert_eq!(config.path, path);
    assert_eq!(config.journal.path, sub.join("storage/journal.db"));
    assert_eq!(config.storage_dir(), sub.join("storage"));
    assert_eq!(
        config.log.file.as_deref(),
        Some(sub.join("logs/sync.log").as_path())
    );
    assert_eq!(
        config.target.as_ref().unwrap().url,
        sub.join("central.db").to_string_lossy()
    );
    assert_eq!(config.target.as_ref().unwrap().name, "target");
    assert_eq!(
        config.connections[0].url,
        sub.join("branches/lmp.db").to_string_lossy()
    );
    assert_eq!(config.connections[1].url, "/var/lib/abs.db");
}

#[test]
fn the_example_config_parses_and_is_complete() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let config = Config::load(&path, &Registry).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.connections.len(), 18);
    for name in [
        "pgsql_lmp",
        "pgsql_sby",
        "pgsql_bdg",
        "pgsql_jkt",
        "pgsql_hq",
    ] {
        assert!(config.connection(name).is_some(), "{name} missing");
    }
    let tables: Vec<&str> = config.tables.iter().map(|t| t.target_table()).collect();
    assert_eq!(
        tables,
        [
            "ad_org",
            "m_product",
            "c_bpartner",
            "c_order",
            "c_invoice",
            "c_invoiceline"
        ]
    );
    for t in &config.tables {
        assert_eq!(t.key, [format!("{}_id", t.target_table())]);
    }
    let ad_org = config.table("ad_org").unwrap();
    assert_eq!(ad_org.from.as_deref(), Some("pgsql_hq"));
    assert_eq!(config.table("MProduct").unwrap().mode, Mode::Upsert);
    assert_eq!(config.table("c_bpartner").unwrap().mode, Mode::Upsert);
    let c_order = config.table("c_order").unwrap();
    assert_eq!(
        (c_order.mode, c_order.cursor.as_deref()),
        (Mode::Incremental, Some("updated"))
    );
    assert_eq!(config.table("c_invoice").unwrap().mode, Mode::Incremental);
    assert_eq!(config.table("c_invoiceline").unwrap().mode, Mode::Full);

    // Every key of every section appears (set or commented) in the example.
    let text = std::fs::read_to_string(&path).unwrap();
    for key in [
        "path",
        "file",
        "threads",
        "retries",
        "retry_backoff",
        "connect_timeout",
        "statement_timeout",
        "driver",
        "url",
        "password_env",
        "sslmode",
        "sslrootcert",
        "pool_size",
        "schema",
        "branch_column",
        "name",
        "model",
        "source",
        "target",
        "key",
        "mode",
        "cursor",
        "from",
        "with_branch",
    ] {
        assert!(
            text.contains(&format!("\n{key} = ")),
            "{key} is not shown in the example"
        );
    }
}
