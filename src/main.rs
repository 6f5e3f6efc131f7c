use anyhow::Context;
use pricegraph::config::Cli;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse_with_default();
    pricegraph::cli::run(cli.command).await.context("pricegraph failed")
}
