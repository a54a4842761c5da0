//! Prometheus text as the tests read it: parsed by a real text-format
//! parser, one gauge looked up by name and labels.

// Each test binary compiles tests/common; most of them read no metrics.
#![allow(dead_code)]

/// A parsed exposition.
pub struct Metrics(prometheus_parse::Scrape);

impl Metrics {
    pub fn parse(text: &str) -> Metrics {
        Metrics(prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap())
    }

    /// The value of the first sample of `name` carrying all of `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.0
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
                ref other => panic!("{name}: {other:?}"),
            })
    }
}
