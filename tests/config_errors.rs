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

/// Where an error must point.
enum At {
    /// No position is asserted (the entry and key are, through `says`).
    Anywhere,
    /// This line and column.
    Fixed(usize, usize),
    /// The line of the first `needle`, at this column.
    LineOf(&'static str, usize),
    /// The line of the last `needle`, at this column.
    LastLineOf(&'static str, usize),
    /// The line of the first `needle`, any column.
    Line(&'static str),
}

/// A config that must be refused: where the error points and what it says.
struct Case {
    text: String,
    at: At,
    says: &'static [&'static str],
}

fn case(text: String, at: At, says: &'static [&'static str]) -> Case {
    Case { text, at, says }
}

fn table(body: &str) -> String {
    format!(
        "{JOURNAL}{}\n[[table]]\nmodel = \"COrder\"\nsource = \"adempiere.c_order\"\n{body}",
        connection("pgsql_hq")
    )
}

/// Every refused config of this file, one line of the table each.
fn refused() -> Vec<Case> {
    use At::*;
    let key = "key = [\"c_order_id\"]\n";
    let mut cases = vec![
        // TOML and serde: syntax, unknown keys, types, missing keys.
        case(
            format!("{JOURNAL}\n[engine\nthreads = 4\n"),
            Fixed(4, 8),
            &["unclosed table, expected `]`"],
        ),
        case(
            format!("{JOURNAL}[engine]\nthreads = 4x\n"),
            Fixed(4, 11),
            &[],
        ),
        case(
            format!("{JOURNAL}\n[engine]\nthreads = 4\ntreads = 4\n"),
            LineOf("treads", 1),
            &[
                "in [engine]",
                "unknown key `treads`",
                "Did you mean `threads`?",
            ],
        ),
        case(
            format!(
                "{JOURNAL}{}{}passwrod_env = \"X\"\n",
                connection("a"),
                connection("b")
            ),
            LineOf("passwrod_env", 1),
            &["in [[connection]] #2", "Did you mean `password_env`?"],
        ),
        case(
            format!("{JOURNAL}[engine]\nthreads = \"4\"\n"),
            Fixed(4, 11),
            &["key `threads`: expected a whole number"],
        ),
        case(
            format!(
                "{JOURNAL}{}\n[[connection]]\nname = \"b\"\ndriver = \"sqlite\"\n",
                connection("a")
            ),
            Line("[[connection]]\nname = \"b\""),
            &["[[connection]] #2", "missing key `url`"],
        ),
        case(
            format!("{JOURNAL}[[table]]\nmodel = \"M\"\nsource = \"m\"\nmode = \"replace\"\n"),
            Anywhere,
            &["\"replace\" is not allowed", "incremental"],
        ),
        case(
            "[engine]\nthreads = 2\n".into(),
            Anywhere,
            &["missing section [journal]"],
        ),
        case(
            format!("{JOURNAL}[engine]\nretry_backoff = \"2 parsecs\"\n"),
            Fixed(4, 17),
            &[
                "\"parsecs\"",
                "\"500ms\"",
                "ms, s, m = minutes, h, d, w, mo = 30 days",
            ],
        ),
        // Connections and the target.
        case(
            format!(
                "{JOURNAL}{}{}",
                connection("pgsql_lmp"),
                connection("pgsql_lmp")
            ),
            LastLineOf("name = \"pgsql_lmp\"", 8),
            &[
                "[[connection]] #2 \"pgsql_lmp\" key name",
                "duplicate connection",
            ],
        ),
        case(
            format!(
                "{JOURNAL}{}",
                connection("lmp").replace("\"postgres\"", "\"oracle\"")
            ),
            LineOf("driver =", 10),
            &[
                "[[connection]] #1 \"lmp\" key driver",
                "unknown driver \"oracle\"",
                "postgres, sqlite, mysql, mariadb",
            ],
        ),
        case(
            format!(
                "{JOURNAL}{}",
                connection("lmp").replace("\"postgres\"", "\"maria\"")
            ),
            LineOf("driver =", 10),
            &["unknown driver \"maria\"", "Did you mean \"mariadb\"?"],
        ),
        // Where a connection keeps its tables, in its driver's terms.
        case(
            format!(
                "{JOURNAL}{}\n[[connection]]\nname = \"kiosk\"\ndriver = \"sqlite\"\nurl = \"k.db\"\nschema = \"adempiere\"\n",
                connection("lmp")
            ),
            LineOf("schema =", 10),
            &[
                "[[connection]] #2 \"kiosk\" key schema",
                "\"adempiere\" is not a schema of a SQLite file",
                "\"main\"",
            ],
        ),
        case(
            format!("{JOURNAL}{}schema = \" adempiere\"\n", connection("lmp")),
            LineOf("schema =", 10),
            &["key schema", "not a usable schema name"],
        ),
        case(
            format!("{JOURNAL}{}branch_column = \"b\"\n", connection("lmp")),
            LineOf("branch_column =", 17),
            &["key branch_column", "only [target]"],
        ),
        case(
            format!("{JOURNAL}[target]\ndriver = \"oracle\"\nurl = \"x\"\n"),
            Anywhere,
            &["[target] key driver"],
        ),
        case(
            format!("{JOURNAL}[target]\ndriver = \"postgres\"\n"),
            Anywhere,
            &["in [target]", "missing key `url`"],
        ),
        case(
            format!("{JOURNAL}[target]\ndriver = \"sqlite\"\nurl = \"\"\n"),
            Anywhere,
            &["[target] key url", "is empty"],
        ),
        case(
            format!(
                "{JOURNAL}[target]\ndriver = \"mysql\"\nurl = \"mysql://u:s3cr3t@h:notaport/db\"\n"
            ),
            LineOf("url =", 7),
            &[
                "[target] key url",
                "is not a MySQL connection URL",
                "mysql://u:***@h:notaport/db",
            ],
        ),
        case(
            format!("{JOURNAL}[target]\nname = \"central\"\ndriver = \"sqlite\"\nurl = \"c.db\"\n"),
            Anywhere,
            &["[target] key name"],
        ),
        case(
            format!("{JOURNAL}[engine]\nthreads = 0\n"),
            Fixed(4, 11),
            &["[engine] key threads", "at least 1"],
        ),
        case(
            format!("{JOURNAL}{}pool_size = 0\n", connection("lmp")),
            LineOf("pool_size", 13),
            &["key pool_size", "at least 1"],
        ),
        case(
            format!("{JOURNAL}{}pool_size = -2\n", connection("lmp")),
            Anywhere,
            &["key `pool_size`", ">= 0"],
        ),
        case(
            format!(
                "{JOURNAL}{}sslmode = \"require\"\nsslrootcert = \"ca.pem\"\n",
                connection("lmp")
            ),
            LineOf("sslrootcert", 15),
            &["key sslrootcert", "verify-full"],
        ),
        // Tables.
        case(
            table(&format!("{key}mode = \"incremental\"\n")),
            LineOf("mode =", 8),
            &["[[table]] #1 \"COrder\" key mode", "cursor = \"updated\""],
        ),
        case(
            table("mode = \"upsert\"\n"),
            Anywhere,
            &["key key", "key = [\"c_order_id\"]"],
        ),
        // upsert is the default mode
        case(
            table(""),
            Anywhere,
            &["mode \"upsert\" needs the key columns"],
        ),
        case(
            table("mode = \"incremental\"\ncursor = \"updated\"\n"),
            Anywhere,
            &["mode \"incremental\" needs the key columns"],
        ),
        case(
            table("key = [\"c_order_id\", \"\"]\n"),
            Anywhere,
            &["key key", "\"\" is not a usable key column name"],
        ),
        case(
            table(&format!("{key}mode = \"incremental\"\ncursor = \" \"\n")),
            Anywhere,
            &["key cursor"],
        ),
        case(
            table("key = [\"c_order_id\", \"c_order_id\"]\n"),
            Anywhere,
            &["listed twice"],
        ),
        case(
            format!(
                "{JOURNAL}[target]\ndriver = \"sqlite\"\nurl = \"c.db\"\nbranch_column = \"\"\n"
            ),
            LineOf("branch_column", 17),
            &["[target] key branch_column"],
        ),
        case(
            table(&format!("{key}from = \"pgsql_hq2\"\n")),
            LineOf("from =", 8),
            &["key from", "\"pgsql_hq2\"", "known connections: pgsql_hq"],
        ),
        case(
            format!(
                "{}\n[[table]]\nmodel = \"corder\"\nsource = \"c_order2\"\n{key}",
                table(key)
            ),
            Anywhere,
            &["[[table]] #2 \"corder\" key model", "duplicate model"],
        ),
        case(
            format!(
                "{}\n[[table]]\nmodel = \"COrder2\"\nsource = \"other.c_order\"\n{key}",
                table(key)
            ),
            Anywhere,
            &["target table \"c_order\""],
        ),
        // A table named differently at some connections.
        case(
            table(&format!("{key}sources = {{ pgsql_hg = \"erp.c_order\" }}\n")),
            LineOf("sources =", 24),
            &[
                "[[table]] #1 \"COrder\" key sources.pgsql_hg",
                "no [[connection]] is named \"pgsql_hg\"",
                "Did you mean \"pgsql_hq\"?",
            ],
        ),
        case(
            format!(
                "{}\n[table.sources]\nkiosk = \"adempiere.c_order\"\n\n{}\n[[connection]]\nname = \"kiosk\"\ndriver = \"sqlite\"\nurl = \"k.db\"\n",
                table(key),
                connection("pgsql_lmp")
            ),
            LineOf("kiosk =", 9),
            &["key sources.kiosk", "is not a schema of a SQLite file"],
        ),
        case(
            table(&format!("{key}from = \"pgsql_hq\"\n\n[table.sources]\npgsql_hq = \"a.b.c\"\n")),
            LineOf("pgsql_hq = ", 12),
            &["key sources.pgsql_hq", "more than one dot"],
        ),
        case(
            format!(
                "{}from = \"pgsql_hq\"\nsources = {{ pgsql_lmp = \"c_order\" }}\n{}",
                table(key),
                connection("pgsql_lmp")
            ),
            LineOf("sources =", 25),
            &[
                "key sources.pgsql_lmp",
                "read from \"pgsql_hq\" only",
                "never from \"pgsql_lmp\"",
            ],
        ),
    ];
    for bad in ["PgSQL-LMP", "", "lmp branch"] {
        cases.push(case(
            format!("{JOURNAL}{}", connection(bad)),
            LineOf("name =", 8),
            &["key name", "[a-z0-9_]+"],
        ));
    }
    cases.push(case(
        format!("{JOURNAL}{}", connection("target")),
        LineOf("name =", 8),
        &["key name"],
    ));
    cases
}

#[test]
fn every_refused_config_points_at_its_place_and_says_why() {
    let cases = refused();
    for Case { text, at, says } in &cases {
        let (err, shown, _) = load_err(text);
        let want = match at {
            At::Anywhere => None,
            At::Fixed(line, column) => Some((*line, Some(*column))),
            At::LineOf(needle, column) => Some((line_of(text, needle), Some(*column))),
            At::LastLineOf(needle, column) => {
                let at = text.rfind(needle).unwrap();
                Some((text[..at].matches('\n').count() + 1, Some(*column)))
            }
            At::Line(needle) => Some((line_of(text, needle), None)),
        };
        match want {
            None => {}
            Some((line, Some(column))) => assert_at(&err, line, column),
            Some((line, None)) => assert_eq!(err.position().map(|p| p.0), Some(line), "{err}"),
        }
        for s in *says {
            assert!(
                shown.contains(s),
                "{s:?} is not in: {shown}\n--- config:\n{text}"
            );
        }
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
    assert!(cases.len() >= 30, "{} cases", cases.len());
}

#[test]
fn a_syntax_error_is_one_line_that_starts_with_file_line_column() {
    let text = format!("{JOURNAL}\n[engine\nthreads = 4\n");
    let (err, shown, path) = load_err(&text);
    assert!(matches!(err, ConfigError::Parse { .. }), "{err:?}");
    assert!(
        shown.starts_with(&format!("{}:4:8: ", path.display())),
        "{shown}"
    );
    assert!(!shown.contains('\n'), "one line: {shown}");
    let text = format!("{JOURNAL}\n[engine]\nthreads = 4\ntreads = 4\n");
    let (_, shown, path) = load_err(&text);
    assert!(
        shown.starts_with(&format!("{}:6:1: ", path.display())),
        "{shown}"
    );
}

#[test]
fn what_the_refusals_allow_loads() {
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
    let config = load_ok(&table("mode = \"full\"\n"));
    assert_eq!(config.tables[0].mode, Mode::Full);
    let config = load_ok(&table("key = [\"c_order_id\"]\nfrom = \"pgsql_hq\"\n"));
    assert!(!config.tables[0].branch_tagged());
}

#[test]
fn each_connection_reads_a_table_where_it_keeps_it() {
    let text = format!(
        "{JOURNAL}{}schema = \"adempiere\"\n\n\
         [[connection]]\nname = \"mysql_shop\"\ndriver = \"mariadb\"\nurl = \"mysql://r@h:3306/shop\"\n\n\
         [[connection]]\nname = \"my_erp\"\ndriver = \"mysql\"\nurl = \"mysql://r@h:3306/x\"\nschema = \"erp\"\n\n\
         [[connection]]\nname = \"kiosk\"\ndriver = \"sqlite\"\nurl = \"k.db\"\nschema = \"main\"\n\n\
         [[table]]\nmodel = \"MProduct\"\nsource = \"m_product\"\nkey = [\"m_product_id\"]\n\n\
         [table.sources]\nmysql_shop = \"shop.products\"\n\n\
         [[table]]\nmodel = \"COrder\"\nsource = \"sales.c_order\"\nkey = [\"c_order_id\"]\n\
         sources = {{ kiosk = \"orders\" }}\n",
        connection("pgsql_hq")
    );
    let config = load_ok(&text);
    let at = |model: &str, conn: &str| {
        let t = config.table(model).unwrap();
        config.source_of(t, conn).to_string()
    };
    assert_eq!(at("MProduct", "pgsql_hq"), "adempiere.m_product");
    assert_eq!(at("MProduct", "mysql_shop"), "shop.products");
    assert_eq!(at("MProduct", "my_erp"), "erp.m_product");
    assert_eq!(at("MProduct", "kiosk"), "main.m_product");
    // A schema in `source` (or in a `sources` entry) wins over the connection's.
    assert_eq!(at("COrder", "pgsql_hq"), "sales.c_order");
    assert_eq!(at("COrder", "my_erp"), "sales.c_order");
    assert_eq!(at("COrder", "kiosk"), "main.orders");
    // `mariadb` is the mysql driver.
    let shop = config.connection("mysql_shop").unwrap();
    assert_eq!(
        branchsync::driver::registry::find(&shop.driver).map(|d| d.name),
        Some("mysql")
    );
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
        "sources",
    ] {
        assert!(
            text.contains(&format!("\n{key} = ")),
            "{key} is not shown in the example"
        );
    }
}
