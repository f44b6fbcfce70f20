//! `backchannel`: see the library's `cli` module.

fn main() -> std::process::ExitCode {
    backchannel_harness::cli::main()
}
