//! The physical limit of the path: PostgreSQL's own binary COPY piped from
//! one `psql` into another. Used only as the benchmark's baseline.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn psql_available() -> bool {
    Command::new("psql")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Time `COPY src_table TO STDOUT (FORMAT binary) | COPY dst_table FROM STDIN (FORMAT binary)`.
pub fn run(
    src_url: &str,
    src_table: &str,
    dst_url: &str,
    dst_table: &str,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut out = Command::new("psql")
        .args([src_url, "-qAtX", "-c"])
        .arg(format!("COPY {src_table} TO STDOUT (FORMAT binary)"))
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = out.stdout.take().expect("piped");
    let status_in = Command::new("psql")
        .args([dst_url, "-qAtX", "-c"])
        .arg(format!("COPY {dst_table} FROM STDIN (FORMAT binary)"))
        .stdin(stdout)
        .stdout(Stdio::null())
        .status()?;
    let status_out = out.wait()?;
    if !status_in.success() || !status_out.success() {
        anyhow::bail!("the psql pipe failed");
    }
    Ok(start.elapsed())
}
