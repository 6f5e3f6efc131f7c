use anyhow::Context;
use pricegraph::config::Cli;

/// mimalloc: a storefront request makes thousands of small allocations
/// (response trees, futures); glibc's malloc took a fifth of the CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse_with_default();
    pricegraph::cli::run(cli.command).await.context("pricegraph failed")
}
