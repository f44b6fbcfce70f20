//! The client's log output: lines from its stderr and stdout, each with the level
//! it was logged at when one can be read.
//!
//! Level parsing is pluggable ([`LevelParser`]): [`AutoFormat`] reads tracing's
//! fmt output, Python `logging` (`WARNING:name:msg`, `… - WARNING - …`),
//! env_logger, logfmt/slog (`level=warn`) and JSON lines (`level`, `levelname`,
//! `severity`, pino's numeric levels); [`RegexFormat`] takes a user regex with a
//! `level` group. A line without a level of its own inherits the previous line's
//! (a continuation of a multi-line event).

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// A log level, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// TRACE.
    Trace,
    /// DEBUG.
    Debug,
    /// INFO (and NOTICE).
    Info,
    /// WARN / WARNING.
    Warn,
    /// ERROR and above (CRITICAL, FATAL, …).
    Error,
}

impl Level {
    /// Read a level name or number (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_uppercase().as_str() {
            "TRACE" | "TRC" | "10" => Self::Trace,
            "DEBUG" | "DBG" | "20" => Self::Debug,
            "INFO" | "INF" | "NOTICE" | "30" => Self::Info,
            "WARN" | "WARNING" | "WRN" | "40" => Self::Warn,
            "ERROR" | "ERR" | "CRITICAL" | "CRIT" | "FATAL" | "PANIC" | "ALERT" | "EMERG" | "50" | "60" => Self::Error,
            _ => return None,
        })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Trace => "TRACE",
            Self::Debug => "DEBUG",
            Self::Info => "INFO",
            Self::Warn => "WARN",
            Self::Error => "ERROR",
        })
    }
}

/// Which output a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// The client's stderr.
    Stderr,
    /// The client's stdout.
    Stdout,
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stderr => "stderr",
            Self::Stdout => "stdout",
        })
    }
}

/// One line of client output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// Where it came from.
    pub stream: Stream,
    /// 1-based line number within its stream.
    pub number: usize,
    /// The text, ANSI escapes removed.
    pub text: String,
    /// The level the line states.
    pub level: Option<Level>,
    /// The level of the event this line continues, when it states none itself.
    pub inherited: Option<Level>,
}

impl LogLine {
    /// The level that applies: stated or inherited.
    pub fn effective_level(&self) -> Option<Level> {
        self.level.or(self.inherited)
    }

    /// `stderr:12`.
    pub fn location(&self) -> String {
        format!("{}:{}", self.stream, self.number)
    }
}

/// Reads the level of one log line.
pub trait LevelParser: fmt::Debug + Send + Sync {
    /// The level the line states, if it states one.
    fn level(&self, line: &str) -> Option<Level>;
}

/// JSON lines, `level=` pairs, then the first level keyword on the line.
#[derive(Debug, Clone)]
pub struct AutoFormat {
    keyword: Regex,
    pair: Regex,
}

impl Default for AutoFormat {
    /// Compiled once per process (a `Regex` clone shares it): every case reads logs.
    fn default() -> Self {
        static KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(
                r"(?:^|[^A-Za-z0-9_])(TRACE|DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|CRITICAL|FATAL)(?:$|[^A-Za-z0-9_])",
            )
            .expect("static regex")
        });
        static PAIR: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"(?i)(?:^|\s)(?:level|lvl|severity)=["']?([A-Za-z]+)"#).expect("static regex")
        });
        Self { keyword: KEYWORD.clone(), pair: PAIR.clone() }
    }
}

impl LevelParser for AutoFormat {
    fn level(&self, line: &str) -> Option<Level> {
        let trimmed = line.trim_start();
        if trimmed.starts_with('{')
            && let Ok(serde_json::Value::Object(obj)) = serde_json::from_str::<serde_json::Value>(trimmed)
        {
            for key in ["level", "levelname", "severity", "log.level", "lvl"] {
                match obj.get(key) {
                    Some(serde_json::Value::String(s)) => return Level::from_name(s),
                    Some(serde_json::Value::Number(n)) => return Level::from_name(&n.to_string()),
                    _ => {}
                }
            }
            return None;
        }
        if let Some(c) = self.pair.captures(line) {
            return Level::from_name(&c[1]);
        }
        self.keyword.captures(line).and_then(|c| Level::from_name(&c[1]))
    }
}

/// A user-supplied regex with a named group `level`.
#[derive(Debug, Clone)]
pub struct RegexFormat(Regex);

impl RegexFormat {
    /// Compile; the regex must have a `level` group.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let re = Regex::new(pattern).map_err(|e| e.to_string())?;
        if !re.capture_names().flatten().any(|n| n == "level") {
            return Err("the regex has no `(?P<level>…)` group".into());
        }
        Ok(Self(re))
    }
}

impl LevelParser for RegexFormat {
    fn level(&self, line: &str) -> Option<Level> {
        self.0.captures(line).and_then(|c| c.name("level")).and_then(|m| Level::from_name(m.as_str()))
    }
}

/// Remove ANSI escape sequences (CSI and OSC).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                // CSI: parameters and intermediates, then one final byte in @..~
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                // OSC: until BEL or ESC \
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Split captured output into lines and read their levels.
pub fn parse(stream: Stream, bytes: &[u8], parser: &dyn LevelParser) -> Vec<LogLine> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut last = None;
    for (i, raw) in text.lines().enumerate() {
        let text = strip_ansi(raw);
        let level = parser.level(&text);
        let inherited = if level.is_none() && !text.trim().is_empty() { last } else { None };
        if level.is_some() {
            last = level;
        }
        out.push(LogLine { stream, number: i + 1, text, level, inherited });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lvl(line: &str) -> Option<Level> {
        AutoFormat::default().level(line)
    }

    #[test]
    fn reads_common_formats() {
        let cases = [
            ("2026-11-25T13:36:57.123456Z  WARN backchannel_reference_client: refused", Some(Level::Warn)),
            ("\u{1b}[2m2026-11-25T13:36:57Z\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m x: y", Some(Level::Warn)),
            ("WARNING:mcp.client:Unhandled request sampling/createMessage", Some(Level::Warn)),
            ("2026-11-25 13:36:57,123 - litellm - ERROR - boom", Some(Level::Error)),
            ("[2026-11-25T13:36:57Z INFO  app] started", Some(Level::Info)),
            ("time=2026-11-25T13:36:57Z level=warn msg=\"refused\"", Some(Level::Warn)),
            (r#"{"timestamp":"x","level":"DEBUG","fields":{"message":"m"}}"#, Some(Level::Debug)),
            (r#"{"levelname":"WARNING","message":"m"}"#, Some(Level::Warn)),
            (r#"{"level":40,"msg":"pino"}"#, Some(Level::Warn)),
            ("  at Object.<anonymous> (file.js:1:1)", None),
            ("INFORMATION is not a level", None),
            ("DEBUG: ok", Some(Level::Debug)),
        ];
        for (line, want) in cases {
            assert_eq!(lvl(&strip_ansi(line)), want, "{line}");
        }
    }

    #[test]
    fn continuation_lines_inherit() {
        let out = parse(Stream::Stderr, b"WARN first\n  continued\n\nINFO next\nplain\n", &AutoFormat::default());
        let levels: Vec<_> = out.iter().map(|l| (l.level, l.inherited)).collect();
        assert_eq!(
            levels,
            [
                (Some(Level::Warn), None),
                (None, Some(Level::Warn)),
                (None, None),
                (Some(Level::Info), None),
                (None, Some(Level::Info))
            ]
        );
        assert_eq!(out[1].location(), "stderr:2");
    }

    #[test]
    fn regex_format_needs_a_level_group() {
        assert!(RegexFormat::new("^(x)").is_err());
        let f = RegexFormat::new(r"^\[(?P<level>\w+)\]").unwrap();
        assert_eq!(f.level("[warning] hi"), Some(Level::Warn));
        assert_eq!(f.level("warning hi"), None);
    }

    #[test]
    fn ansi_is_removed() {
        assert_eq!(strip_ansi("\u{1b}[1;31mred\u{1b}[0m \u{1b}]0;title\u{7}x"), "red x");
    }
}
