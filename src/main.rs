//! The `poolscope` command: parse arguments, run, map the result to an exit code.

fn main() -> std::process::ExitCode {
    poolscope::cli::main()
}
