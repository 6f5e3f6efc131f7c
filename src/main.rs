use std::process::ExitCode;

use pricegraph::config::Cli;

/// mimalloc: a storefront request makes thousands of small allocations
/// (response trees, futures); glibc's malloc took a fifth of the CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// An error is one line on standard error and exit code 1.
#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse_with_default();
    match pricegraph::cli::run(cli.command).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("pricegraph: {error:#}");
            ExitCode::FAILURE
        }
    }
}
