//! Logging: JSON lines (one object per event), filtered by `RUST_LOG` or
//! `LOG_LEVEL` (default `info`).
//!
//! The filter is `tracing_subscriber`'s `Targets`: a level (`debug`) or
//! comma-separated `target=level` directives (`info,shared=debug`). It is
//! `EnvFilter`'s syntax without span and field filters, and it needs no regex
//! engine in every binary (issue 27: a smaller binary loads faster).

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The filter for a `RUST_LOG`/`LOG_LEVEL` value: `info` when it is absent
/// or not valid directives.
pub fn filter(directives: Option<&str>) -> Targets {
    directives
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .and_then(|d| d.to_ascii_lowercase().parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

/// Installs the global subscriber; a second call is a no-op.
pub fn init() {
    let directives = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("LOG_LEVEL"))
        .ok();
    let format = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::io::stdout);
    let _ = tracing_subscriber::registry()
        .with(format)
        .with(filter(directives.as_deref()))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::filter;
    use tracing::Level;
    use tracing_subscriber::filter::LevelFilter;

    #[test]
    fn absent_or_invalid_directives_mean_info() {
        for value in [None, Some(""), Some("  "), Some("[span]=bogus=")] {
            let f = filter(value);
            assert_eq!(f.default_level(), Some(LevelFilter::INFO), "{value:?}");
        }
    }

    #[test]
    fn a_level_or_per_target_directives() {
        let f = filter(Some("DEBUG"));
        assert!(f.would_enable("shared::engine", &Level::DEBUG));
        assert!(!f.would_enable("shared::engine", &Level::TRACE));
        let f = filter(Some("warn,shared::engine=trace"));
        assert!(f.would_enable("shared::engine::wuts", &Level::TRACE));
        assert!(!f.would_enable("shared::store", &Level::INFO));
        assert!(f.would_enable("shared::store", &Level::WARN));
    }
}
