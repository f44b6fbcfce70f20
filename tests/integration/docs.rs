//! The documents stay true: what the README says of the checks and of the built-in
//! suite's size is generated from the code, or held to it here. `BACKCHANNEL_BLESS=1`
//! rewrites what drifted.

use backchannel_harness::check::registry;
use backchannel_harness::pipeline::{self, Plan, RunOptions, Selection};
use backchannel_harness::runner::{ClientSpec, RunConfig};
use backchannel_harness::scenario::builtin;

use crate::support::{exe, root};

const BEGIN: &str = "<!-- checks: generated from check::registry (`backchannel list --checks`); tests/integration/docs.rs holds this to it -->\n";
const END: &str = "<!-- end of checks -->";

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

/// Compare the README with what it should say; bless or fail.
fn hold(readme: &str, want: &str, what: &str) {
    if readme == want {
        return;
    }
    if std::env::var_os("BACKCHANNEL_BLESS").is_some() {
        std::fs::write(root().join("README.md"), want).unwrap();
        return;
    }
    let line = readme.lines().zip(want.lines()).position(|(a, b)| a != b).map_or(0, |i| i + 1);
    panic!("README.md line {line}: {what} is stale; rerun this test with BACKCHANNEL_BLESS=1");
}

#[test]
fn the_readme_check_tables_are_the_registry() {
    let text = readme();
    let start = text.find(BEGIN).expect("README.md has the checks marker") + BEGIN.len();
    let end = start + text[start..].find(END).expect("README.md has the end-of-checks marker");
    let want = format!("{}{}\n{}", &text[..start], registry::markdown(), &text[end..]);
    hold(&text, &want, "the check tables");
}

#[test]
fn the_readme_counts_the_built_in_suite() {
    let scenarios: Vec<_> = builtin::compile_all().unwrap();
    let plan = Plan::new(&scenarios, &Selection::default(), &ClientSpec::Reference).unwrap();
    let options = RunOptions {
        jobs: pipeline::default_jobs(&ClientSpec::Reference),
        strict: true,
        label: "the reference client".into(),
        handle_signals: false,
    };
    let summary = pipeline::run(&plan, RunConfig::reference(exe()), &options, &mut []).unwrap();
    let t = summary.totals();
    assert_eq!(
        (t.passed, summary.unjudged.len()),
        (t.checks, 0),
        "the built-in suite passes against the reference client"
    );
    let (n, cases, checks) = (scenarios.len(), t.cases, t.checks);
    let text = readme();
    let sentence = regex::Regex::new(r"built-in suite is [0-9]+ scenarios, [0-9]+ cases and [0-9 ]+ checks").unwrap();
    let summary_line = regex::Regex::new(r"PASS: [0-9]+ cases, [0-9]+ checks: [0-9]+ passed,").unwrap();
    assert!(sentence.is_match(&text) && summary_line.is_match(&text), "README.md no longer says the suite's size");
    let want = sentence
        .replace(&text, format!("built-in suite is {n} scenarios, {cases} cases and {} checks", spaced(checks)));
    let want = summary_line.replace(&want, format!("PASS: {cases} cases, {checks} checks: {checks} passed,"));
    hold(&text, &want, "the size of the built-in suite");
}

/// `10598` as `10 598`.
fn spaced(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[test]
fn the_readme_counts_the_scenarios_of_each_area() {
    // The rows of the coverage table `| area | files | … |` (`http`, `transport` share one).
    let text = readme();
    let mut want = String::new();
    let mut in_table = false;
    for line in text.split_inclusive('\n') {
        in_table = line.starts_with("| area | files |") || (in_table && line.starts_with('|'));
        let cells: Vec<&str> = line.split('|').collect();
        let counted = in_table && cells.len() > 3 && cells[2].trim().parse::<usize>().is_ok();
        if !counted {
            want.push_str(line);
            continue;
        }
        let areas: Vec<&str> = cells[1].split(',').map(|a| a.trim().trim_matches('`')).collect();
        let files: usize = areas
            .iter()
            .map(|a| {
                let dir = root().join("scenarios").join(a);
                assert!(dir.is_dir(), "README.md names the scenario area `{a}`, which does not exist");
                std::fs::read_dir(dir)
                    .unwrap()
                    .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "yaml"))
                    .count()
            })
            .sum();
        cells[..2].iter().for_each(|c| want.push_str(&format!("{c}|")));
        want.push_str(&format!(" {files} |"));
        want.push_str(&cells[3..].join("|"));
    }
    hold(&text, &want, "a scenario area's file count");
}

#[test]
fn the_readme_lists_every_client_and_gateway_profile() {
    // Each `clients/<name>.yaml` and `gateways/<name>.yaml` has its row in the README's
    // tables (`| \`<name>\` | …`), and the count of real clients is the profiles'.
    let text = readme();
    let names = |dir: &str| -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                (p.extension().is_some_and(|x| x == "yaml"))
                    .then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
            })
            .collect();
        n.sort();
        n
    };
    for name in names("clients").iter().chain(&names("gateways")) {
        assert!(text.contains(&format!("| `{name}` |")), "README.md has no table row for the profile `{name}`");
    }
    let clients = names("clients").len();
    let word = [
        "Zero",
        "One",
        "Two",
        "Three",
        "Four",
        "Five",
        "Six",
        "Seven",
        "Eight",
        "Nine",
        "Ten",
        "Eleven",
        "Twelve",
        "Thirteen",
        "Fourteen",
        "Fifteen",
        "Sixteen",
        "Seventeen",
        "Eighteen",
        "Nineteen",
        "Twenty",
    ]
    .get(clients)
    .copied()
    .unwrap_or("Many");
    assert!(
        text.contains(&format!("{word} real clients ship as profiles")),
        "README.md does not say \"{word} real clients ship as profiles\" ({clients} in clients/)"
    );
}
