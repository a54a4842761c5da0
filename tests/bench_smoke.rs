//! The benchmark runs end to end on a small table and reports every case
//! (figures themselves are for `bench` on a quiet machine, not for tests).

use assert_cmd::Command;

#[test]
fn bench_reports_every_case_against_the_pipe() {
    let pg = std::env::var("BRANCHSYNC_TEST_PG")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into());
    let out = Command::cargo_bin("branchsync")
        .unwrap()
        .args([
            "bench", "--rows", "3000", "--reps", "1", "--json", "--pg", &pg,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rows"], 3000);
    let cases = report["cases"].as_array().unwrap();
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for want in [
        "full (pg → pg)",
        "upsert, unchanged",
        "upsert, 5% changed",
        "incremental, unchanged",
        "full (pg → sqlite)",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    for c in cases {
        assert!(c["rows_per_s"].as_f64().unwrap() > 0.0, "{c}");
        if c["name"] != "psql binary COPY pipe" {
            let rss = c["peak_rss_mb"].as_f64().unwrap();
            assert!(rss > 1.0 && rss < 100.0, "{c}");
        }
    }
}

/// `--mysql`: both MySQL cases run against their client pipes, and the
/// rows arrive (a pipe that moved nothing would make any ratio meaningless).
#[test]
fn bench_mysql_cases_run_against_their_pipes() {
    let pg = std::env::var("BRANCHSYNC_TEST_PG")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into());
    let my = std::env::var("BRANCHSYNC_TEST_MYSQL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let out = Command::cargo_bin("branchsync")
        .unwrap()
        .args([
            "bench", "--rows", "2000", "--reps", "1", "--json", "--modes", "pipe", "--pg", &pg,
            "--mysql", &my,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cases = report["cases"].as_array().unwrap();
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for want in [
        "mysql --batch | psql COPY pipe",
        "full (mysql → pg)",
        "psql COPY | mysql LOAD DATA pipe",
        "full (pg → mysql)",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    for c in cases
        .iter()
        .filter(|c| c["name"].as_str().unwrap().starts_with("full"))
    {
        assert!(c["vs_pipe"].as_f64().unwrap() > 0.0, "{c}");
        let rss = c["peak_rss_mb"].as_f64().unwrap();
        assert!(rss > 1.0 && rss < 100.0, "{c}");
    }
}
